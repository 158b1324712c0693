import fc from 'fast-check';
import { quoteIdent, quoteQualified } from '../db/connection.ts';
import { poolArbitrary, type Pool } from './pool.ts';
import { evaluate, predicateColumns, predicateSql, sameValue, type Predicate } from './predicate.ts';
import { judge } from './reference-model.ts';
import type { Operation, Row, Rule, State, Value } from './rule.ts';

/** Configuration of "at most one child per parent unless the parent is exempt" (rule 4). */
export interface AtMostOneChildConfig {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  /** The parent whose children are counted, e.g. users; the exemption lives on it and can change. */
  readonly parent: {
    readonly table: string;
    readonly key: string;
    readonly pool: Pool;
    /** The column that exempts a parent, and the values the generator sets it to. */
    readonly exemptColumn: string;
    readonly exemptValues: Pool;
    /** When a parent is exempt (three-valued; NULL is not exempt). */
    readonly exempt: Predicate;
  };
  /** The other side of the child row, e.g. tenants. */
  readonly scope: { readonly table: string; readonly pool: Pool };
  /** The child table and its two references, e.g. tenant_members(user_id, tenant_id). */
  readonly child: { readonly table: string; readonly parentColumn: string; readonly scopeColumn: string; readonly label?: string };
  readonly setup: string;
  readonly defaultSchema?: readonly string[];
  readonly fixtures?: string;
}

/** At most one child per non-exempt parent; joins, leaves, and exemption changes in any order. */
export function atMostOneChild(config: AtMostOneChildConfig): Rule {
  const { parent, scope, child } = config;
  const childLabel = child.label ?? child.table;
  const parentArb = poolArbitrary(parent.pool);
  const scopeArb = poolArbitrary(scope.pool);
  const pair = fc.record({ parent: parentArb, scope: scopeArb });
  const operation = fc.oneof(
    { arbitrary: pair.map((args): Operation => ({ kind: 'join', args })), weight: 4 },
    { arbitrary: pair.map((args): Operation => ({ kind: 'leave', args })), weight: 1 },
    {
      arbitrary: fc
        .record({ parent: parentArb, value: poolArbitrary(parent.exemptValues) })
        .map((args): Operation => ({ kind: 'exempt', args })),
      weight: 2,
    },
  );

  const isExempt = (state: State, id: unknown): boolean =>
    (state[parent.table] ?? []).some((row) => sameValue(row[parent.key] ?? null, id as Row[string]) && evaluate(parent.exempt, row) === true);

  const check = (state: State): string[] => {
    const counts = new Map<string, number>();
    for (const row of state[child.table] ?? []) {
      const id = String(row[child.parentColumn]);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return [...counts]
      .filter(([id, count]) => count > 1 && !isExempt(state, id))
      .map(([id, count]) => `${parent.pool.label(id)} is not exempt and has ${count} ${childLabel} rows`);
  };

  const step = (state: State, op: Operation): State | { rejected: string } => {
    const children = state[child.table] ?? [];
    const matches = (row: Row) =>
      sameValue(row[child.parentColumn] ?? null, op.args.parent ?? null) && sameValue(row[child.scopeColumn] ?? null, op.args.scope ?? null);
    switch (op.kind) {
      case 'join':
        if (children.some(matches)) return { rejected: `${childLabel} row already exists (primary key)` };
        return { ...state, [child.table]: [...children, { [child.parentColumn]: op.args.parent ?? null, [child.scopeColumn]: op.args.scope ?? null }] };
      case 'leave':
        return { ...state, [child.table]: children.filter((row) => !matches(row)) };
      case 'exempt':
        return {
          ...state,
          [parent.table]: (state[parent.table] ?? []).map((row) =>
            sameValue(row[parent.key] ?? null, op.args.parent ?? null) ? { ...row, [parent.exemptColumn]: op.args.value ?? null } : row,
          ),
        };
      default:
        throw new Error(`unknown operation ${op.kind}`);
    }
  };

  const c = quoteQualified(child.table);
  const pc = quoteIdent(child.parentColumn);
  const sc = quoteIdent(child.scopeColumn);
  // Values of the rule's predicate travel as parameters of the invariant query.
  const invariantValues: Value[] = [];
  return {
    id: config.id,
    title: config.title,
    source: config.source,
    tables: [parent.table, scope.table, child.table],
    references: [
      { key: 'parent.table', table: parent.table },
      { key: 'parent.key', table: parent.table, column: parent.key, values: parent.pool.values },
      { key: 'parent.exemptColumn', table: parent.table, column: parent.exemptColumn, values: parent.exemptValues.values },
      ...predicateColumns(parent.exempt).map((column) => ({ key: 'parent.exempt', table: parent.table, column })),
      { key: 'scope.table', table: scope.table },
      { key: 'child.table', table: child.table },
      { key: 'child.parentColumn', table: child.table, column: child.parentColumn, values: parent.pool.values },
      { key: 'child.scopeColumn', table: child.table, column: child.scopeColumn, values: scope.pool.values },
    ],
    setup: config.setup,
    operation,
    sql(op) {
      switch (op.kind) {
        case 'join':
          return { text: `INSERT INTO ${c} (${pc}, ${sc}) VALUES ($1, $2)`, values: [op.args.parent ?? null, op.args.scope ?? null] };
        case 'leave':
          return { text: `DELETE FROM ${c} WHERE ${pc} = $1 AND ${sc} = $2`, values: [op.args.parent ?? null, op.args.scope ?? null] };
        case 'exempt':
          return {
            text: `UPDATE ${quoteQualified(parent.table)} SET ${quoteIdent(parent.exemptColumn)} = $2 WHERE ${quoteIdent(parent.key)} = $1`,
            values: [op.args.parent ?? null, op.args.value ?? null],
          };
        default:
          throw new Error(`unknown operation ${op.kind}`);
      }
    },
    describe(op) {
      const who = parent.pool.label(op.args.parent ?? null);
      switch (op.kind) {
        case 'join':
          return `insert ${childLabel} (${who}, ${scope.pool.label(op.args.scope ?? null)})`;
        case 'leave':
          return `delete ${childLabel} (${who}, ${scope.pool.label(op.args.scope ?? null)})`;
        default:
          return `update ${who} set ${parent.exemptColumn} = ${parent.exemptValues.label(op.args.value ?? null)}`;
      }
    },
    invariant:
      `SELECT c.${pc} AS parent, count(*)::int AS children, json_agg(c.${sc} ORDER BY c.${sc}) AS scopes ` +
      `FROM ${c} c JOIN ${quoteQualified(parent.table)} p ON p.${quoteIdent(parent.key)} = c.${pc} ` +
      `WHERE (${predicateSql(parent.exempt, (column) => `p.${quoteIdent(column)}`, invariantValues)}) IS NOT TRUE ` +
      `GROUP BY c.${pc} HAVING count(*) > 1`,
    invariantValues,
    allows: (state, op) => judge(step, check, state, op),
    apply: step,
    defaultSchema: config.defaultSchema,
    fixtures: config.fixtures,
  };
}
