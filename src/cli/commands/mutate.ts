import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_SHAPE, type IsolationLevel } from '../../engine/scenario.ts';
import { ExitCode, KitError } from '../../errors/kit-error.ts';
import { mutateOnServer, mutationExitCode, type MutationResult } from '../../mutation/mutation-run.ts';
import { mutationLines } from '../../mutation/mutation-text.ts';
import { readMigrations, readSources } from '../../source/read-source.ts';
import type { CommandContext } from '../context.ts';
import { handleInterrupts } from '../interrupt.ts';
import { selectRules, type RuleSelectionArgs } from '../rule-selection.ts';
import { VERSION } from '../version.ts';
import { providerOf, type ServerArgs } from '../server-options.ts';
import { mutationDocument } from '../../mutation/mutation-document.ts';
import { writeMutationReports } from '../../mutation/mutation-reports.ts';

/** Arguments of `pgconform mutate`. */
export interface MutateArgs extends RuleSelectionArgs, ServerArgs {
  schema?: string[];
  /** A migrations folder, in any layout read-source knows (instead of --schema). */
  migrations?: string;
  runs: number;
  seed?: number;
  sessions: number;
  isolation: IsolationLevel;
  workers: number;
  /** Score every object's mutants (default: only those of objects that enforce the rule). */
  allObjects?: boolean;
  reportDir: string;
  json?: boolean;
  quiet?: boolean;
}

/** Name of the JSON report in --report-dir. */
export const MUTATION_REPORT = 'mutate.json';

/**
 * pgconform mutate: how strong the specs are. Mutants of the schema are derived from its catalog, every
 * rule is checked on each mutant of the objects touching its tables, and survivors are classified by a
 * behaviour diff (exit 1 when one changes behaviour the spec should state, or a rule fails on the
 * original schema; 0 otherwise).
 */
export async function mutateCommand(args: MutateArgs, context: CommandContext): Promise<number> {
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 31);
  const specs = await selectRules(args);
  if (args.schema?.length && args.migrations !== undefined) throw new KitError('usage', '--schema and --migrations name the schema in different ways: give only one', { fix: 'one of --schema, --migrations' });
  const onLayout = args.quiet ? undefined : (line: string) => context.err(`pgconform: ${line}`);
  const schema = args.migrations !== undefined ? await readMigrations(args.migrations, { onLayout }) : args.schema?.length ? await readSources(args.schema, { onLayout }) : undefined;
  const provider = providerOf(args, context);
  const progress = (line: string) => (args.quiet ? undefined : context.err(line));
  progress(`pgconform ${VERSION} mutate: ${specs.length} rule(s), seed ${seed}, ${args.runs} scenarios per check, ${args.isolation}, ${provider.name} server`);

  const server = await provider.start();
  const interrupt = new AbortController();
  const stopOnSignal = handleInterrupts(server, context, interrupt);
  let result: MutationResult;
  try {
    result = await mutateOnServer(server, {
      specs,
      schema,
      named: args.specs.length > 0,
      isolation: args.isolation,
      runs: args.runs,
      seed,
      shape: { ...DEFAULT_SHAPE, maxSessions: args.sessions },
      workers: args.workers,
      allObjects: args.allObjects,
      signal: interrupt.signal,
      onProgress: progress,
    });
  } finally {
    stopOnSignal();
    await server.stop();
  }

  const document = mutationDocument(result, VERSION);
  const reportDir = resolve(args.reportDir);
  await mkdir(reportDir, { recursive: true });
  const file = join(reportDir, MUTATION_REPORT);
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  const others = await writeMutationReports(reportDir, document);
  const exitCode = mutationExitCode(result);
  if (args.json) {
    context.out(JSON.stringify(document, null, 2));
  } else {
    context.out(mutationLines(result).join('\n'));
    context.out('');
    context.out(verdictLine(result, exitCode, seed));
  }
  progress(`mutation report: ${[file, ...others].join(', ')}`);
  return exitCode;
}

/** The closing sentence: what the exit code means for this run. */
function verdictLine(result: MutationResult, exitCode: number, seed: number): string {
  const failing = result.rules.filter((r) => r.baseline.verdict !== 'pass').map((r) => r.ruleId);
  const weak = result.rules.filter((r) => r.weakSpec > 0).map((r) => `${r.ruleId} (${r.weakSpec})`);
  const parts = [
    ...(failing.length > 0 ? [`fails on the original schema: ${failing.join(', ')}`] : []),
    ...(weak.length > 0 ? [`behaviour-changing mutants survive: ${weak.join(', ')}`] : []),
  ];
  if (exitCode === ExitCode.Pass) return `every mutant that changes what a rule allows is killed (seed ${seed})`;
  return `${parts.join('; ')} (seed ${seed})`;
}
