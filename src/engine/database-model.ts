import type pg from 'pg';
import { readCatalog, findTable, type Catalog } from '../catalog/catalog.ts';
import { connect, quoteIdent, quoteQualified, type ConnectionSettings } from '../db/connection.ts';
import { isServerError } from '../db/sql-failure.ts';
import { mapEnforcement } from '../explain/enforcement-map.ts';
import { readFunctionLibrary } from '../explain/function-body.ts';
import type { Judgement, Operation, Row, Rule } from '../rules/rule.ts';
import { installChangeLog } from '../rules/transition-log.ts';
import type { RawState } from '../values/canonical-values.ts';

// The database as the reference model. A rule written in SQL has no model of its own, yet an operation the
// schema rejects with nothing else in flight must still be judged: is it the rule that forbids it, or the
// schema that is too strict? A second database built from the same schema, without the objects that
// enforce the rule, answers: load the committed state the rejection met, apply the same operation there,
// and run the rule's invariant. If the copy takes the operation and the rule still holds, the schema
// rejected an operation the rule allows. Each judgement runs in one transaction that is rolled back, so the
// copy never needs a reset.

/** An object the model database was built without, and the SQL that removed it. */
export interface RemovedObject {
  readonly kind: string;
  readonly name: string;
  readonly table: string;
  readonly sql: string;
}

/** Two operations that conflict after a prefix of accepted ones (see DatabaseModel.conflicts). */
export interface Conflict {
  readonly prefix: readonly Operation[];
  readonly first: Operation;
  readonly second: Operation;
}

/** States after one accepted operation searched for conflicts, besides the committed one. */
const PREFIXES = 3;
/** Ordered pairs tried per state: a bound on the copy's work (a few hundred small statements). */
const PAIR_CHECKS = 150;

/** Kinds of enforcing object the copy keeps: they say which rows exist, not what the rule demands. */
const KEPT = new Set(['foreign key', 'not null']);

/** The objects that enforce the rule, as the model database removes them: the rule's own list, or the enforcement map's. */
export function removedObjects(rule: Rule, catalog: Catalog, library?: Parameters<typeof mapEnforcement>[2]): RemovedObject[] {
  const map = mapEnforcement(rule, catalog, library);
  const named = rule.enforcedBy ? new Set(rule.enforcedBy) : undefined;
  const removed: RemovedObject[] = [];
  for (const object of map.objects) {
    if (named ? !named.has(object.name) : !object.enforces || KEPT.has(object.kind)) continue;
    if (object.kind === 'not null') continue;
    // The catalog names tables as regclass prints them: already quoted where needed.
    const table = object.table;
    if (object.kind === 'trigger') removed.push({ ...object, sql: `DROP TRIGGER ${quoteIdent(object.name)} ON ${table}` });
    else if (object.kind === 'unique index' || object.kind === 'index') removed.push({ ...object, sql: `DROP INDEX ${qualifiedIndex(object.table, object.name)}` });
    else removed.push({ ...object, sql: `ALTER TABLE ${table} DROP CONSTRAINT ${quoteIdent(object.name)}` });
  }
  // A name the rule gives that the map did not relate to it (a trigger on another table): found in the catalog.
  for (const name of named ?? []) {
    if (removed.some((r) => r.name === name)) continue;
    const trigger = catalog.triggers.find((t) => t.name === name);
    const constraint = catalog.constraints.find((c) => c.name === name);
    const index = catalog.indexes.find((i) => i.name === name);
    if (trigger) removed.push({ kind: 'trigger', name, table: trigger.table, sql: `DROP TRIGGER ${quoteIdent(name)} ON ${trigger.table}` });
    else if (constraint) removed.push({ kind: 'constraint', name, table: constraint.table, sql: `ALTER TABLE ${constraint.table} DROP CONSTRAINT ${quoteIdent(name)}` });
    else if (index) removed.push({ kind: 'index', name, table: index.table, sql: `DROP INDEX ${qualifiedIndex(index.table, name)}` });
  }
  return removed;
}

/** An index lives in its table's schema. */
function qualifiedIndex(table: string, name: string): string {
  const parts = table.match(/"(?:[^"]|"")*"|[^.]+/g) ?? [];
  return parts.length > 1 ? `${parts[0]}.${quoteIdent(name)}` : quoteIdent(name);
}

/** The reference model of a rule without one: a database of the same schema without the rule's enforcing objects. */
export class DatabaseModel {
  private constructor(
    private readonly client: pg.Client,
    readonly rule: Rule,
    /** What the copy was built without. */
    readonly removed: readonly RemovedObject[],
    private readonly loads: ReadonlyMap<string, string>,
    private readonly superuser: boolean,
  ) {}

