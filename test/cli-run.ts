// The CLI in-process, as the tests run it: main() with its output captured, in a few milliseconds instead of a
// process start. The true end-to-end tests (signals, exit codes of the process, the packed package) spawn bin/.
import { main } from '../src/cli/main.ts';

/** What a command printed and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `pgconform <args>` in this process. DATABASE_URL is cleared (as the spawned tests do) unless `env` sets it;
 * `cwd` switches the working directory for the command's duration (the tests of a file run one at a time).
 */
export async function pgconform(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const env = { DATABASE_URL: '', ...options.env };
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const cwd = process.cwd();
  Object.assign(process.env, env);
  if (options.cwd) process.chdir(options.cwd);
  try {
    const code = await main(args, { out: (line) => stdout.push(`${line}\n`), err: (line) => stderr.push(`${line}\n`) });
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    process.chdir(cwd);
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
