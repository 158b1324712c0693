import fc from 'fast-check';
import { quoteIdent, quoteQualified } from '../db/connection.ts';
import { poolArbitrary, type Pool } from './pool.ts';
import { evaluate, predicateColumns, sameValue, type Predicate } from './predicate.ts';
import type { Operation, Row, RuleReference, Statement, Value } from './rule.ts';
import { KeyComparison, type UniqueKey } from './unique-key.ts';

/**
 * How a rule addresses one row: one key column with its pool, or several (a composite primary key,
 * follows(follower_id, followee_id)), each with a small pool so that keys collide.
 */
export type RowKey =
  | {
      readonly column: string;
      readonly pool: Pool;
      /** For GENERATED ALWAYS identity keys: insert with OVERRIDING SYSTEM VALUE. */
      readonly overridingSystemValue?: boolean;
    }
  | { readonly columns: Readonly<Record<string, Pool>> };

/** A unique key of the table that the rule does not judge: a row that duplicates it is a legitimate rejection. */
export type { UniqueKey } from './unique-key.ts';

/** A CHECK of the table that the rule does not judge: a row it rejects (its condition FALSE) is a legitimate rejection. */
export interface OtherCheck {
  readonly name: string;
  readonly check: Predicate;
}

/** One table whose rows the generator inserts, updates and deletes by a key from a pool. */
export interface TableShape {
  readonly table: string;
  readonly primaryKey: RowKey;
  /** Columns set on insert, each from its pool. */
  readonly columns: Readonly<Record<string, Pool>>;
  /** Columns an update may change (default: every column in `columns`). */
  readonly mutable?: readonly string[];
  /** Columns that never change after insert, filled per primary key slot (e.g. a unique email). */
  readonly perRow?: Readonly<Record<string, Pool>>;
  /** The table's other unique keys, which the rule does not judge (UNIQUE (provider) next to a CHECK rule). */
  readonly otherKeys?: readonly UniqueKey[];
  /** The table's CHECKs on generated columns that the rule does not judge (an XOR of two key columns). */
  readonly otherChecks?: readonly OtherCheck[];
}

/** The structural outcome of applying an operation to the model: new rows, or why the schema may reject it. */
export type Applied = { readonly rows: Row[] } | { readonly rejected: string };

const KEY = '$key';
const COLUMN = '$column';
const VALUE = '$value';
/** Argument of one column of a composite key in update, set and delete ($key.follower_id). */
const keyArg = (column: string) => `${KEY}.${column}`;

/** Insert, update (one column, or several with kind "set") and delete over one table. */
export class TableOperations {
  readonly mutable: readonly string[];
  /** The key columns, in key order, and their pools. */
  readonly keyColumns: readonly string[];
  private readonly keyPools: Readonly<Record<string, Pool>>;
  /** Every key the pools can form, in slot order (the slot picks the per-row values). */
  private readonly slots: readonly Row[];
  private readonly otherKeyComparisons: ReadonlyArray<readonly [UniqueKey, KeyComparison]>;

  constructor(readonly shape: TableShape) {
    this.otherKeyComparisons = (shape.otherKeys ?? []).map((unique) => [unique, new KeyComparison(unique)] as const);
    this.mutable = shape.mutable ?? Object.keys(shape.columns);
    const key = shape.primaryKey;
    this.keyPools = 'columns' in key ? key.columns : { [key.column]: key.pool };
    this.keyColumns = Object.keys(this.keyPools);
    this.slots = this.keyColumns.reduce<Row[]>(
      (rows, column) => rows.flatMap((row) => this.keyPools[column]!.values.map((value) => ({ ...row, [column]: value }))),
      [{}],
    );
  }

  /** Whether the rows are addressed by several columns. */
  get composite(): boolean {
    return 'columns' in this.shape.primaryKey;
  }

