import type { Row, Value } from './rule.ts';

/** A condition on one row, evaluated with SQL's three-valued logic in both SQL and the model. */
export type Predicate =
  | { readonly op: 'eq'; readonly column: string; readonly value: Exclude<Value, null> }
  | { readonly op: 'isNull' | 'isNotNull' | 'isTrue' | 'isFalse' | 'isNotTrue'; readonly column: string }
  | { readonly op: 'and' | 'or'; readonly of: readonly Predicate[] }
  | { readonly op: 'not'; readonly of: Predicate };

/** column = value (NULL when the column is NULL, as in SQL). */
export const eq = (column: string, value: Exclude<Value, null>): Predicate => ({ op: 'eq', column, value });
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

/** SQL literal for a value from a spec (spec values, never user input, are inlined). */
export function sqlLiteral(value: Value): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  return `'${value.replace(/'/g, "''")}'`;
}

/** Renders a predicate as a SQL boolean expression; `column` maps a column name to its SQL. */
export function predicateSql(predicate: Predicate, column: (name: string) => string): string {
  switch (predicate.op) {
    case 'eq':
      return `${column(predicate.column)} = ${sqlLiteral(predicate.value)}`;
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
      return `(${predicate.of.map((p) => predicateSql(p, column)).join(predicate.op === 'and' ? ' AND ' : ' OR ')})`;
    case 'not':
      return `NOT (${predicateSql(predicate.of, column)})`;
  }
}

/** Evaluates a predicate on a row: true, false, or null (unknown), exactly as SQL would. */
export function evaluate(predicate: Predicate, row: Row): boolean | null {
  switch (predicate.op) {
    case 'eq': {
      const value = row[predicate.column] ?? null;
      return value === null ? null : sameValue(value, predicate.value);
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
