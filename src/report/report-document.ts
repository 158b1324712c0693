import { z } from 'zod';
import type { RunResult } from '../engine/run.ts';
import { ExitCode } from '../errors/kit-error.ts';
import { displayPath } from '../spec/loader.ts';

/** Version of report.json's format; bumped on any incompatible change. */
export const REPORT_SCHEMA_VERSION = 1;

const verdict = z.enum(['pass', 'violation', 'over-restrictive', 'error']);
const isolation = z.enum(['read-committed', 'repeatable-read', 'serializable']);
const value = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const operation = z.object({ kind: z.string(), args: z.record(z.string(), value) });
const block = z.union([
  z.object({ autocommit: operation }),
  z.object({ transaction: z.array(operation), end: z.enum(['commit', 'rollback']) }),
]);
const failure = z.object({ code: z.string(), message: z.string() }).passthrough();
const outcome = z.union([
  z.object({ status: z.literal('ok'), rowCount: z.number() }),
  z.object({ status: z.enum(['rejected', 'aborted', 'error']), failure }),
  z.object({ status: z.literal('skipped'), reason: z.string() }),
]);
const event = z.object({
  index: z.number(),
  session: z.number(),
  kind: z.enum(['begin', 'op', 'commit', 'rollback']),
  label: z.string(),
  sql: z.string(),
  params: z.array(value),
  startedAt: z.number(),
  endedAt: z.number(),
  outcome,
  waitedFor: z.array(z.number()).optional(),
  violatingRows: z.array(z.record(z.string(), z.unknown())).optional(),
  gap: z.object({ constraint: z.string(), table: z.string(), definition: z.string() }).optional(),
});
const errorKind = z.enum(['usage', 'spec', 'config', 'schema', 'infrastructure']);
/** Rejections not judged: objects that enforce nothing the rule states refused generated rows (added in 1.x, optional). */
const generatorGaps = z.object({
  executions: z.number(),
  lost: z.number(),
  gaps: z.array(
    z.object({
      constraint: z.string(),
      table: z.string(),
      definition: z.string(),
      executions: z.number(),
      example: z.object({ statement: z.string(), params: z.array(z.unknown()), label: z.string(), message: z.string() }),
    }),
  ),
});

/** The zod schema of report.json: what a consumer may rely on. */
export const reportSchema = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  tool: z.object({ name: z.literal('pgconform'), version: z.string() }),
  startedAt: z.string(),
  durationMs: z.number(),
  exitCode: z.number().int().min(0).max(3),
  server: z.object({ provider: z.string(), version: z.number() }),
  options: z.object({
    seed: z.number(),
    runs: z.number(),
    isolation: z.array(isolation),
    stress: z.boolean(),
    maxSessions: z.number(),
  }),
  summary: z.object({ rules: z.number(), pass: z.number(), violation: z.number(), overRestrictive: z.number(), error: z.number() }),
  error: z.string().optional(),
  rules: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      source: z.string(),
      specFile: z.string(),
      schema: z.array(z.string()),
      verdict,
      checks: z.array(
        z.object({
          isolation,
          verdict,
          runs: z.number(),
          steps: z.number(),
          durationMs: z.number(),
          seed: z.number(),
          notes: z.array(z.string()),
          error: z.string().optional(),
          /** An error verdict's kind: usage, spec, config or schema map to exit 2; infrastructure (or absent, in older reports) to 3. */
          errorKind: errorKind.optional(),
          generatorGaps: generatorGaps.optional(),
          truthTable: z
            .object({
              columns: z.array(z.string()),
              rows: z.array(
                z.object({
                  cell: z.string(),
                  values: z.record(z.string(), value),
                  expected: z.enum(['accept', 'reject', 'either']),
                  insert: z.string(),
                  update: z.string(),
                  ok: z.boolean(),
                }),
              ),
            })
            .optional(),
          counterexample: z
            .object({
              kind: z.enum(['violation', 'over-restrictive', 'error']),
              foundBy: z.enum(['truth-table', 'corpus', 'property']),
              seed: z.number(),
              path: z.string(),
              shrinks: z.number(),
              replayable: z.boolean(),
              /** The step after which the rule broke, or the step wrongly rejected. */
              atEvent: z.number().optional(),
              offendingRows: z.array(z.record(z.string(), z.unknown())).optional(),
              judgement: z.string().optional(),
              scenario: z.object({ isolation, sessions: z.array(z.array(block)), schedule: z.array(z.number()) }),
              history: z.array(event),
              replay: z.string(),
            })
            .optional(),
        }),
      ),
    }),
  ),
});