  /** The table and every column this shape names, keyed as in its configuration (under `prefix`). */
  references(prefix = ''): RuleReference[] {
    const { table, primaryKey, columns, perRow } = this.shape;
    const keys =
      'columns' in primaryKey
        ? Object.entries(primaryKey.columns).map(([column, pool]) => ({ key: `${prefix}primaryKey.columns.${column}`, table, column, values: pool.values }))
        : [{ key: `${prefix}primaryKey.column`, table, column: primaryKey.column, values: primaryKey.pool.values }];
    return [
      { key: `${prefix}table`, table },
      ...keys,
      ...Object.entries(columns).map(([column, pool]) => ({ key: `${prefix}columns.${column}`, table, column, values: pool.values })),
      ...Object.entries(perRow ?? {}).map(([column, pool]) => ({ key: `${prefix}perRow.${column}`, table, column, values: pool.values })),
      ...(this.shape.otherKeys ?? []).flatMap((unique, i) => unique.key.map((column) => ({ key: `${prefix}otherKeys[${i}].key`, table, column }))),
      ...(this.shape.otherChecks ?? []).flatMap((other, i) => predicateColumns(other.check).map((column) => ({ key: `${prefix}otherChecks[${i}].check`, table, column }))),
    ];
  }

  /** insert : update : delete = 4 : 4 : 1, so tables fill up and rows move between states. */
  arbitrary(): fc.Arbitrary<Operation> {
    const key = this.keyArbitrary((pool) => poolArbitrary(pool));
    const refused = this.insertsRefused;
    const insert = fc
      .record({ key: this.keyArbitrary((pool) => fc.constantFrom(...pool.values)), values: fc.record(mapPools(this.shape.columns, (pool) => poolArbitrary(pool))) })
      .map(({ key: id, values }) => this.insert(id, values))
      // A row a CHECK the rule does not judge rejects (an XOR of two key columns) exercises nothing of the rule.
      .filter((op) => !refused || this.otherCheckRefusal(this.rowFor(op)) === undefined);
    const update = fc
      .constantFrom(...(this.mutable.length ? this.mutable : ['']))
      .chain((column) =>
        fc.record({ key, value: poolArbitrary(this.poolOf(column)) }).map(({ key: id, value }) => ({
          kind: 'update',
          args: { ...this.keyArgs(id), [COLUMN]: column, [VALUE]: value },
        })),
      );
    const remove = key.map((id): Operation => ({ kind: 'delete', args: this.keyArgs(id) }));
    // A table of key columns only (follows(follower_id, followee_id)) has nothing to update.
    if (this.mutable.length === 0) return fc.oneof({ arbitrary: insert, weight: 4 }, { arbitrary: remove, weight: 1 });
    return fc.oneof({ arbitrary: insert, weight: 4 }, { arbitrary: update, weight: 4 }, { arbitrary: remove, weight: 1 });
  }

  /** The key of the i-th slot: a value for one key column, a row of key values for several. */
  keyAt(slot: number): Value | Row {
    const row = this.slots[slot % this.slots.length] ?? {};
    return this.composite ? row : (row[this.keyColumns[0]!] ?? null);
  }

  /** An insert of a row with this key (a value, or key column → value) and these column values. */
  insert(key: Value | Row, values: Readonly<Record<string, Value>>): Operation {
    return { kind: 'insert', args: { ...this.keyRow(key), ...values } };
  }

  /** An update that sets several columns of one row at once. */
  set(key: Value | Row, values: Readonly<Record<string, Value>>): Operation {
    return { kind: 'set', args: { ...this.keyArgs(key), ...values } };
  }

  /** Whether this operation belongs to this table's vocabulary. */
  owns(op: Operation): boolean {
    return op.kind === 'insert' || op.kind === 'update' || op.kind === 'set' || op.kind === 'delete';
  }

