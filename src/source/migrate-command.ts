import { spawn } from 'node:child_process';
import { redactUrl, settingsToUrl, type ConnectionSettings } from '../db/connection.ts';
import { KitError } from '../errors/kit-error.ts';
import type { SchemaSource } from './schema-source.ts';

/** How long a migration command may run by default: ten minutes. */
export const DEFAULT_MIGRATE_TIMEOUT_MS = 10 * 60 * 1000;

/** How many of the command's last output lines are kept to show when it fails. */
const TAIL_LINES = 20;

/** How to run the user's migration tool. */
export interface MigrateCommandOptions {
  /** Working directory of the command (default: the process's). */
  readonly cwd?: string;
  /** Longest the command may run; past it the command is killed and the run stops with an infrastructure error. */
  readonly timeoutMs?: number;
  /** Where the command's output goes: every line as it comes when `verbose`, else its last lines when it fails. */
  readonly show?: (line: string) => void;
  /** Show every line of output as it comes (the CLI's --debug). */
  readonly verbose?: boolean;
}

/**
 * A schema built by the user's own migration tool (`npx prisma migrate deploy`, `alembic upgrade head`):
 * a shell command run with DATABASE_URL and PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE pointing at the
 * sandbox's template database. A non-zero exit is a schema error naming the command, its exit code and
 * its last line on stderr.
 */
export function migrateCommand(command: string, options: MigrateCommandOptions = {}): SchemaSource {
  return {
    labels: [`$ ${redactUrl(command)}`],
    async build({ settings }) {
      await runMigration(command, settings, options);
      return [];
    },
  };
}

/** The environment that points a migration tool at the template database (and at nothing else). */
export function migrationEnvironment(settings: ConnectionSettings, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    DATABASE_URL: settingsToUrl(settings),
    PGHOST: settings.host,
    PGPORT: String(settings.port),
    PGUSER: settings.user,
    PGDATABASE: settings.database,
  };
  // A password inherited for another server must not be offered to this one; a service file would override the rest.
  delete env.PGPASSWORD;
  delete env.PGSERVICE;
  if (settings.password) env.PGPASSWORD = settings.password;
  return env;
}

async function runMigration(command: string, settings: ConnectionSettings, options: MigrateCommandOptions): Promise<void> {
  const shown = redactUrl(command);
  const timeoutMs = options.timeoutMs ?? DEFAULT_MIGRATE_TIMEOUT_MS;
  // Its own process group, so that a timeout ends the tool's children too (npx starts node, which may start more).
  const child = spawn(command, { shell: true, cwd: options.cwd, env: migrationEnvironment(settings), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  // The kit may exit (interrupt, error) while the tool runs: never leave it behind.
  process.once('exit', killGroup);
  const secret = settings.password;
  const clean = (line: string) => redactUrl(secret ? line.split(secret).join('***') : line);
  const tail: string[] = [];
  let lastError = '';
  const collect = (stream: NodeJS.ReadableStream, isError: boolean) => {
    let pending = '';
    stream.setEncoding('utf8');
    const take = (line: string) => {
      const text = clean(line.trimEnd());
      if (text === '') return;
      if (isError) lastError = text;
      tail.push(text);
      if (tail.length > TAIL_LINES) tail.shift();
      if (options.verbose) options.show?.(text);
    };
    stream.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(take);
    });
    stream.on('end', () => take(pending));
  };
  collect(child.stdout!, false);
  collect(child.stderr!, true);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
    // A process that left the group may still hold the pipes open: stop waiting for them.
    child.stdout!.destroy();
    child.stderr!.destroy();
  }, timeoutMs);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  }).finally(() => {
    clearTimeout(timer);
    process.removeListener('exit', killGroup);
  });
  if (exit.code === 0) return;
  const where = `--migrate-cmd "${shown}"`;
  if (timedOut) {
    throw new KitError('infrastructure', `the migration command did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`, {
      where,
      fix: 'check that it does not wait for input or a lock; --migrate-timeout gives it longer',
    });
  }
  const shownNow = !options.verbose && options.show !== undefined && tail.length > 0;
  if (shownNow) for (const line of tail) options.show!(line);
  if (exit.error || exit.code === 127 || exit.code === 126) {
    const program = shown.trim().split(/\s+/)[0] ?? shown;
    throw new KitError('schema', `the migration command cannot be started: ${exit.code === 126 ? `${program} is not executable` : `${program} was not found`}`, {
      where,
      fix: 'install the tool or give its full path; the command runs in a shell, in the working directory',
      cause: exit.error,
    });
  }
  const status = exit.code === null ? `was killed by ${exit.signal}` : `failed with exit code ${exit.code}`;
  throw new KitError('schema', `the migration command ${status}${lastError ? `: ${lastError}` : ''}`, {
    where,
    fix: options.verbose ? 'its output is above' : shownNow ? 'its last lines are above; --debug shows all of it' : 'run it by hand against an empty database to see why',
  });
}
