import { readCatalog, type Catalog } from '../catalog/catalog.ts';
import { checkRuleReferences } from '../catalog/rule-references.ts';
import { connect } from '../db/connection.ts';
import type { StartedServer } from '../db/provider.ts';
import { Sandbox } from '../db/sandbox.ts';
import { isSchemaSource, schemaFilesAt, type SchemaSource } from '../source/schema-source.ts';
import type { History, OffendingRow } from '../engine/history.ts';
import type { RuleCheck } from '../engine/rule-check.ts';
import { runOnServer, type RunListener } from '../engine/run.ts';
import type { ScenarioShape } from '../engine/scenario.ts';
import type { VerdictKind } from '../engine/verdict.ts';
import { KitError } from '../errors/kit-error.ts';
import { exitCodeFor } from '../report/report-document.ts';
import { displayPath, type LoadedSpec } from '../spec/loader.ts';
import { mapEnforcement, type EnforcementMap } from './enforcement-map.ts';
import { readFunctionLibrary, type FunctionLibrary } from './function-body.ts';
import type { Fragility } from './fragility.ts';
import { mentionsIdentifier } from '../catalog/definition-text.ts';

/** Scenarios of the confirming run when nothing else is said: enough to show a plain race, short enough to wait for. */
export const EXPLAIN_RUNS = 100;

/** What explain maps, and how hard the confirming run searches (no `run`: the map only). */
export interface ExplainOptions {
  readonly specs: readonly LoadedSpec[];
  /** Schema files applied in order, or any schema source (migrations, a command, a copied database); when absent, each spec's own default schema. */
  readonly schema?: readonly string[] | SchemaSource;
  readonly run?: {
    readonly runs: number;
    readonly seed: number;
    readonly timeBudgetMs?: number;
    readonly shape?: ScenarioShape;
    readonly workers?: number;
    readonly signal?: AbortSignal;
    readonly listener?: RunListener;
  };
}

/** How the confirming run answered the map: the fragility shown (confirmed) or not (refuted), sound enforcement held or broke. */
export type ConfirmationStatus = 'confirmed' | 'refuted' | 'held' | 'broken' | 'error';

/** A failure of the confirming run, briefly: enough to see the interleaving and replay it with run --seed/--path. */
export interface ExplainedCounterexample {
  readonly kind: 'violation' | 'over-restrictive';
  /** Steps of the shrunk scenario as executed (BEGIN and COMMIT included), and the sessions taking part. */
  readonly steps: number;
  readonly sessions: number;
  /** The step where the rule broke, or the rejected step (0-based). */
  readonly atEvent?: number;
  readonly offendingRows?: readonly OffendingRow[];
  /** Over-restrictive: why the rule allows the rejected step. */
  readonly judgement?: string;
  readonly seed: number;
  readonly path: string;
  readonly history: History;
}

/** The verdict of the confirming run on one rule, and the sentence that says what it means for the map. */
export interface Confirmation {
  readonly status: ConfirmationStatus;
  readonly verdict: VerdictKind;
  /** "confirmed: trigger_x reads other rows without a lock — a violation was found (7 steps, 2 sessions)". */
  readonly statement: string;
  readonly runs: number;
  readonly durationMs: number;
  readonly counterexample?: ExplainedCounterexample;
}

/** One rule: its enforcement map on its schema and, unless --no-run, what the run made of it. */
export interface RuleExplanation {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  readonly schema: readonly string[];
  readonly map: EnforcementMap;
  readonly confirmation?: Confirmation;
}

/** Everything explain found. */
export interface Explanation {
  readonly server: { readonly provider: string; readonly version: number };
  /** The confirming run's search; absent with --no-run. */
  readonly run?: { readonly seed: number; readonly runs: number };
  readonly rules: readonly RuleExplanation[];
  /** Kit-level error that stopped the confirming run early (its partial results are still here). */
  readonly error?: string;
}

/**
 * Maps how each rule is enforced on its schema (the catalog of the schema's sandbox template database),
 * then, when asked, confirms or refutes the map with a short run of every rule at READ COMMITTED.
 */
export async function explainRules(server: StartedServer, options: ExplainOptions): Promise<Explanation> {
  const schemas = new Map<string, Promise<{ catalog: Catalog; library: FunctionLibrary }>>();
  const maps = new Map<LoadedSpec, { files: readonly string[]; map: EnforcementMap }>();
  for (const spec of options.specs) {
    const source = isSchemaSource(options.schema) ? options.schema : schemaFilesAt(options.schema ?? spec.defaultSchema ?? []);
    const files = source.labels;
    if (files.length === 0) {
      throw new KitError('usage', `rule "${spec.rule.id}" has no schema to explain`, { fix: 'pass --schema <file.sql>, or name a defaultSchema in the spec' });
    }
    const key = JSON.stringify(files);
    if (!schemas.has(key)) schemas.set(key, readSchemaCatalog(server, source));
    const { catalog, library } = await schemas.get(key)!;
    checkRuleReferences(catalog, spec.rule, displayPath(spec.file));
    maps.set(spec, { files, map: mapEnforcement(spec.rule, catalog, library) });
  }

  const checks = new Map<string, RuleCheck>();
  let error: string | undefined;
  if (options.run) {
    const result = await runOnServer(server, {
      specs: options.specs,
      schema: options.schema,
      isolation: ['read-committed'],
      runs: options.run.runs,
      seed: options.run.seed,
      timeBudgetMs: options.run.timeBudgetMs,
      shape: options.run.shape,
      workers: options.run.workers,
      signal: options.run.signal,
      listener: options.run.listener,
    });
    error = result.error;
    for (const rule of result.rules) if (rule.checks[0]) checks.set(rule.id, rule.checks[0]);
  }

  return {
    server: { provider: server.provider, version: server.serverVersion },
    ...(options.run ? { run: { seed: options.run.seed, runs: options.run.runs } } : {}),
    rules: options.specs.map((spec): RuleExplanation => {
      const { files, map } = maps.get(spec)!;
      const check = checks.get(spec.rule.id);
      return {
        id: spec.rule.id,
        title: spec.rule.title,
        source: spec.rule.source,
        schema: files,
        map,
        ...(options.run ? { confirmation: confirmationOf(map, check) } : {}),
      };
    }),
    ...(error ? { error } : {}),
  };
}