  sql(op: Operation): Statement {
    const table = quoteQualified(this.shape.table);
    const key = this.keyOf(op);
    const keyValues = this.keyColumns.map((c) => key[c] ?? null);
    const where = this.keyColumns.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(' AND ');
    const n = this.keyColumns.length;
    switch (op.kind) {
      case 'insert': {
        const row = this.rowFor(op);
        const columns = Object.keys(row);
        const key = this.shape.primaryKey;
        const overriding = 'column' in key && key.overridingSystemValue ? ' OVERRIDING SYSTEM VALUE' : '';
        return {
          text: `INSERT INTO ${table} (${columns.map(quoteIdent).join(', ')})${overriding} VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
          values: Object.values(row),
        };
      }
      case 'update':
        return {
          text: `UPDATE ${table} SET ${quoteIdent(this.checkedColumn(op.args[COLUMN]))} = $${n + 1} WHERE ${where}`,
          values: [...keyValues, op.args[VALUE] ?? null],
        };
      case 'set': {
        const columns = Object.keys(this.changes(op)).map((c) => this.checkedColumn(c));
        return {
          text: `UPDATE ${table} SET ${columns.map((c, i) => `${quoteIdent(c)} = $${i + n + 1}`).join(', ')} WHERE ${where}`,
          values: [...keyValues, ...columns.map((c) => op.args[c] ?? null)],
        };
      }
      case 'delete':
        return { text: `DELETE FROM ${table} WHERE ${where}`, values: keyValues };
      default:
        throw new Error(`unknown operation ${op.kind} on ${this.shape.table}`);
    }
  }

  describe(op: Operation): string {
    const key = this.labelKey(this.keyOf(op));
    switch (op.kind) {
      case 'insert':
        return `insert ${key} (${this.describeValues(this.changes(op))})`;
      case 'update': {
        const column = String(op.args[COLUMN]);
        return `update ${key} set ${column} = ${this.poolOf(column).label(op.args[VALUE] ?? null)}`;
      }
      case 'set':
        return `update ${key} set ${this.describeValues(this.changes(op))}`;
      case 'delete':
        return `delete ${key}`;
      default:
        return `${op.kind} ${JSON.stringify(op.args)}`;
    }
  }

  /** How a row's key reads: user#1, or (follower#1, followee#2) for a composite key. */
  labelKey(row: Row): string {
    const labels = this.keyColumns.map((c) => this.keyPools[c]!.label(row[c] ?? null));
    return this.composite ? `(${labels.join(', ')})` : labels[0]!;
  }

  /**
   * Applies the operation to the model's rows. A duplicate key, or a duplicate on one of the table's
   * other unique keys (which the rule does not judge), is a legitimate rejection.
   */
  apply(rows: readonly Row[], op: Operation): Applied {
    const key = this.keyOf(op);
    const index = rows.findIndex((row) => this.keyColumns.every((c) => sameValue(row[c] ?? null, key[c] ?? null)));
    let next: Row[];
    switch (op.kind) {
      case 'insert':
        if (index >= 0) return { rejected: `a row with ${this.describeKey(key)} already exists` };
        next = [...rows, this.rowFor(op)];
        break;
      case 'update':
      case 'set': {
        if (index < 0) return { rows: [...rows] };
        const changes = op.kind === 'update' ? { [String(op.args[COLUMN])]: op.args[VALUE] ?? null } : this.changes(op);
        next = rows.map((row, i) => (i === index ? { ...row, ...changes } : row));
        break;
      }
      case 'delete':
        return { rows: rows.filter((_, i) => i !== index) };
      default:
        throw new Error(`unknown operation ${op.kind} on ${this.shape.table}`);
    }
    const changed = op.kind === 'insert' ? next[next.length - 1]! : next[index]!;
    const refused = this.otherCheckRefusal(changed) ?? this.otherKeyDuplicate(next);
    return refused ? { rejected: refused } : { rows: next };
  }

  /** The pool a column draws from. */
  poolOf(column: string): Pool {
    const pool = this.shape.columns[column] ?? this.shape.perRow?.[column] ?? this.keyPools[column];
    if (!pool) throw new Error(`column ${column} is not generated for ${this.shape.table}`);
    return pool;
  }

  /** SQL for a row's key in an invariant's json_agg, and the ORDER BY that goes with it (json has no ordering). */
  keySql(alias = ''): { value: string; order: string } {
    const columns = this.keyColumns.map((c) => `${alias}${quoteIdent(c)}`);
    return { value: columns.length === 1 ? columns[0]! : `json_build_array(${columns.join(', ')})`, order: columns.join(', ') };
  }

  private describeKey(key: Row): string {
    return this.keyColumns.map((c) => `${c} ${this.keyPools[c]!.label(key[c] ?? null)}`).join(' and ');
  }

  /** Whether the other CHECKs refuse some inserted rows and let some through: then inserts are drawn among those they let through. */
  private get insertsRefused(): boolean {
    if (!this.shape.otherChecks?.length) return false;
    const rows = this.slots.flatMap((key) => product(Object.entries(this.shape.columns)).map((values) => ({ ...key, ...values }))).slice(0, 4096);
    const passing = rows.filter((row) => this.otherCheckRefusal(row) === undefined).length;
    return passing > 0 && passing < rows.length;
  }

  /** The reason one of the table's other CHECKs rejects the row (its condition is FALSE; NULL passes, as in SQL), if one does. */
  private otherCheckRefusal(row: Row): string | undefined {
    const refusing = (this.shape.otherChecks ?? []).find((other) => evaluate(other.check, row) === false);
    return refusing && `the CHECK ${refusing.name} rejects the row, which the rule does not judge`;
  }

  /** The reason a model state breaks one of the other unique keys, if it does. */
  private otherKeyDuplicate(rows: readonly Row[]): string | undefined {
    for (const [unique, comparison] of this.otherKeyComparisons) {
      const seen = new Set<string>();
      for (const row of rows) {
        if (unique.where && evaluate(unique.where, row) !== true) continue;
        const parts = comparison.parts(row);
        if (parts.some((part) => part === null)) continue; // NULLs are distinct, as in a unique index
        const id = JSON.stringify(parts);
        if (seen.has(id)) {
          const values = unique.key.map((c) => `${c} = ${this.shape.columns[c] || this.shape.perRow?.[c] || this.keyPools[c] ? this.poolOf(c).label(row[c] ?? null) : String(row[c])}`);
          return `another row has ${values.join(', ')}, which the table's unique key (${unique.key.join(', ')}) rejects and the rule does not judge`;
        }
        seen.add(id);
      }
    }
    return undefined;
  }

