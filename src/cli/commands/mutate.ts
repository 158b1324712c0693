import { resolve } from 'node:path';
import { DEFAULT_SHAPE, type IsolationLevel } from '../../engine/scenario.ts';
import { ExitCode } from '../../errors/kit-error.ts';
import { mutateOnServer, mutationExitCode, type MutationResult } from '../../mutation/mutation-run.ts';
import { mutationLines, ruleLabel } from '../../mutation/mutation-text.ts';
import type { CommandContext } from '../context.ts';
import { handleInterrupts } from '../interrupt.ts';
import { selectRules, type RuleSelectionArgs } from '../rule-selection.ts';
import { schemaSourceOf, type SchemaArgs } from '../schema-options.ts';
import { VERSION } from '../version.ts';
import { providerOf, type ServerArgs } from '../server-options.ts';
import { mutationDocument } from '../../mutation/mutation-document.ts';
import { mutationRenderings } from '../../mutation/mutation-reports.ts';
import { chosenFormats, writeDocument } from '../../report/document-output.ts';

/** Arguments of `pgconform mutate`. */
export interface MutateArgs extends RuleSelectionArgs, SchemaArgs, ServerArgs {
  runs: number;
  seed?: number;
  sessions: number;
  /** One or several levels: each rule's mutants are checked at each. */
  isolation: IsolationLevel | readonly IsolationLevel[];
  workers: number;
  /** Run and score every object's mutants (default: those of objects that do not enforce the rule are listed, not run). */
  allObjects?: boolean;
  /** Where the file formats are written (default reports/ when no --format is given); without it, the one --format goes to standard output. */
  reportDir?: string;
  /** console, json, junit, markdown (default: all of them, the files in --report-dir). */
  format?: string[];
  json?: boolean;
  quiet?: boolean;
}

/**
 * pgconform mutate: how strong the specs are. Mutants of the schema are derived from its catalog, every
 * rule is checked on each mutant of the objects that enforce it, and survivors are classified by a
 * behaviour diff (exit 1 when one changes behaviour the spec should state, or a rule fails on the
 * original schema; 0 otherwise).
 */
export async function mutateCommand(args: MutateArgs, context: CommandContext): Promise<number> {
  // Without --format, everything as before --format existed: the console, and the files in reports/.
  const reportDir = args.reportDir ?? (args.format?.length ? undefined : 'reports');
  const formats = chosenFormats(args.format, reportDir);
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 31);
  const levels: readonly IsolationLevel[] = typeof args.isolation === 'string' ? [args.isolation] : args.isolation;
  const specs = await selectRules(args);
  const schema = await schemaSourceOf(args, context);
  const provider = providerOf(args, context);
  const progress = (line: string) => (args.quiet ? undefined : context.err(line));
  progress(`pgconform ${VERSION} mutate: ${specs.length} rule(s), seed ${seed}, ${args.runs} scenarios per check, ${levels.join(', ')}, ${provider.name} server`);

  const server = await provider.start();
  const interrupt = new AbortController();
  const stopOnSignal = handleInterrupts(server, context, interrupt);
  let result: MutationResult;
  try {
    result = await mutateOnServer(server, {
      specs,
      schema,
      named: args.specs.length > 0,
      isolation: levels,
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
  const exitCode = mutationExitCode(result);
  const text = () => (args.json ? JSON.stringify(document, null, 2) : [...mutationLines(result), '', verdictLine(result, exitCode, seed)].join('\n'));
  const files = await writeDocument(formats, reportDir === undefined ? undefined : resolve(reportDir), mutationRenderings(document, text), context.out);
  if (files.length > 0) progress(`mutation report: ${files.join(', ')}`);
  return exitCode;
}

/** The closing sentence: what the exit code means for this run. */
function verdictLine(result: MutationResult, exitCode: number, seed: number): string {
  const failing = result.rules.filter((r) => r.baseline.verdict !== 'pass').map(ruleLabel);
  const weak = result.rules.filter((r) => r.weakSpec > 0).map((r) => `${ruleLabel(r)} (${r.weakSpec})`);
  const parts = [
    ...(failing.length > 0 ? [`fails on the original schema: ${failing.join(', ')}`] : []),
    ...(weak.length > 0 ? [`behaviour-changing mutants survive: ${weak.join(', ')}`] : []),
  ];
  if (exitCode === ExitCode.Pass) return `every mutant that changes what a rule allows is killed (seed ${seed})`;
  return `${parts.join('; ')} (seed ${seed})`;
}
