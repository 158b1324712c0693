import type pg from 'pg';
import { connect, type ConnectionSettings } from '../db/connection.ts';
import type { StartedServer } from '../db/provider.ts';
import { Sandbox } from '../db/sandbox.ts';
import type { SchemaFile } from '../db/schema-source.ts';
import type { SchemaSource } from '../source/schema-source.ts';
import { isServerError, toSqlFailure, type SqlFailure } from '../db/sql-failure.ts';
import type { DiffOptions, RuleDiff } from '../diff/behaviour-diff.ts';
import { compareRule, missingTables } from '../diff/diff-schemas.ts';
import { KitError } from '../errors/kit-error.ts';
import type { Rule } from '../rules/rule.ts';
import { compareRows, compareSchema, readFacts, type DatabaseFacts, type TableChange } from './database-facts.ts';
import { fillWithGeneratedData, type GeneratedData } from './generated-data.ts';

/** What to check besides the migration itself. */
export interface MigrationCheckOptions extends DiffOptions {
  readonly migration: SchemaFile;
  /** The down migration, checked for restoring the previous behaviour. */
  readonly down?: SchemaFile;
  /** Compare how the migrated (and downgraded) schema answers the rule's operations with the before schema (default true). */
  readonly behaviour?: boolean;
}

/** How applying a migration file ended. */
export type MigrationOutcome =
  | { readonly kind: 'applied' }
  /** Refused, and nothing changed: rows and schema as before (it ran in one transaction). */
  | { readonly kind: 'failed-cleanly'; readonly failure: SqlFailure }
  /** Refused half way, with changes left behind (its own COMMITs, or statements that cannot run in a transaction). */
  | { readonly kind: 'failed-partially'; readonly failure: SqlFailure; readonly schemaChanges: readonly string[] };

/** The down migration's part of the check. */
export interface DowngradeCheck {
  readonly outcome: MigrationOutcome;
  /** Rows of the migrated data the down migration lost or rewrote (when the up migration applied to the generated data). */
  readonly tables?: readonly TableChange[];
  /** The before schema against the downgraded one. */
  readonly behaviour?: RuleDiff;
  /** Applied, and the downgraded schema answers every generated scenario as the before schema did. */
  readonly restores: boolean;
}

/** Everything the migration check found for one rule. */
export interface MigrationCheck {
  readonly ruleId: string;
  readonly migration: string;
  readonly down?: string;
  readonly data: GeneratedData;
  readonly outcome: MigrationOutcome;
  /** Rows per table before and after the migration. */
  readonly tables: readonly TableChange[];
  /** Groups of rows breaking the rule once the migration applied (undefined when it did not, or the invariant no longer runs). */
  readonly violationsLeft?: number;
  /** The before schema against the migrated one (on empty tables). */
  readonly behaviour?: RuleDiff;
  readonly downgrade?: DowngradeCheck;
  /** The verdict in one sentence, e.g. "the migration fails cleanly: nothing is lost". */
  readonly summary: string;
  /** Further sentences: the data it met, the error, the behaviour, the downgrade. */
  readonly details: readonly string[];
  /** Why the migration is not safe to ship; empty when it is (the CLI exits 1 otherwise). */
  readonly problems: readonly string[];
}

/**
 * Migration safety for one rule: a database of the before schema is filled with generated data,
 * including rows the rule forbids when the schema lets them in, and the migration is applied to it.
 * It either applies (then: were rows lost, do rows still break the rule?) or fails (then: did it fail
 * cleanly, leaving every row and the schema as they were?). With a down migration, the round trip
 * must keep the data and the downgraded schema must answer the rule's operations as before.
 */
export async function checkMigration(server: StartedServer, rule: Rule, before: readonly SchemaFile[] | SchemaSource, options: MigrationCheckOptions): Promise<MigrationCheck> {
  const sandbox = await Sandbox.create(server, before);
  try {
    const dataDb = await sandbox.createWorkerDatabase();
    const misfit = await missingTables(dataDb, rule, 'before');
    if (misfit) throw new KitError('schema', misfit, { fix: "check the migration against a schema that defines the rule's tables" });
    const data = await fillWithGeneratedData(rule, dataDb, { seed: options.seed });
    const onData = await withClient(dataDb, async (client) => {
      const start = await readFacts(client);
      const outcome = await applyMigration(client, options.migration, start);
      const migrated = await readFacts(client);
      const violationsLeft = outcome.kind === 'applied' ? await invariantRows(client, rule) : undefined;
      let roundTrip: { outcome: MigrationOutcome; tables: TableChange[] } | undefined;
      if (options.down && outcome.kind === 'applied') {
        const downOutcome = await applyMigration(client, options.down, migrated);
        roundTrip = { outcome: downOutcome, tables: compareRows(migrated, await readFacts(client)) };
      }
      return { outcome, tables: compareRows(start, migrated), violationsLeft, roundTrip };
    });

    const compare = options.behaviour ?? true;
    const beforeDb = compare ? await sandbox.createWorkerDatabase() : undefined;
    let behaviour: RuleDiff | undefined;
    let emptyTablesRefused: SqlFailure | undefined;
    if (beforeDb) {
      const migratedDb = await sandbox.createWorkerDatabase();
      const up = await withClient(migratedDb, async (client) => applyMigration(client, options.migration, await readFacts(client)));
      if (up.kind === 'applied') behaviour = await compareRule(rule, beforeDb, migratedDb, options);
      else emptyTablesRefused = up.failure;
    }

    const downgrade = options.down
      ? await checkDowngrade(sandbox, rule, { ...options, down: options.down }, onData.roundTrip ? { db: dataDb, ...onData.roundTrip } : undefined, beforeDb)
      : undefined;

    const { outcome, tables, violationsLeft } = onData;
    return report(rule, options, { data, outcome, tables, violationsLeft, behaviour, emptyTablesRefused, downgrade });
  } finally {
    await sandbox.dispose();
  }
}

