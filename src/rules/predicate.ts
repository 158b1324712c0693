import type { Row, Rule, Value } from './rule.ts';
import { compareToLiteral } from './value-order.ts';

/** Case folding applied to a text column before it is compared: PostgreSQL's lower() or upper(). */
export type Fold = 'lower' | 'upper';
/** A column as a comparison reads it: its name, or its value case-folded (`lower('email')`). */
export type ColumnOperand = string | { readonly column: string; readonly fold: Fold };
/** The comparison operators: =, <>, <, <=, >, >=. */
export type ComparisonOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

/** A condition on one row, evaluated with SQL's three-valued logic in both SQL and the model. */
export type Predicate =
  | { readonly op: ComparisonOp; readonly column: string; readonly value: Exclude<Value, null>; readonly fold?: Fold }
  | { readonly op: 'in' | 'notIn'; readonly column: string; readonly values: readonly Value[]; readonly fold?: Fold }
  | { readonly op: 'isNull' | 'isNotNull' | 'isTrue' | 'isFalse' | 'isNotTrue'; readonly column: string }
  | { readonly op: 'and' | 'or'; readonly of: readonly Predicate[] }
  | { readonly op: 'not'; readonly of: Predicate };

/** A comparison or membership leaf: NULL when its column is NULL. */
export type ValuePredicate = Extract<Predicate, { readonly fold?: Fold }>;

const comparison =
  (op: ComparisonOp) =>
  (column: ColumnOperand, value: Exclude<Value, null>): Predicate => ({ op, ...operand(column), value });

function operand(column: ColumnOperand): { column: string; fold?: Fold } {
  return typeof column === 'string' ? { column } : { column: column.column, fold: column.fold };
}

/** column = value (NULL when the column is NULL, as in SQL). */
export const eq = comparison('eq');
/** column <> value (NULL when the column is NULL). */
export const ne = comparison('ne');
/** column < value: numbers numerically, dates and timestamps by instant, other text by code point (see value-order.ts). */
export const lt = comparison('lt');
/** column <= value (ordered as lt). */
export const le = comparison('le');
/** column > value (ordered as lt). */
export const gt = comparison('gt');
/** column >= value (ordered as lt). */
export const ge = comparison('ge');
/** column IN (values): also `= ANY (ARRAY[…])`; NULL when the column is NULL, or when no value matches and the list holds NULL. */
export const isIn = (column: ColumnOperand, values: readonly Value[]): Predicate => ({ op: 'in', ...operand(column), values: [...values] });
/** column NOT IN (values): also `<> ALL (ARRAY[…])`; never TRUE when the list holds NULL. */
export const notIn = (column: ColumnOperand, values: readonly Value[]): Predicate => ({ op: 'notIn', ...operand(column), values: [...values] });
/** lower(column), for a comparison: `eq(lower('email'), 'a@example.com')`. */
export const lower = (column: string): ColumnOperand => ({ column, fold: 'lower' });
/** upper(column), for a comparison. */
export const upper = (column: string): ColumnOperand => ({ column, fold: 'upper' });
/** column IS NULL */
export const isNull = (column: string): Predicate => ({ op: 'isNull', column });
/** column IS NOT NULL */
export const isNotNull = (column: string): Predicate => ({ op: 'isNotNull', column });
/** column IS TRUE */
export const isTrue = (column: string): Predicate => ({ op: 'isTrue', column });
/** column IS FALSE */
export const isFalse = (column: string): Predicate => ({ op: 'isFalse', column });
/** column IS NOT TRUE (false or NULL) */
export const isNotTrue = (column: string): Predicate => ({ op: 'isNotTrue', column });
/** All of them (SQL AND). */
export const and = (...of: Predicate[]): Predicate => ({ op: 'and', of });
/** Any of them (SQL OR). */
export const or = (...of: Predicate[]): Predicate => ({ op: 'or', of });
/** SQL NOT. */
export const not = (of: Predicate): Predicate => ({ op: 'not', of });

/** Whether a predicate is a comparison or membership leaf. */
export function isValuePredicate(p: Predicate): p is ValuePredicate {
  return p.op in SQL_OPERATORS || p.op === 'in' || p.op === 'notIn';
}

const SQL_OPERATORS: Record<ComparisonOp, string> = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' };

/** The SQL operator of a comparison. */
export function sqlOperator(op: ComparisonOp): string {
  return SQL_OPERATORS[op];
}

/** SQL literal for a value from a spec (spec values, never user input, are inlined). */
export function sqlLiteral(value: Value): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Renders a predicate as a SQL boolean expression; `column` maps a column name to its SQL. With `params`,
 * values become parameters ($n, appended to it) instead of literals.
 */