/** report.json, as written and as read back by replay. */
export type ReportDocument = z.infer<typeof reportSchema>;

/** The exit code a run maps to: see exitCodeOfChecks. */
export function exitCodeOf(result: RunResult): number {
  return exitCodeOfChecks(result.rules.flatMap((r) => r.checks), result.error !== undefined);
}

/**
 * The exit code of a run's checks, most severe first: 3 when the run stopped early or a check hit an
 * infrastructure error; 2 when a rule's configuration, spec or schema did not fit (its error verdict);
 * 1 when a rule failed; else 0.
 */
export function exitCodeOfChecks(checks: readonly { verdict: string; errorKind?: string }[], stoppedByError: boolean): number {
  const errors = checks.filter((c) => c.verdict === 'error');
  if (stoppedByError || errors.some((c) => (c.errorKind ?? 'infrastructure') === 'infrastructure')) return ExitCode.Infrastructure;
  if (errors.length > 0) return ExitCode.BadInput;
  return exitCodeFor(checks.map((c) => c.verdict), false);
}

/** The exit code of a set of rule verdicts: 3 on errors, 1 when a rule failed, else 0. */
export function exitCodeFor(verdicts: readonly string[], stoppedByError: boolean): number {
  if (stoppedByError || verdicts.includes('error')) return ExitCode.Infrastructure;
  if (verdicts.some((v) => v === 'violation' || v === 'over-restrictive')) return ExitCode.RuleFailed;
  return ExitCode.Pass;
}

/** Builds the versioned document from a run's result. */
export function toDocument(result: RunResult, options: { version: string; reportPath: string }): ReportDocument {
  const count = (v: string) => result.rules.filter((r) => r.verdict === v).length;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'pgconform', version: options.version },
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    exitCode: exitCodeOf(result),
    server: result.server,
    options: { ...result.options, isolation: [...result.options.isolation] },
    summary: {
      rules: result.rules.length,
      pass: count('pass'),
      violation: count('violation'),
      overRestrictive: count('over-restrictive'),
      error: count('error'),
    },
    ...(result.error ? { error: result.error } : {}),
    rules: result.rules.map((rule) => ({
      id: rule.id,
      title: rule.title,
      source: rule.source,
      specFile: displayPath(rule.specFile),
      schema: rule.schema.map(displayPath),
      verdict: rule.verdict,
      checks: rule.checks.map((check) => {
        const c = check.counterexample;
        const v = c?.verdict;
        return {
          isolation: check.isolation,
          verdict: check.verdict,
          runs: check.runs,
          steps: check.steps,
          durationMs: check.durationMs,
          seed: check.seed,
          notes: check.notes,
          ...(check.error ? { error: check.error } : {}),
          ...(check.verdict === 'error' ? { errorKind: check.errorKind ?? 'infrastructure' } : {}),
          ...(check.generatorGaps ? { generatorGaps: JSON.parse(JSON.stringify(check.generatorGaps)) } : {}),
          ...(check.truthTable ? { truthTable: { columns: [...check.truthTable.columns], rows: check.truthTable.rows.map((r) => ({ ...r, values: { ...r.values } })) } } : {}),
          ...(c
            ? {
                counterexample: {
                  kind: c.kind,
                  foundBy: c.foundBy,
                  seed: c.seed,
                  path: c.path,
                  shrinks: c.shrinks,
                  replayable: c.replayable,
                  ...(v && v.kind !== 'pass' && 'atEvent' in v && v.atEvent !== undefined ? { atEvent: v.atEvent } : {}),
                  ...(v?.kind === 'violation' ? { offendingRows: v.rows } : {}),
                  ...(v?.kind === 'over-restrictive' ? { judgement: v.judgement.reason } : {}),
                  scenario: JSON.parse(JSON.stringify(c.scenario)),
                  history: JSON.parse(JSON.stringify(c.history)),
                  replay: `npx pgconform replay ${displayPath(options.reportPath)} --rule ${rule.id} --isolation ${check.isolation}`,
                },
              }
            : {}),
        };
      }),
    })),
  };
}