/**
 * The down migration: applied after the up migration on the generated data when the up migration took
 * it, else on empty tables; then the downgraded schema must answer the rule's operations as the before
 * schema does, and must not have lost rows of the migrated data.
 */
async function checkDowngrade(
  sandbox: Sandbox,
  rule: Rule,
  options: MigrationCheckOptions & { down: SchemaFile },
  onData: { db: ConnectionSettings; outcome: MigrationOutcome; tables: TableChange[] } | undefined,
  beforeDb: ConnectionSettings | undefined,
): Promise<DowngradeCheck> {
  const db = onData?.db ?? (await sandbox.createWorkerDatabase());
  const outcome =
    onData?.outcome ??
    (await withClient(db, async (client) => {
      const up = await applyMigration(client, options.migration, await readFacts(client));
      return up.kind === 'applied' ? applyMigration(client, options.down, await readFacts(client)) : up;
    }));
  const applied = outcome.kind === 'applied';
  const behaviour = applied && beforeDb ? await compareRule(rule, beforeDb, db, options) : undefined;
  const keepsRows = (onData?.tables ?? []).every((t) => t.lost === 0 && t.added === 0);
  return { outcome, tables: onData?.tables, behaviour, restores: applied && keepsRows && (!behaviour || restoresBehaviour(behaviour)) };
}

/**
 * Applies a migration file as one simple query: PostgreSQL runs its statements in one implicit
 * transaction unless the file controls transactions itself, which is how migration tools run them.
 */
async function applyMigration(client: pg.Client, file: SchemaFile, start: DatabaseFacts): Promise<MigrationOutcome> {
  try {
    await client.query(file.sql);
    return { kind: 'applied' };
  } catch (error) {
    if (!isServerError(error)) throw error;
    // A file that opened its own transaction leaves it aborted: end it before reading anything.
    await client.query('ROLLBACK').catch(() => undefined);
    const failure = toSqlFailure(error);
    const now = await readFacts(client);
    const schemaChanges = compareSchema(start, now);
    const rowsChanged = compareRows(start, now).some((t) => t.lost > 0 || t.added > 0);
    if (schemaChanges.length === 0 && !rowsChanged) return { kind: 'failed-cleanly', failure };
    return { kind: 'failed-partially', failure, schemaChanges };
  }
}

/** Groups of rows the rule's invariant returns; undefined when the migrated schema no longer runs it (a renamed column). */
async function invariantRows(client: pg.Client, rule: Rule): Promise<number | undefined> {
  try {
    return (await client.query(rule.invariant, [...(rule.invariantValues ?? [])])).rows.length;
  } catch (error) {
    if (isServerError(error)) return undefined;
    throw error;
  }
}

/**
 * The downgraded schema changed no judged outcome, and the rule's verdict is the same as before.
 * Unjudged changes are left out: they hang on interleavings, and timing alone produces a few even
 * between two databases of one schema.
 */
function restoresBehaviour(diff: RuleDiff): boolean {
  return diff.changes.every((c) => c.judged === 'unjudged') && (!diff.verdicts || diff.verdicts.before.verdict === diff.verdicts.after.verdict);
}

