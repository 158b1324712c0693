import { resolve } from 'node:path';
import { Corpus } from '../../corpus/corpus.ts';
import { runOnServer, type RunListener, type RunResult } from '../../engine/run.ts';
import { DEFAULT_SHAPE, type IsolationLevel } from '../../engine/scenario.ts';
import { exitCodeOf, toDocument } from '../../report/report-document.ts';
import { createReporters, DEFAULT_FORMATS } from '../../report/registry.ts';
import type { Reporter } from '../../report/reporter.ts';
import { KitError } from '../../errors/kit-error.ts';
import type { CommandContext } from '../context.ts';
import { handleInterrupts } from '../interrupt.ts';
import { selectRules, type RuleSelectionArgs } from '../rule-selection.ts';
import { schemaSourceOf, type SchemaArgs } from '../schema-options.ts';
import { VERSION } from '../version.ts';
import { providerOf, type ServerArgs } from '../server-options.ts';

/** Arguments of `pgconform run`. */
export interface RunArgs extends RuleSelectionArgs, SchemaArgs, ServerArgs {
  runs: number;
  seed?: number;
  path?: string;
  isolation: IsolationLevel[];
  sessions: number;
  timeBudget?: number;
  stress?: boolean;
  workers: number;
  shard?: string;
  /** Corpus folder; false or '' switches it off. */
  corpus?: string | false;
  statementTimeout?: number;
  reportDir: string;
  format?: string[];
  quiet?: boolean;
}

/** pgconform run: checks the rules against a live schema and writes the reports. */
export async function runCommand(args: RunArgs, context: CommandContext): Promise<number> {
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 31);
  const reportDir = resolve(args.reportDir);
  const reporters = createReporters(args.format ?? DEFAULT_FORMATS, { reportDir, out: context.out, quiet: args.quiet ?? false });
  const specs = await selectRules(args);
  const provider = providerOf(args, context);
  const schema = await schemaSourceOf(args, context);
  if (!args.quiet) context.err(`pgconform ${VERSION}: ${specs.length} rule(s), seed ${seed}, ${args.runs} runs, ${args.isolation.join(', ')}, ${provider.name} server`);
  const server = await provider.start();
  const interrupt = new AbortController();
  const stopOnSignal = handleInterrupts(server, context, interrupt);
  let result: RunResult;
  try {
    result = await runOnServer(server, {
      specs,
      schema,
      isolation: args.isolation,
      runs: args.runs,
      seed,
      path: args.path,
      timeBudgetMs: args.timeBudget ? args.timeBudget * 1000 : undefined,
      shape: { ...DEFAULT_SHAPE, maxSessions: args.sessions },
      stress: args.stress,
      workers: args.workers,
      shard: args.shard ? parseShard(args.shard) : undefined,
      corpus: args.corpus ? new Corpus(resolve(args.corpus)) : undefined,
      statementTimeoutMs: args.statementTimeout,
      signal: interrupt.signal,
      listener: fanOut(reporters),
    });
  } finally {
    stopOnSignal();
    await server.stop();
  }
  const document = toDocument(result, { version: VERSION, reportPath: resolve(reportDir, 'report.json') });
  for (const reporter of reporters) {
    const written = await reporter.onRunEnd(document);
    if (written && !args.quiet) context.err(`${reporter.name} report: ${written}`);
  }
  // A rule's bad configuration (exit 2) is also said on stderr, one line each, as any bad input is.
  for (const line of new Set(result.rules.flatMap((rule) => rule.checks.flatMap((c) => (c.verdict === 'error' && c.error && c.errorKind && c.errorKind !== 'infrastructure' ? [c.error] : []))))) {
    context.err(`pgconform: ${line}`);
  }
  return exitCodeOf(result);
}

/** Parses --shard i/n (1-based i); anything else is a usage error. */
export function parseShard(text: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new KitError('usage', `--shard must be i/n with 1 ≤ i ≤ n, got "${text}"`, { fix: 'e.g. --shard 2/4 for the second of four jobs' });
  }
  return { index, count };
}

/** One listener that forwards every event to every reporter. */
function fanOut(reporters: readonly Reporter[]): RunListener {
  return {
    onRunStart: (info) => reporters.forEach((r) => r.onRunStart?.(info)),
    onCheckStart: (spec, isolation) => reporters.forEach((r) => r.onCheckStart?.(spec, isolation)),
    onExecution: (spec, isolation, execution) => reporters.forEach((r) => r.onExecution?.(spec, isolation, execution)),
    onCheckEnd: (spec, check) => reporters.forEach((r) => r.onCheckEnd?.(spec, check)),
  };
}
