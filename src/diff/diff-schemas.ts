import { connect, quoteQualified, type ConnectionSettings } from '../db/connection.ts';
import type { StartedServer } from '../db/provider.ts';
import { Sandbox } from '../db/sandbox.ts';
import type { SchemaFile } from '../db/schema-source.ts';
import { isSchemaSource, type SchemaSource } from '../source/schema-source.ts';
import { isServerError } from '../db/sql-failure.ts';
import { modelDatabaseFor, ScenarioExecutor } from '../engine/executor.ts';
import { DEFAULT_SHAPE } from '../engine/scenario.ts';
import { isKitError, KitError } from '../errors/kit-error.ts';
import type { Rule } from '../rules/rule.ts';
import type { LoadedSpec } from '../spec/loader.ts';
import { diffRule, type DiffOptions, type RuleDiff } from './behaviour-diff.ts';

/** Which rules to compare: the ones named, or every loaded one whose tables both schemas have. */
export interface SchemaDiffOptions extends DiffOptions {
  readonly specs: readonly LoadedSpec[];
  /** The user named these rules: a rule that does not fit a schema is an error, not skipped. */
  readonly named: boolean;
  /** Called when a rule's comparison starts (progress). */
  readonly onRule?: (rule: Rule) => void;
}

/** A rule a diff left out, and why. */
export interface SkippedRule {
  readonly ruleId: string;
  /** no-tables: a schema lacks the rule's tables; misfit: it has them, with other columns. */
  readonly kind: 'no-tables' | 'misfit';
  readonly reason: string;
}

/** Everything a diff of two schemas found. */
export interface SchemaDiff {
  readonly before: readonly string[];
  readonly after: readonly string[];
  readonly rules: readonly RuleDiff[];
  /** Rules left out because a schema lacks their tables or does not fit them (only when no rule was named). */
  readonly skipped: readonly SkippedRule[];
  readonly durationMs: number;
}

/** Applies each schema to a sandbox of its own and compares every fitting rule on them. Drops the sandboxes whatever happens. */
export async function diffSchemas(
  server: StartedServer,
  before: readonly SchemaFile[] | SchemaSource,
  after: readonly SchemaFile[] | SchemaSource,
  options: SchemaDiffOptions,
): Promise<SchemaDiff> {
  const started = performance.now();
  const sandboxes: Sandbox[] = [];
  const rules: RuleDiff[] = [];
  const skipped: SkippedRule[] = [];
  try {
    const beforeSandbox = await Sandbox.create(server, before);
    sandboxes.push(beforeSandbox);
    const afterSandbox = await Sandbox.create(server, after);
    sandboxes.push(afterSandbox);
    const beforeDb = await beforeSandbox.createWorkerDatabase();
    const afterDb = await afterSandbox.createWorkerDatabase();
    for (const spec of options.specs) {
      const rule = spec.rule;
      const misfit = (await missingTables(beforeDb, rule, 'before')) ?? (await missingTables(afterDb, rule, 'after'));
      if (misfit) {
        if (options.named) throw new KitError('schema', misfit, { fix: 'compare schemas that define the rule\'s tables, or name another rule' });
        skipped.push({ ruleId: rule.id, kind: 'no-tables', reason: misfit });
        continue;
      }
      options.onRule?.(rule);
      try {
        const models = { before: await modelDatabaseFor(rule, () => beforeSandbox.createWorkerDatabase()), after: await modelDatabaseFor(rule, () => afterSandbox.createWorkerDatabase()) };
        rules.push(await compareRule(rule, beforeDb, afterDb, options, models));
      } catch (error) {
        if (options.named || !isKitError(error) || error.kind !== 'schema') throw error;
        skipped.push({ ruleId: rule.id, kind: 'misfit', reason: error.message });
      }
    }
  } finally {
    for (const sandbox of sandboxes) await sandbox.dispose();
  }
  return {
    before: labelsOf(before),
    after: labelsOf(after),
    rules,
    skipped,
    durationMs: Math.round(performance.now() - started),
  };
}

/** What a schema is named by in reports: its file paths, or its source's labels. */
export function labelsOf(schema: readonly SchemaFile[] | SchemaSource): string[] {
  return isSchemaSource(schema) ? [...schema.labels] : schema.map((file) => file.path);
}

/** One rule on one database of each schema; both executors are closed whatever happens. */
export async function compareRule(
  rule: Rule,
  beforeDb: ConnectionSettings,
  afterDb: ConnectionSettings,
  options: DiffOptions,
  /** Databases for the database model of a rule without a model of its own, one per side. */
  models: { before?: ConnectionSettings; after?: ConnectionSettings } = {},
): Promise<RuleDiff> {
  const maxSessions = (options.shape ?? DEFAULT_SHAPE).maxSessions;
  const before = await ScenarioExecutor.open(rule, beforeDb, { maxSessions, modelDatabase: models.before });
  try {
    const after = await ScenarioExecutor.open(rule, afterDb, { maxSessions, modelDatabase: models.after });
    try {
      await resetOrMisfit(before, rule, 'before');
      await resetOrMisfit(after, rule, 'after');
      return await diffRule(rule, before, after, options);
    } finally {
      await after.close();
    }
  } finally {
    await before.close();
  }
}

/** The rule's setup rows must go in: a schema whose tables lack the rule's columns does not fit it. */
async function resetOrMisfit(executor: ScenarioExecutor, rule: Rule, side: string): Promise<void> {
  try {
    await executor.reset();
  } catch (error) {
    if (!isServerError(error)) throw error;
    throw new KitError('schema', `the ${side} schema does not fit rule ${rule.id}: ${error.message}`, { cause: error });
  }
}

/** A sentence naming the rule's tables the schema lacks, or undefined when it has them all. */
export async function missingTables(settings: ConnectionSettings, rule: Rule, side: string): Promise<string | undefined> {
  const client = await connect(settings, { applicationName: 'pgconform-diff' });
  try {
    const { rows } = await client.query<{ name: string; found: boolean }>(
      'SELECT name, to_regclass(quoted) IS NOT NULL AS found FROM unnest($1::text[], $2::text[]) AS t(name, quoted)',
      [rule.tables, rule.tables.map(quoteQualified)],
    );
    const missing = rows.filter((r) => !r.found).map((r) => r.name);
    return missing.length > 0 ? `the ${side} schema has no table ${missing.join(', ')} for rule ${rule.id}` : undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}