  /** The key an operation addresses, key column → value. */
  private keyOf(op: Operation): Row {
    if (!this.composite) {
      const column = this.keyColumns[0]!;
      return { [column]: op.args[KEY] ?? op.args[column] ?? null };
    }
    return Object.fromEntries(this.keyColumns.map((c) => [c, op.args[keyArg(c)] ?? op.args[c] ?? null]));
  }

  /** The key as insert arguments (the key columns themselves). */
  private keyRow(key: Value | Row): Row {
    if (this.composite) return Object.fromEntries(this.keyColumns.map((c) => [c, (key as Row | null)?.[c] ?? null]));
    return { [this.keyColumns[0]!]: key as Value };
  }

  /** The key as update, set and delete arguments ($key, or $key.<column> for each key column). */
  private keyArgs(key: Value | Row): Row {
    if (!this.composite) return { [KEY]: key as Value };
    return Object.fromEntries(this.keyColumns.map((c) => [keyArg(c), (key as Row | null)?.[c] ?? null]));
  }

  /** A single-column key draws one value; a composite key one value per column. */
  private keyArbitrary(draw: (pool: Pool) => fc.Arbitrary<Value>): fc.Arbitrary<Value | Row> {
    if (!this.composite) return draw(this.keyPools[this.keyColumns[0]!]!);
    return fc.record(mapPools(this.keyPools, draw));
  }

  private rowFor(op: Operation): Row {
    const key = this.keyOf(op);
    const slot = Math.max(0, this.slots.findIndex((s) => this.keyColumns.every((c) => sameValue(s[c] ?? null, key[c] ?? null))));
    const perRow = mapPools(this.shape.perRow ?? {}, (pool) => pool.values[slot % pool.values.length] ?? null);
    return { ...key, ...perRow, ...this.changes(op) };
  }

  /** The column values an operation writes, without its key. */
  private changes(op: Operation): Row {
    const isKey = (name: string) => name === KEY || name.startsWith(`${KEY}.`) || (op.kind === 'insert' && this.keyColumns.includes(name));
    return Object.fromEntries(Object.entries(op.args).filter(([name]) => !isKey(name)));
  }

  private checkedColumn(column: unknown): string {
    const name = String(column);
    if (!(name in this.shape.columns)) throw new Error(`column ${name} is not generated for ${this.shape.table}`);
    return name;
  }

  private describeValues(args: Readonly<Record<string, Value>>): string {
    return Object.entries(args)
      .map(([column, value]) => `${column}=${this.poolOf(column).label(value)}`)
      .join(', ');
  }
}

function mapPools<T>(pools: Readonly<Record<string, Pool>>, f: (pool: Pool) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(pools).map(([column, pool]) => [column, f(pool)]));
}

/** Every combination of one value per column's pool, as rows (the first 4096). */
function product(columns: ReadonlyArray<readonly [string, Pool]>): Row[] {
  return columns.reduce<Row[]>((rows, [column, pool]) => rows.flatMap((row) => pool.values.map((value) => ({ ...row, [column]: value }))).slice(0, 4096), [{}]);
}
