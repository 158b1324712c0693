import type { Row, Rule, Value } from './rule.ts';

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

/**
 * Renders a predicate as a SQL boolean expression; `column` maps a column name to its SQL. With `params`,
 * values become parameters ($n, appended to it) instead of literals.
 */
export function predicateSql(predicate: Predicate, column: (name: string) => string, params?: Value[]): string {
  switch (predicate.op) {
    case 'eq':
      if (params) params.push(predicate.value);
      return `${column(predicate.column)} = ${params ? `$${params.length}` : sqlLiteral(predicate.value)}`;
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
