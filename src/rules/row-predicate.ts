import { quoteQualified, quoteIdent } from '../db/connection.ts';
import type { Pool } from './pool.ts';
import { evaluate, predicateColumns, predicateSql, type Predicate } from './predicate.ts';
import { judge } from './reference-model.ts';
import type { Row, Rule, State, TruthTable, TruthTableCell, Value } from './rule.ts';
import { TableOperations, type RowKey, type UniqueKey } from './table-operations.ts';

/** Configuration of a row rule: a three-valued predicate every committed row must satisfy. */
export interface RowPredicateConfig {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  readonly table: string;
  /** How rows are addressed: one key column, or several (a composite primary key). */
  readonly primaryKey: RowKey;
  /** The columns the rule reads, each with its domain; give NULL in a nullable column's domain. */
  readonly columns: Readonly<Record<string, Pool>>;
  /** Other NOT NULL columns, fixed per row (unique per row, so they never collide). */
  readonly perRow?: Readonly<Record<string, Pool>>;
  /** A row is valid iff this is TRUE (NULL counts as invalid, unlike a CHECK constraint). */
  readonly valid: Predicate;
  /** Columns the schema may declare NOT NULL: rejecting NULL there is never over-restrictive. */
  readonly mayRejectNull?: readonly string[];
  /** The table's unique keys (UNIQUE (provider)): a second row that duplicates one is a legitimate rejection. */
  readonly otherKeys?: readonly UniqueKey[];
  readonly setup?: string;
  readonly defaultSchema?: readonly string[];
  readonly fixtures?: string;
}

/** A row predicate with its truth table: rule 1 of RULES.md and its strict variant. */
export function rowPredicate(config: RowPredicateConfig): Rule {
  const ops = new TableOperations(config);
  const table = config.table;
  const columns = Object.keys(config.columns);
  const mayRejectNull = new Set(config.mayRejectNull ?? []);

  const rowBreaks = (row: Row): string | undefined => {
    if (evaluate(config.valid, row) === true) return undefined;
    return `row ${ops.labelKey(row)} has ${columns
      .map((c) => `${c}=${ops.poolOf(c).label(row[c] ?? null)}`)
      .join(', ')}`;
  };
  const check = (state: State): string[] => (state[table] ?? []).flatMap((row) => rowBreaks(row) ?? []);

  const expectedOf = (values: Row): TruthTableCell['expected'] => {
    if (evaluate(config.valid, values) !== true) return 'reject';
    return columns.some((c) => values[c] === null && mayRejectNull.has(c)) ? 'either' : 'accept';
  };
  const cells: TruthTableCell[] = product(columns.map((c) => config.columns[c]?.values ?? [])).map((combo) => {
    const values = Object.fromEntries(columns.map((c, i) => [c, combo[i] ?? null]));
    return { values, expected: expectedOf(values) };
  });
  const firstKey = ops.keyAt(0);
  const secondKey = ops.keyAt(1);
  const truthTable: TruthTable = {
    columns,
    cells,
    describe: (cell) => `(${columns.map((c) => `${c}=${ops.poolOf(c).label(cell.values[c] ?? null)}`).join(', ')})`,
    probes(cell) {
      const base = cells.find((other) => other.expected === 'accept' && !sameCell(other, cell)) ?? cells[0]!;
      return {
        insert: [ops.insert(firstKey, cell.values)],
        update: [ops.insert(secondKey, base.values), ops.set(secondKey, cell.values)],
      };
    },
  };

  // Values of the rule's predicate travel as parameters of the invariant query.
  const invariantValues: Value[] = [];
  return {
    id: config.id,
    title: config.title,
    source: config.source,
    tables: [table],
    references: [...ops.references(), ...predicateColumns(config.valid).map((column) => ({ key: 'valid', table, column }))],
    setup: config.setup ?? '',
    operation: ops.arbitrary(),
    sql: (op) => ops.sql(op),
    describe: (op) => ops.describe(op),
    invariant: `SELECT ${[...columns, ...ops.keyColumns].map(quoteIdent).join(', ')} FROM ${quoteQualified(table)} WHERE (${predicateSql(config.valid, quoteIdent, invariantValues)}) IS NOT TRUE`,
    invariantValues,
    allows(state, op) {
      const judgement = judge(step, check, state, op);
      // A NULL the rule does not forbid may still be refused by a NOT NULL column the rule allows.
      if (judgement.allowed && nullInRejectable(op.args)) {
        return { allowed: false, reason: 'it stores NULL in a column the schema may declare NOT NULL' };
      }
      return judgement;
    },
    refusable: (op) => (nullInRejectable(op.args) ? 'it stores NULL in a column the schema may declare NOT NULL' : undefined),
    truthTable,
    defaultSchema: config.defaultSchema,
    fixtures: config.fixtures,
  };

  function nullInRejectable(args: Readonly<Record<string, Value>>): boolean {
    return Object.entries(args).some(
      ([key, value]) => value === null && (mayRejectNull.has(key) || (key === '$value' && mayRejectNull.has(String(args.$column)))),
    );
  }

  function step(state: State, op: Parameters<Rule['sql']>[0]): State | { rejected: string } {
    const applied = ops.apply(state[table] ?? [], op);
    return 'rejected' in applied ? applied : { ...state, [table]: applied.rows };
  }
}

function sameCell(a: TruthTableCell, b: TruthTableCell): boolean {
  return JSON.stringify(a.values) === JSON.stringify(b.values);
}

function product(domains: readonly (readonly Value[])[]): Value[][] {
  return domains.reduce<Value[][]>((acc, domain) => acc.flatMap((prefix) => domain.map((v) => [...prefix, v])), [[]]);
}
