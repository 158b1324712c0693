import pg from 'pg';
import { quoteIdent, quoteQualified } from '../db/connection.ts';
import type { Operation, Row, State, Value } from '../rules/rule.ts';

/** The values a rule writes into one column, grouped into classes by the equality of the column's type. */
export interface ColumnClasses {
  /** The table as the rule names it. */
  readonly table: string;
  readonly column: string;
  /** The column's type as the server prints it, e.g. "timestamp(6) without time zone". */
  readonly type: string;
  /** "type": compared with the type's `=` (as a unique index does); "text": the type has no `=` (json, point), compared by its text. */
  readonly equality: 'type' | 'text';
  /** The values the rule writes (no NULL, each once), in the order the rule gives them. */
  readonly values: readonly Value[];
  /** Each value as the server stores and prints it; null for one the type's own constraint (a domain CHECK) refuses. */
  readonly texts: readonly (string | null)[];
  /** The index of each value's class representative: the first of `values` the type says is equal to it. */
  readonly classOf: readonly number[];
}

/** A snapshot as the database returns it: per table, rows, or rows with the class of each written column. */
export type RawState = Record<string, Array<Row | { row: Row; classes: Array<number | null> }>>;

/**
 * The reference model's view of values, decided by the server: every value a rule writes, and every value
 * read back, becomes the representative of its class under the column type's equality. Two spellings of one
 * timestamp, 1.5 and 1.50 in a numeric, 'A@X.COM' and 'a@x.com' in a citext are one value to the model, as
 * they are to a unique index. Values no rule wrote (defaults, trigger output) stay as read.
 */
export class CanonicalValues {
  /** No column is written: values stay as generated and as read. */
  static readonly none = new CanonicalValues([]);

  private readonly byTable = new Map<string, ColumnClasses[]>();

  constructor(readonly columns: readonly ColumnClasses[]) {
    for (const column of columns) this.byTable.set(column.table, [...(this.byTable.get(column.table) ?? []), column]);
  }

  /** The operation with each argument replaced by its class representative. */
  operation(op: Operation): Operation {
    if (this.columns.length === 0) return op;
    return { kind: op.kind, args: Object.fromEntries(Object.entries(op.args).map(([name, value]) => [name, this.argument(name, value)])) };
  }

  /** Decodes a snapshot read with snapshotSql: written columns become class representatives. */
  state(raw: RawState): State {
    const state: State = {};
    for (const [table, entries] of Object.entries(raw)) {
      const columns = this.byTable.get(table);
      state[table] = entries.map((entry) => {
        if (!columns) return entry as Row;
        const { row, classes } = entry as { row: Row; classes: Array<number | null> };
        const canonical = { ...row };
        columns.forEach((column, i) => {
          const index = classes[i];
          if (index !== null && index !== undefined) canonical[column.column] = column.values[column.classOf[index]!]!;
        });
        return canonical;
      });
    }
    return state;
  }

  /**
   * One query reading every table as JSON rows; for a table with written columns each row also carries the
   * class of each such column, found by the server with the type's own equality (so a value a trigger wrote
   * in another spelling maps to its class too).
   */
  snapshotSql(tables: readonly string[]): string {
    const parts = tables.map((table, i) => {
      const alias = `t${i}`;
      const columns = this.byTable.get(table);
      const item = columns ? `json_build_object('row', ${alias}, 'classes', json_build_array(${columns.map((c) => classExpression(c, alias)).join(', ')}))` : alias;
      return `(SELECT coalesce(json_agg(${item}), '[]'::json) FROM ${quoteQualified(table)} ${alias}) AS ${quoteIdent(table)}`;
    });
    return `SELECT ${parts.join(', ')}`;
  }

  /**
   * An argument's representative. By the column it is named after when the rule writes one of that name,
   * otherwise by every column the value is written to; when those disagree (one value in columns of
   * different types) the value stays as it is.
   */
  private argument(name: string, value: Value): Value {
    if (value === null) return null;
    const named = this.columns.filter((c) => c.column === name && indexOf(c, value) >= 0);
    const candidates = named.length > 0 ? named : this.columns.filter((c) => indexOf(c, value) >= 0);
    const representatives = new Set(candidates.map((c) => JSON.stringify(c.values[c.classOf[indexOf(c, value)]!])));
    if (representatives.size !== 1) return value;
    const [column] = candidates;
    return column!.values[column!.classOf[indexOf(column!, value)]!]!;
  }
}

function indexOf(column: ColumnClasses, value: Value): number {
  const key = JSON.stringify(value);
  return column.values.findIndex((v) => JSON.stringify(v) === key);
}

/** CASE giving the index of the class representative the column's value equals (NULL for none). */
function classExpression(column: ColumnClasses, alias: string): string {
  const target = `${alias}.${quoteIdent(column.column)}`;
  // An untyped literal takes the column's type, so `=` is the operator a unique index on the column uses.
  const compared = column.equality === 'type' ? target : `${target}::text`;
  // One WHEN per class: its representative's text stands for every member.
  const whens = column.texts.flatMap((text, i) => (text === null || column.classOf[i] !== i ? [] : [`WHEN ${compared} = ${pg.escapeLiteral(text)} THEN ${i}`]));
  return whens.length === 0 ? 'NULL' : `CASE ${whens.join(' ')} END`;
}