  /** Builds the model in `settings`, a fresh database cloned from the schema's template (it is changed for good). */
  static async open(rule: Rule, settings: ConnectionSettings): Promise<DatabaseModel> {
    const client = await connect(settings, { applicationName: 'pgconform-model', statementTimeoutMs: 10_000 });
    try {
      const catalog = await readCatalog(client);
      const removed: RemovedObject[] = [];
      for (const object of removedObjects(rule, catalog, await readFunctionLibrary(client))) {
        try {
          await client.query(object.sql);
          removed.push(object);
        } catch (error) {
          // A key a foreign key references says which row others point to: it stays (with the foreign key).
          if (!isServerError(error) || error.code !== '2BP01') throw error;
        }
      }
      if (rule.setup.trim() !== '') await client.query(rule.setup);
      if (rule.transitions?.length) await client.query(installChangeLog(rule.transitions));
      const loads = new Map<string, string>();
      for (const table of rule.tables) loads.set(table, await loadSql(client, catalog, table));
      const { rows } = await client.query<{ superuser: boolean }>('SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user');
      return new DatabaseModel(client, rule, removed, loads, rows[0]?.superuser === true);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /** What the copy lacks, in a phrase for a report. */
  get without(): string {
    return this.removed.length === 0 ? 'no object removed (none enforces the rule)' : `without ${this.removed.map((o) => `${o.kind} ${o.name}`).join(', ')}`;
  }

  /** Applies `op` to the committed state `raw` (as the executor's snapshot read it) and runs the rule's invariant. */
  async judge(raw: RawState, op: Operation): Promise<Judgement> {
    if (this.rule.mustAccept?.(op) === 'always') return { allowed: true, reason: 'the rule allows it in every state' };
    const client = this.client;
    await client.query('BEGIN');
    try {
      await this.load(raw);
      const statement = this.rule.sql(op);
      try {
        await client.query(statement.text, [...statement.values]);
      } catch (error) {
        if (!isServerError(error)) throw error;
        return { allowed: false, reason: `the schema ${this.without} refuses it too: ${error.message}` };
      }
      if (this.rule.mustAccept?.(op)) return { allowed: true, reason: `the rule allows it in every state, and the schema ${this.without} accepts it` };
      const { rows } = await client.query(this.rule.invariant, [...(this.rule.invariantValues ?? [])]);
      if (rows.length > 0) return { allowed: false, reason: `it would break the rule: ${JSON.stringify(rows[0])}` };
      return { allowed: true, reason: `the schema ${this.without} accepts it and the rule holds after it` };
    } finally {
      await client.query('ROLLBACK');
    }
  }

  /**
   * Pairs of operations that conflict from the committed state `raw`, and from the states one accepted
   * operation leads to (a credit before two debits race for it): each accepted alone with the rule holding,
   * the second breaking it after the first. Operations the rule allows in every state (a stored counter's
   * writes) conflict when they share an argument: they meet on the same row. Everything runs in one
   * transaction, each try rolled back to a savepoint, so the copy stays as it is.
   */
  async conflicts(raw: RawState, candidates: readonly Operation[], limit: number): Promise<Conflict[]> {
    const client = this.client;
    const found: Conflict[] = [];
    await client.query('BEGIN');
    try {
      await this.load(raw);
      const share = Math.max(1, Math.ceil(limit / (1 + PREFIXES)));
      const alone = await this.acceptedAlone(candidates);
      found.push(...(await this.pairsAmong([], alone.map((a) => a.op), share)));
      // Prefixes that change something (a delete of a missing row leads nowhere new), one per kind first.
      const changing = alone.filter((a) => a.changed > 0 && !this.rule.mustAccept?.(a.op));
      const prefixes = [...changing.filter((a, i) => changing.findIndex((b) => b.op.kind === a.op.kind) === i), ...changing].slice(0, PREFIXES);
      for (const { op: prefix } of prefixes) {
        await client.query('SAVEPOINT pgconform_prefix');
        if ((await this.holds(prefix)) !== false) found.push(...(await this.pairsAmong([prefix], (await this.acceptedAlone(candidates)).map((a) => a.op), share)));
        await client.query('ROLLBACK TO SAVEPOINT pgconform_prefix');
      }
      return found.slice(0, limit);
    } finally {
      await client.query('ROLLBACK');
    }
  }

  /** The candidates the copy accepts in the current state with the rule holding after each. */
  private async acceptedAlone(candidates: readonly Operation[]): Promise<Array<{ op: Operation; changed: number }>> {
    const alone: Array<{ op: Operation; changed: number }> = [];
    for (const op of candidates) {
      await this.client.query('SAVEPOINT pgconform_alone');
      const changed = await this.holds(op);
      if (changed !== false) alone.push({ op, changed });
      await this.client.query('ROLLBACK TO SAVEPOINT pgconform_alone');
    }
    return alone;
  }

  /** Conflicting pairs among operations accepted alone; pairs sharing more arguments (the same row, the same account) are tried first, and at most PAIR_CHECKS are tried. */
  private async pairsAmong(prefix: readonly Operation[], alone: readonly Operation[], limit: number): Promise<Conflict[]> {
    const found: Conflict[] = [];
    const pairs = alone.flatMap((first) => alone.filter((second) => second !== first).map((second) => ({ first, second, shared: sharedArguments(first, second) })));
    pairs.sort((a, b) => b.shared - a.shared);
    for (const { first, second, shared } of pairs.slice(0, PAIR_CHECKS)) {
      if (found.length >= limit) break;
      if (this.rule.mustAccept?.(first) && this.rule.mustAccept?.(second)) {
        if (shared > 0) found.push({ prefix, first, second });
        continue;
      }
      await this.client.query('SAVEPOINT pgconform_first');
      // A second the copy refuses outright (a duplicate primary key) is no conflict of the rule.
      const conflict = (await this.holds(first)) !== false && (await this.attempt(second)) === 'breaks';
      await this.client.query('ROLLBACK TO SAVEPOINT pgconform_first');
      if (conflict) found.push({ prefix, first, second });
    }
    return found;
  }

  /** Applies `op` in the open transaction: the rows it changed when the copy accepts it and the rule holds after it, else false (a refusal is rolled back). */
  private async holds(op: Operation): Promise<number | false> {
    const outcome = await this.attempt(op);
    return typeof outcome === 'number' ? outcome : false;
  }

  /** Applies `op`: the rows it changed when the rule holds after it, 'breaks' when the copy takes it and the rule breaks, 'refused' (rolled back) when the copy refuses it. */
  private async attempt(op: Operation): Promise<number | 'breaks' | 'refused'> {
    await this.client.query('SAVEPOINT pgconform_op');
    try {
      const statement = this.rule.sql(op);
      const changed = (await this.client.query(statement.text, [...statement.values])).rowCount ?? 0;
      if (this.rule.mustAccept?.(op)) return changed;
      const { rows } = await this.client.query(this.rule.invariant, [...(this.rule.invariantValues ?? [])]);
      return rows.length === 0 ? changed : 'breaks';
    } catch (error) {
      if (!isServerError(error)) throw error;
      await this.client.query('ROLLBACK TO SAVEPOINT pgconform_op');
      return 'refused';
    }
  }

  /** Replaces the contents of the rule's tables with the snapshot's rows, without firing the schema's triggers. */
  private async load(raw: RawState): Promise<void> {
    const client = this.client;
    const tables = [...this.loads.keys()];
    if (this.superuser) await client.query('SET LOCAL session_replication_role = replica');
    else for (const table of tables) await client.query(`ALTER TABLE ${quoteQualified(table)} DISABLE TRIGGER USER`);
    for (const table of [...tables].reverse()) await client.query(`DELETE FROM ${quoteQualified(table)}`);
    for (const table of tables) {
      const rows = (raw[table] ?? []).map((entry) => ('row' in entry && 'classes' in entry ? (entry.row as Row) : (entry as Row)));
      if (rows.length > 0) await client.query(this.loads.get(table)!, [JSON.stringify(rows)]);
    }
    if (this.superuser) await client.query('SET LOCAL session_replication_role = origin');
    else for (const table of tables) await client.query(`ALTER TABLE ${quoteQualified(table)} ENABLE TRIGGER USER`);
    await client.query('SET CONSTRAINTS ALL IMMEDIATE');
  }

  /** Closes the connection (the database is the sandbox's to drop). */
  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

/** How many arguments two operations share by name and value (NULL never counts). */
function sharedArguments(a: Operation, b: Operation): number {
  return Object.entries(a.args).filter(([name, value]) => value !== null && name in b.args && b.args[name] === value).length;
}

/** INSERT … SELECT from a JSON array of rows, every stored column but generated ones, identities as given. */
async function loadSql(client: pg.Client, catalog: Catalog, table: string): Promise<string> {
  const name = findTable(catalog, table)?.qualified ?? quoteQualified(table);
  const { rows } = await client.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
    [name],
  );
  const columns = rows.map((r) => quoteIdent(r.name)).join(', ');
  return `INSERT INTO ${name} (${columns}) OVERRIDING SYSTEM VALUE SELECT ${columns} FROM json_populate_recordset(NULL::${name}, $1::json)`;
}
