import { resolve } from 'node:path';
import { Corpus } from '../../corpus/corpus.ts';
import { chooseProvider } from '../../db/provider-choice.ts';
import { liveSandboxes } from '../../db/sandbox.ts';
import type { StartedServer } from '../../db/provider.ts';
import { runOnServer, type RunListener, type RunResult } from '../../engine/run.ts';
import { DEFAULT_SHAPE, type IsolationLevel } from '../../engine/scenario.ts';
import { exitCodeOf, toDocument } from '../../report/report-document.ts';
import { createReporters, DEFAULT_FORMATS } from '../../report/registry.ts';
import type { Reporter } from '../../report/reporter.ts';
import { defaultSpecsDir, loadSpecs } from '../../spec/loader.ts';
import { KitError } from '../../errors/kit-error.ts';
import type { CommandContext } from '../context.ts';
import { VERSION } from '../version.ts';

/** Arguments of `pgconform run`. */
export interface RunArgs {
  specs: string[];
  url?: string;
  docker?: boolean;
  pgVersion?: string;
  schema?: string[];
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
  debug?: boolean;
  specsDir?: string;
}

/** pgconform run: checks the rules against a live schema and writes the reports. */
export async function runCommand(args: RunArgs, context: CommandContext): Promise<number> {
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 31);
  const reportDir = resolve(args.reportDir);
  const reporters = createReporters(args.format ?? DEFAULT_FORMATS, { reportDir, out: context.out, quiet: args.quiet ?? false });
  const specs = await loadSpecs(args.specs, args.specsDir ?? defaultSpecsDir());
  const provider = chooseProvider({
    url: args.url,
    docker: args.docker,
    pgVersion: args.pgVersion,
    onLog: args.debug ? (line) => context.err(line.trimEnd()) : undefined,
  });
  if (!args.quiet) context.err(`pgconform ${VERSION}: ${specs.length} rule(s), seed ${seed}, ${args.runs} runs, ${args.isolation.join(', ')}, ${provider.name} server`);
  const server = await provider.start();
  const interrupt = new AbortController();
  const stopOnSignal = interruptHandler(server, interrupt, context);
  let result: RunResult;
  try {
    result = await runOnServer(server, {
      specs,
      schema: args.schema?.map((p) => resolve(p)),
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

/** How long an interrupted run may take to finish its scenarios, drop its databases and write the partial report. */
const INTERRUPT_DEADLINE_MS = 4_500;

/**
 * On SIGINT/SIGTERM: abort the run (it finishes the scenarios in flight, drops its databases, and the
 * partial report is written), and if that takes too long, clean up and exit 3 anyway. Returns the uninstaller.
 */
function interruptHandler(server: StartedServer, interrupt: AbortController, context: CommandContext): () => void {
  const handler = (signal: NodeJS.Signals) => {
    if (interrupt.signal.aborted) return;
    context.err(`pgconform: ${signal} received: stopping the run, dropping the kit's databases and writing the partial report`);
    interrupt.abort(signal);
    const deadline = setTimeout(() => {
      void Promise.all(liveSandboxes().map((s) => s.dispose()))
        .then(() => server.stop())
        .finally(() => process.exit(3));
    }, INTERRUPT_DEADLINE_MS);
    deadline.unref();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
}