export function predicateSql(predicate: Predicate, column: (name: string) => string, params?: Value[]): string {
  switch (predicate.op) {
    case 'eq':
    case 'ne':
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
      return `${folded(predicate, column)} ${SQL_OPERATORS[predicate.op]} ${valueSql(predicate.value, params)}`;
    case 'in':
    case 'notIn':
      return `${folded(predicate, column)} ${predicate.op === 'in' ? 'IN' : 'NOT IN'} (${predicate.values.map((v) => valueSql(v, params)).join(', ')})`;
    case 'isNull':
      return `${column(predicate.column)} IS NULL`;
    case 'isNotNull':
      return `${column(predicate.column)} IS NOT NULL`;
    case 'isTrue':
      return `${column(predicate.column)} IS TRUE`;
    case 'isFalse':
      return `${column(predicate.column)} IS FALSE`;
    case 'isNotTrue':
      return `${column(predicate.column)} IS NOT TRUE`;
    case 'and':
    case 'or':
      return `(${predicate.of.map((p) => predicateSql(p, column, params)).join(predicate.op === 'and' ? ' AND ' : ' OR ')})`;
    case 'not':
      return `NOT (${predicateSql(predicate.of, column, params)})`;
  }
}

function folded(predicate: ValuePredicate, column: (name: string) => string): string {
  return predicate.fold ? `${predicate.fold}(${column(predicate.column)})` : column(predicate.column);
}

function valueSql(value: Value, params: Value[] | undefined): string {
  if (!params) return sqlLiteral(value);
  params.push(value);
  return `$${params.length}`;
}

/** Evaluates a predicate on a row: true, false, or null (unknown), exactly as SQL would. */
export function evaluate(predicate: Predicate, row: Row): boolean | null {
  switch (predicate.op) {
    case 'eq':
    case 'ne':
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge': {
      const value = foldedValue(predicate, row);
      return value === null ? null : holds(predicate.op, compareToLiteral(value, predicate.value));
    }
    case 'in':
    case 'notIn': {
      // x IN (a, b) is x = a OR x = b; NOT IN is its negation: a NULL in the list makes a miss unknown.
      const value = foldedValue(predicate, row);
      if (value === null) return null;
      const found = predicate.values.some((v) => v !== null && compareToLiteral(value, v) === 0);
      const member = found ? true : predicate.values.includes(null) ? null : false;
      return member === null ? null : predicate.op === 'in' ? member : !member;
    }
    case 'isNull':
      return (row[predicate.column] ?? null) === null;
    case 'isNotNull':
      return (row[predicate.column] ?? null) !== null;
    case 'isTrue':
      return row[predicate.column] === true;
    case 'isFalse':
      return row[predicate.column] === false;
    case 'isNotTrue':
      return row[predicate.column] !== true;
    case 'and': {
      let result: boolean | null = true;
      for (const part of predicate.of) {
        const value = evaluate(part, row);
        if (value === false) return false;
        if (value === null) result = null;
      }
      return result;
    }
    case 'or': {
      let result: boolean | null = false;
      for (const part of predicate.of) {
        const value = evaluate(part, row);
        if (value === true) return true;
        if (value === null) result = null;
      }
      return result;
    }
    case 'not': {
      const value = evaluate(predicate.of, row);
      return value === null ? null : !value;
    }
  }
}

function foldedValue(predicate: ValuePredicate, row: Row): Value {
  const value = row[predicate.column] ?? null;
  if (value === null || !predicate.fold) return value;
  // JavaScript's case mapping: the server's on ASCII under every locale (beyond ASCII it depends on LC_CTYPE).
  return predicate.fold === 'lower' ? String(value).toLowerCase() : String(value).toUpperCase();
}

function holds(op: ComparisonOp, order: number): boolean {
  switch (op) {
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
  }
}

/** Compares a stored value with a spec value (numbers may come back from JSON as strings). */
export function sameValue(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return String(a) === String(b);
}

/** Columns a predicate reads. */
export function predicateColumns(predicate: Predicate): string[] {
  switch (predicate.op) {
    case 'and':
    case 'or':
      return [...new Set(predicate.of.flatMap(predicateColumns))];
    case 'not':
      return predicateColumns(predicate.of);
    default:
      return [predicate.column];
  }
}

/** SQL with its parameters written in as literals: to read, or to paste into psql. */
export function inlineParams(sql: string, params: readonly Value[]): string {
  return sql.replace(/\$(\d+)/g, (whole, n: string) => {
    const i = Number(n) - 1;
    return i < params.length ? untypedLiteral(params[i]!) : whole;
  });
}

function untypedLiteral(value: Value): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  // An untyped literal, as a parameter is: the server infers its type from where it stands.
  return `'${value.replace(/'/g, "''")}'`;
}

/** A rule's invariant with its values written in: for people and other tools (psql, isolation specs), never for the kit's own queries. */
export function invariantText(rule: Pick<Rule, 'invariant' | 'invariantValues'>): string {
  return inlineParams(rule.invariant, rule.invariantValues ?? []);
}