async function withClient<T>(settings: ConnectionSettings, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(settings, { applicationName: 'pgconform-migration', statementTimeoutMs: 60_000 });
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What the check gathered, before it is put into words. */
interface Findings {
  readonly data: GeneratedData;
  readonly outcome: MigrationOutcome;
  readonly tables: readonly TableChange[];
  readonly violationsLeft: number | undefined;
  readonly behaviour: RuleDiff | undefined;
  /** Why the migration did not apply to empty tables either (no behaviour to compare then). */
  readonly emptyTablesRefused: SqlFailure | undefined;
  readonly downgrade: DowngradeCheck | undefined;
}

function report(rule: Rule, options: MigrationCheckOptions, findings: Findings): MigrationCheck {
  const { data, outcome, tables, violationsLeft, behaviour, emptyTablesRefused, downgrade } = findings;
  const details: string[] = [];
  const problems: string[] = [];
  details.push(
    data.violations > 0
      ? `the generated data (${data.applied} operations) held ${plural(data.violations, 'group')} of rows the rule forbids`
      : `the generated data (${data.applied} operations) held no row the rule forbids: the before schema kept them out`,
  );
  let summary: string;
  const deleting = tables.filter((t) => deletedRows(t) > 0);
  const rewriting = tables.filter((t) => rewrittenRows(t) > 0);
  if (outcome.kind === 'failed-cleanly') {
    summary = 'the migration fails cleanly: nothing is lost';
    details.push(`it fails with ${failureLine(outcome.failure)}; every row and the schema are as they were`);
    problems.push('the migration does not apply to data the before schema accepted');
  } else if (outcome.kind === 'failed-partially') {
    summary = 'the migration fails half way: it leaves changes behind';
    details.push(`it fails with ${failureLine(outcome.failure)}`, ...outcome.schemaChanges.map((line) => `left behind: ${line}`));
    details.push(...tables.filter((t) => t.lost > 0 || t.added > 0).map((t) => `left behind: ${changeLine(t)}`));
    problems.push('the migration fails without undoing what it did');
  } else if (deleting.length > 0) {
    summary = `the migration applies but loses data: ${deleting.map((t) => `${plural(deletedRows(t), 'row')} of ${t.table} deleted`).join(', ')}`;
    problems.push('the migration loses data');
  } else if (violationsLeft !== undefined && violationsLeft > 0) {
    summary = `the migration applies but leaves ${plural(violationsLeft, 'group')} of rows that break the rule`;
    problems.push('rows that break the rule survive the migration');
  } else {
    summary = 'the migration applies: nothing is lost and no row breaks the rule';
  }
  // Rewriting rows (deactivating duplicates) keeps every row: worth saying, not a loss.
  if (outcome.kind === 'applied' && rewriting.length > 0) details.push(`it rewrites ${rewriting.map((t) => `${plural(rewrittenRows(t), 'row')} of ${t.table}`).join(', ')}`);
  if (outcome.kind === 'applied' && deleting.length > 0 && violationsLeft !== undefined) {
    details.push(violationsLeft > 0 ? `${plural(violationsLeft, 'group')} of rows still break the rule` : 'no row left breaks the rule');
  }
  if (outcome.kind === 'applied' && violationsLeft === undefined) details.push("the rule's invariant no longer runs on the migrated schema");
  if (emptyTablesRefused) details.push(`it does not apply to empty tables either: ${failureLine(emptyTablesRefused)}`);
  if (behaviour) {
    const verdicts = behaviour.verdicts ? ` (verdict ${behaviour.verdicts.before.verdict} → ${behaviour.verdicts.after.verdict})` : '';
    details.push(`after the migration (applied to empty tables): ${behaviour.summary}${verdicts}`);
  }
  if (downgrade) {
    if (downgrade.outcome.kind !== 'applied') {
      const failure = downgrade.outcome.failure;
      details.push(`the downgrade fails with ${failureLine(failure)}`);
      problems.push('the down migration fails');
    } else if (downgrade.restores) {
      details.push('the downgrade restores the previous behaviour');
    } else {
      const downLoss = (downgrade.tables ?? []).filter((t) => t.lost > 0 || t.added > 0);
      const why = [
        ...(downgrade.behaviour && !restoresBehaviour(downgrade.behaviour) ? [downgrade.behaviour.summary] : []),
        ...downLoss.map((t) => `it changes rows: ${changeLine(t)}`),
      ];
      const where = downgrade.tables ? '' : ' (round trip on empty tables)';
      details.push(`the downgrade does not restore the previous behaviour${where}: ${why.join('; ')}`);
      problems.push('the down migration does not restore the previous behaviour');
    }
  }
  return {
    ruleId: rule.id,
    migration: options.migration.path,
    down: options.down?.path,
    data,
    outcome,
    tables,
    violationsLeft,
    behaviour,
    downgrade,
    summary,
    details,
    problems,
  };
}

/** Rows of the first reading gone from the second beyond those that came back rewritten. */
function deletedRows(t: TableChange): number {
  return t.lost - rewrittenRows(t);
}

/** Rows lost and added in equal number read as rewritten in place (an UPDATE). */
function rewrittenRows(t: TableChange): number {
  return Math.min(t.lost, t.added);
}

function changeLine(t: TableChange): string {
  const added = t.added - rewrittenRows(t);
  return [
    deletedRows(t) > 0 && `${plural(deletedRows(t), 'row')} of ${t.table} deleted`,
    rewrittenRows(t) > 0 && `${plural(rewrittenRows(t), 'row')} of ${t.table} rewritten`,
    added > 0 && `${plural(added, 'row')} of ${t.table} added`,
  ]
    .filter(Boolean)
    .join(', ');
}

function failureLine(failure: SqlFailure): string {
  return `${failure.code}${failure.constraint ? ` on ${failure.constraint}` : ''}: ${failure.message}${failure.detail ? ` (${failure.detail})` : ''}`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
