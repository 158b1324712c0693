import fc from 'fast-check';
import { quoteIdent, quoteQualified } from '../db/connection.ts';
import { poolArbitrary, type Pool } from './pool.ts';
import { sameValue } from './predicate.ts';
import type { Operation, Row, RuleReference, Statement, Value } from './rule.ts';

/** One table whose rows the generator inserts, updates and deletes by a primary key from a pool. */
export interface TableShape {
  readonly table: string;
  readonly primaryKey: {
    readonly column: string;
    readonly pool: Pool;
    /** For GENERATED ALWAYS identity keys: insert with OVERRIDING SYSTEM VALUE. */
    readonly overridingSystemValue?: boolean;
  };
  /** Columns set on insert, each from its pool. */
  readonly columns: Readonly<Record<string, Pool>>;
  /** Columns an update may change (default: every column in `columns`). */
  readonly mutable?: readonly string[];
  /** Columns that never change after insert, filled per primary key slot (e.g. a unique email). */
  readonly perRow?: Readonly<Record<string, Pool>>;
}

/** The structural outcome of applying an operation to the model: new rows, or why the schema may reject it. */
export type Applied = { readonly rows: Row[] } | { readonly rejected: string };

const KEY = '$key';
const COLUMN = '$column';
const VALUE = '$value';

/** Insert, update (one column, or several with kind "set") and delete over one table. */
export class TableOperations {
  readonly mutable: readonly string[];

  constructor(readonly shape: TableShape) {
    this.mutable = shape.mutable ?? Object.keys(shape.columns);
  }

  /** The table and every column this shape names, keyed as in its configuration (under `prefix`). */
  references(prefix = ''): RuleReference[] {
    const { table, primaryKey, columns, perRow } = this.shape;
    return [
      { key: `${prefix}table`, table },
      { key: `${prefix}primaryKey.column`, table, column: primaryKey.column, values: primaryKey.pool.values },
      ...Object.entries(columns).map(([column, pool]) => ({ key: `${prefix}columns.${column}`, table, column, values: pool.values })),
      ...Object.entries(perRow ?? {}).map(([column, pool]) => ({ key: `${prefix}perRow.${column}`, table, column, values: pool.values })),
    ];
  }

  /** insert : update : delete = 4 : 4 : 1, so tables fill up and rows move between states. */
  arbitrary(): fc.Arbitrary<Operation> {
    const key = poolArbitrary(this.shape.primaryKey.pool);
    const insert = fc
      .record({ key: fc.constantFrom(...this.shape.primaryKey.pool.values), values: fc.record(mapPools(this.shape.columns, (pool) => poolArbitrary(pool))) })
      .map(({ key: id, values }) => this.insert(id, values));
    const update = fc
      .constantFrom(...this.mutable)
      .chain((column) =>
        fc.record({ key, value: poolArbitrary(this.poolOf(column)) }).map(({ key: id, value }) => ({
          kind: 'update',
          args: { [KEY]: id, [COLUMN]: column, [VALUE]: value },
        })),
      );
    const remove = key.map((id): Operation => ({ kind: 'delete', args: { [KEY]: id } }));
    return fc.oneof({ arbitrary: insert, weight: 4 }, { arbitrary: update, weight: 4 }, { arbitrary: remove, weight: 1 });
  }

  /** An insert of a row with this key and these column values. */
  insert(key: Value, values: Readonly<Record<string, Value>>): Operation {
    return { kind: 'insert', args: { [this.shape.primaryKey.column]: key, ...values } };
  }

  /** An update that sets several columns of one row at once. */
  set(key: Value, values: Readonly<Record<string, Value>>): Operation {
    return { kind: 'set', args: { [KEY]: key, ...values } };
  }

  /** Whether this operation belongs to this table's vocabulary. */
  owns(op: Operation): boolean {
    return op.kind === 'insert' || op.kind === 'update' || op.kind === 'set' || op.kind === 'delete';
  }

