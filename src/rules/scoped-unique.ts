import { quoteIdent, quoteQualified } from '../db/connection.ts';
import type { Pool } from './pool.ts';
import { evaluate, predicateColumns, predicateSql } from './predicate.ts';
import { judge } from './reference-model.ts';
import type { Operation, Row, Rule, State, Value } from './rule.ts';
import { TableOperations, type OtherCheck, type RowKey } from './table-operations.ts';
import { KeyComparison, type UniqueKey } from './unique-key.ts';

/** One uniqueness demand: among rows matching `where`, the `key` columns are unique. */
export interface UniqueScope extends UniqueKey {
  /** Name shown in reports, e.g. "regular users". */
  readonly name?: string;
}

/** Configuration of a scoped-uniqueness rule ("one pending request per organization and user"). */
export interface ScopedUniqueConfig {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  readonly table: string;
  /** How rows are addressed: one key column, or several (a composite primary key). */
  readonly primaryKey: RowKey;
  /** Columns the generator sets, each from a small pool: key columns and state columns (status, flags, soft delete). */
  readonly columns: Readonly<Record<string, Pool>>;
  /** Columns an update may change: state transitions, moves, soft delete and undelete (default: all of `columns`). */
  readonly mutable?: readonly string[];
  /** Columns fixed per row (e.g. a NOT NULL name). */
  readonly perRow?: Readonly<Record<string, Pool>>;
  readonly unique: readonly UniqueScope[];
  /** The table's unique keys this rule does not judge (another rule does): a duplicate on them is a legitimate rejection. */
  readonly otherKeys?: readonly UniqueKey[];
  /** The table's CHECKs on generated columns this rule does not judge: a row they reject is a legitimate rejection. */
  readonly otherChecks?: readonly OtherCheck[];
  readonly setup?: string;
  readonly defaultSchema?: readonly string[];
  readonly fixtures?: string;
}

/** Scoped uniqueness with a partial predicate: rules 2, 3, 6 and 7 of RULES.md. */
export function scopedUnique(config: ScopedUniqueConfig): Rule {
  const ops = new TableOperations(config);
  const table = config.table;
  const pk = ops.keySql();

  const comparisons = config.unique.map((scope) => new KeyComparison(scope));
  const check = (state: State): string[] =>
    config.unique.flatMap((scope, i) => duplicates(state[table] ?? [], scope, comparisons[i]!).map((key) => `${scopeName(scope, i)}: ${key} appears twice`));

  const describeKey = (scope: UniqueScope, row: Row): string =>
    scope.key.map((column) => `${column}=${ops.poolOf(column).label(row[column] ?? null)}`).join(', ');

  function duplicates(rows: readonly Row[], scope: UniqueScope, comparison: KeyComparison): string[] {
    const seen = new Map<string, number>();
    const found: string[] = [];
    for (const row of rows) {
      if (scope.where && evaluate(scope.where, row) !== true) continue;
      const parts = comparison.parts(row);
      if (parts.some((part) => part === null)) continue; // NULLs are distinct, as in a unique index
      const id = JSON.stringify(parts);
      const count = (seen.get(id) ?? 0) + 1;
      seen.set(id, count);
      if (count === 2) found.push(describeKey(scope, row));
    }
    return found;
  }

  const invariantValues: Value[] = [];
  const invariant = config.unique
    .map((scope, i) => {
      const keySql = comparisons[i]!.sql();
      const notNull = keySql.map((k) => `${k} IS NOT NULL`);
      invariantValues.push(scopeName(scope, i));
      const name = `$${invariantValues.length}::text`;
      const where = [scope.where ? predicateSql(scope.where, quoteIdent, invariantValues) : 'true', ...notNull].join(' AND ');
      const keyJson = scope.key.map((column, j) => `$${invariantValues.push(column)}::text, ${keySql[j]}`).join(', ');
      return (
        `SELECT ${name} AS broken, json_build_object(${keyJson}) AS key, ` +
        `count(*)::int AS rows, json_agg(${pk.value} ORDER BY ${pk.order}) AS ids ` +
        `FROM ${quoteQualified(table)} WHERE ${where} GROUP BY ${keySql.join(', ')} HAVING count(*) > 1`
      );
    })
    .join('\nUNION ALL\n');

  return {
    id: config.id,
    title: config.title,
    source: config.source,
    tables: [table],
    references: [
      ...ops.references(),
      ...config.unique.flatMap((scope, i) => [
        ...scope.key.map((column) => ({ key: `unique[${i}].key`, table, column })),
        ...(scope.where ? predicateColumns(scope.where).map((column) => ({ key: `unique[${i}].where`, table, column })) : []),
      ]),
    ],
    setup: config.setup ?? '',
    operation: ops.arbitrary(),
    sql: (op) => ops.sql(op),
    describe: (op) => ops.describe(op),
    invariant,
    invariantValues,
    allows: (state, op) => judge(step, check, state, op),
    apply: step,
    defaultSchema: config.defaultSchema,
    fixtures: config.fixtures,
  };

  function step(state: State, op: Operation): State | { rejected: string } {
    const applied = ops.apply(state[table] ?? [], op);
    return 'rejected' in applied ? applied : { ...state, [table]: applied.rows };
  }
}

function scopeName(scope: UniqueScope, index: number): string {
  return scope.name ?? `unique (${scope.key.join(', ')})${index > 0 ? ` #${index + 1}` : ''}`;
}