/**
 * Whether a counterexample goes through what a warning names: an UPDATE of one of its columns, or a
 * statement on the table of its object (a trigger fires on its table). A rule-wide warning always does.
 */
function exercises(history: readonly { readonly sql: string }[], warning: Fragility, map: EnforcementMap): boolean {
  const statements = history.map((event) => event.sql.toLowerCase());
  const mentions = (sql: string, name: string) => mentionsIdentifier(sql, name.toLowerCase());
  const bare = (qualified: string) => qualified.split('.').pop()!.replace(/"/g, '');
  if (warning.columns?.length) {
    return warning.columns.some((column) => {
      const table = bare(column.slice(0, column.lastIndexOf('.')));
      const name = column.slice(column.lastIndexOf('.') + 1);
      return statements.some((sql) => /^\s*update\b/.test(sql) && mentions(sql, table) && mentions(sql, name));
    });
  }
  const object = warning.object ? map.objects.find((o) => o.name === warning.object) : undefined;
  if (!object) return true;
  return statements.some((sql) => mentions(sql, bare(object.table)));
}

/** 0 when no confirming run failed (or none ran), 1 when one found a failure, 3 on an infrastructure error. */
export function explanationExitCode(explanation: Explanation): number {
  return exitCodeFor(
    explanation.rules.flatMap((rule) => (rule.confirmation ? [rule.confirmation.verdict] : [])),
    explanation.error !== undefined,
  );
}

/** Applies the schema to a sandbox template and reads its catalog and functions; the sandbox is dropped again. */
async function readSchemaCatalog(server: StartedServer, source: SchemaSource): Promise<{ catalog: Catalog; library: FunctionLibrary }> {
  const sandbox = await Sandbox.create(server, source);
  try {
    const client = await connect(sandbox.settingsFor(sandbox.template), { applicationName: 'pgconform-explain' });
    try {
      return { catalog: await readCatalog(client), library: await readFunctionLibrary(client) };
    } finally {
      await client.end().catch(() => undefined);
    }
  } finally {
    await sandbox.dispose();
  }
}

/** What the run's verdict says about the map: a warning shown or not, sound-looking enforcement held or broken. */
export function confirmationOf(map: EnforcementMap, check: RuleCheck | undefined): Confirmation {
  const warnings = map.fragilities.filter((f) => f.severity === 'warning');
  const fragile = warnings.map((f) => (f.object ? `${f.object} ${f.summary}` : f.summary)).join('; ');
  const base = { verdict: check?.verdict ?? ('error' as const), runs: check?.runs ?? 0, durationMs: check?.durationMs ?? 0 };
  if (!check || check.verdict === 'error') {
    return { ...base, status: 'error', statement: `error: ${check?.error ?? 'the rule was not run'}` };
  }
  const c = check.counterexample;
  if (check.verdict === 'pass' || !c || c.verdict.kind === 'pass' || c.verdict.kind === 'error') {
    return warnings.length > 0
      ? { ...base, status: 'refuted', statement: `refuted: the rule held over ${check.runs} runs` }
      : { ...base, status: 'held', statement: `held over ${check.runs} runs` };
  }
  const verdict = c.verdict;
  const sessions = new Set(c.history.map((event) => event.session)).size;
  const counterexample: ExplainedCounterexample = {
    kind: verdict.kind,
    steps: c.history.length,
    sessions,
    atEvent: verdict.atEvent,
    ...(verdict.kind === 'violation' ? { offendingRows: verdict.rows } : { judgement: verdict.judgement.reason }),
    seed: c.seed,
    path: c.path,
    history: c.history,
  };
  const size = `${counterexample.steps} step${counterexample.steps === 1 ? '' : 's'}, ${sessions} session${sessions === 1 ? '' : 's'}`;
  const enforcing = map.objects.filter((o) => o.enforces).map((o) => `${o.kind} ${o.name}`);
  if (verdict.kind === 'violation') {
    // A warning is confirmed only by a counterexample that goes through what it warns about.
    const shown = warnings.filter((warning) => exercises(c.history, warning, map));
    const shownText = shown.map((f) => (f.object ? `${f.object} ${f.summary}` : f.summary)).join('; ');
    if (shown.length > 0) return { ...base, status: 'confirmed', statement: `confirmed: ${shownText} — a violation was found (${size})`, counterexample };
    const despite = warnings.length > 0 ? `; it does not go through what the warnings name (${fragile})` : ` despite ${enforcing.join(', ')}`;
    return { ...base, status: 'broken', statement: `broken: a violation was found (${size})${despite}`, counterexample };
  }
  const rejected = c.history[verdict.atEvent]?.label ?? `step ${verdict.atEvent + 1}`;
  const unshown = warnings.length > 0 ? `; the fragility was not shown: no violation in ${check.runs} runs` : '';
  return {
    ...base,
    status: 'broken',
    statement: `broken: over-restrictive — the schema rejected "${rejected}", which the rule allows (${verdict.judgement.reason})${unshown}`,
    counterexample,
  };
}