  sql(op: Operation): Statement {
    const table = quoteQualified(this.shape.table);
    const pk = quoteIdent(this.shape.primaryKey.column);
    switch (op.kind) {
      case 'insert': {
        const row = this.rowFor(op);
        const columns = Object.keys(row);
        const overriding = this.shape.primaryKey.overridingSystemValue ? ' OVERRIDING SYSTEM VALUE' : '';
        return {
          text: `INSERT INTO ${table} (${columns.map(quoteIdent).join(', ')})${overriding} VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
          values: Object.values(row),
        };
      }
      case 'update':
        return {
          text: `UPDATE ${table} SET ${quoteIdent(this.checkedColumn(op.args[COLUMN]))} = $2 WHERE ${pk} = $1`,
          values: [op.args[KEY] ?? null, op.args[VALUE] ?? null],
        };
      case 'set': {
        const columns = Object.keys(op.args).filter((c) => c !== KEY).map((c) => this.checkedColumn(c));
        return {
          text: `UPDATE ${table} SET ${columns.map((c, i) => `${quoteIdent(c)} = $${i + 2}`).join(', ')} WHERE ${pk} = $1`,
          values: [op.args[KEY] ?? null, ...columns.map((c) => op.args[c] ?? null)],
        };
      }
      case 'delete':
        return { text: `DELETE FROM ${table} WHERE ${pk} = $1`, values: [op.args[KEY] ?? null] };
      default:
        throw new Error(`unknown operation ${op.kind} on ${this.shape.table}`);
    }
  }

  describe(op: Operation): string {
    const key = this.shape.primaryKey.pool.label(op.args[KEY] ?? op.args[this.shape.primaryKey.column] ?? null);
    switch (op.kind) {
      case 'insert':
        return `insert ${key} (${this.describeValues(op.args)})`;
      case 'update': {
        const column = String(op.args[COLUMN]);
        return `update ${key} set ${column} = ${this.poolOf(column).label(op.args[VALUE] ?? null)}`;
      }
      case 'set':
        return `update ${key} set ${this.describeValues(op.args)}`;
      case 'delete':
        return `delete ${key}`;
      default:
        return `${op.kind} ${JSON.stringify(op.args)}`;
    }
  }

  /** Applies the operation to the model's rows; a duplicate primary key is a legitimate rejection. */
  apply(rows: readonly Row[], op: Operation): Applied {
    const pk = this.shape.primaryKey.column;
    const key = op.args[KEY] ?? op.args[pk] ?? null;
    const index = rows.findIndex((row) => sameValue(row[pk] ?? null, key));
    switch (op.kind) {
      case 'insert':
        if (index >= 0) return { rejected: `a row with ${pk} ${this.shape.primaryKey.pool.label(key)} already exists` };
        return { rows: [...rows, this.rowFor(op)] };
      case 'update':
      case 'set': {
        if (index < 0) return { rows: [...rows] };
        const changes = op.kind === 'update' ? { [String(op.args[COLUMN])]: op.args[VALUE] ?? null } : withoutKey(op.args);
        return { rows: rows.map((row, i) => (i === index ? { ...row, ...changes } : row)) };
      }
      case 'delete':
        return { rows: rows.filter((_, i) => i !== index) };
      default:
        throw new Error(`unknown operation ${op.kind} on ${this.shape.table}`);
    }
  }

  /** The pool a column draws from. */
  poolOf(column: string): Pool {
    const pool = this.shape.columns[column] ?? this.shape.perRow?.[column];
    if (!pool) throw new Error(`column ${column} is not generated for ${this.shape.table}`);
    return pool;
  }

  private rowFor(op: Operation): Row {
    const pk = this.shape.primaryKey.column;
    const key = op.args[pk] ?? null;
    const slot = Math.max(0, this.shape.primaryKey.pool.values.findIndex((v) => sameValue(v, key)));
    const perRow = mapPools(this.shape.perRow ?? {}, (pool) => pool.values[slot % pool.values.length] ?? null);
    return { [pk]: key, ...perRow, ...withoutKey(op.args) };
  }

  private checkedColumn(column: unknown): string {
    const name = String(column);
    if (!(name in this.shape.columns)) throw new Error(`column ${name} is not generated for ${this.shape.table}`);
    return name;
  }

  private describeValues(args: Readonly<Record<string, Value>>): string {
    return Object.entries(args)
      .filter(([column]) => column !== KEY && column !== this.shape.primaryKey.column)
      .map(([column, value]) => `${column}=${this.poolOf(column).label(value)}`)
      .join(', ');
  }
}

function withoutKey(args: Readonly<Record<string, Value>>): Row {
  const { [KEY]: _key, ...rest } = args;
  return rest;
}

function mapPools<T>(pools: Readonly<Record<string, Pool>>, f: (pool: Pool) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(pools).map(([column, pool]) => [column, f(pool)]));
}
