import fc from 'fast-check';
import { quoteIdent, quoteQualified } from '../db/connection.ts';
import { poolArbitrary, type Pool } from './pool.ts';
import { sameValue } from './predicate.ts';
import { judge } from './reference-model.ts';
import type { Operation, Row, Rule, State } from './rule.ts';
import { TableOperations, type RowKey } from './table-operations.ts';

/** Configuration of "a child needs a matching parent row, and goes when it goes" (rule 5). */
export interface ChildRequiresParentConfig {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  /**
   * The parent table; its rows are identified by these columns, each from a pool (e.g. tenant_members).
   * `uniqueBy`: columns the schema keeps parent rows unique by, a demand of another rule (one tenant per
   * user): a parent insert it rejects is not held against this rule, and one it accepts is still judged.
   */
  readonly parent: { readonly table: string; readonly columns: Readonly<Record<string, Pool>>; readonly label?: string; readonly uniqueBy?: readonly string[] };
  /** The child table; `ref` columns must match a parent row; `uniqueBy` columns are unique among children. */
  readonly child: {
    readonly table: string;
    readonly primaryKey: RowKey;
    readonly ref: readonly string[];
    readonly uniqueBy?: readonly string[];
    /** Reference columns an update may change (a move to another tenant). */
    readonly movable: readonly string[];
    readonly perRow?: Readonly<Record<string, Pool>>;
  };
  readonly setup: string;
  readonly defaultSchema?: readonly string[];
  readonly fixtures?: string;
}

/** Every child has its parent, at most one child per `uniqueBy`, and removing a parent removes its children. */
export function childRequiresParent(config: ChildRequiresParentConfig): Rule {
  const { parent, child } = config;
  const parentLabel = parent.label ?? parent.table;
  const parentColumns = Object.keys(parent.columns);
  const childOps = new TableOperations({
    table: child.table,
    primaryKey: child.primaryKey,
    columns: Object.fromEntries(child.ref.map((column, i) => [column, parent.columns[parentColumns[i] ?? column]!])),
    mutable: child.movable,
    perRow: child.perRow,
  });
  const parentArgs = fc.record(Object.fromEntries(parentColumns.map((c) => [c, poolArbitrary(parent.columns[c]!)])));
  const operation = fc.oneof(
    { arbitrary: parentArgs.map((args): Operation => ({ kind: 'add-parent', args })), weight: 1 },
    { arbitrary: parentArgs.map((args): Operation => ({ kind: 'remove-parent', args })), weight: 1 },
    { arbitrary: childOps.arbitrary(), weight: 4 },
  );

  const refersTo = (childRow: Row, parentRow: Row) =>
    child.ref.every((column, i) => sameValue(childRow[column] ?? null, parentRow[parentColumns[i]!] ?? null));
  const isParent = (args: Row) => (row: Row) => parentColumns.every((c) => sameValue(row[c] ?? null, args[c] ?? null));

  const check = (state: State): string[] => {
    const parents = state[parent.table] ?? [];
    const children = state[child.table] ?? [];
    const label = (row: Row) => childOps.labelKey(row);
    const orphans = children.filter((row) => !parents.some((p) => refersTo(row, p))).map((row) => `${label(row)} has no ${parentLabel}`);
    const seen = new Set<string>();
    const duplicates: string[] = [];
    for (const row of children) {
      if (!child.uniqueBy) break;
      const key = JSON.stringify(child.uniqueBy.map((c) => String(row[c])));
      if (seen.has(key)) duplicates.push(`${label(row)} is a second ${child.table} row for the same ${child.uniqueBy.join(', ')}`);
      seen.add(key);
    }
    return [...orphans, ...duplicates];
  };

  const step = (state: State, op: Operation): State | { rejected: string } => {
    const parents = state[parent.table] ?? [];
    switch (op.kind) {
      case 'add-parent':
        if (parents.some(isParent(op.args))) return { rejected: `${parentLabel} already exists (primary key)` };
        if (parent.uniqueBy && parents.some((row) => parent.uniqueBy!.every((c) => sameValue(row[c] ?? null, op.args[c] ?? null)))) {
          return { rejected: `a ${parentLabel} with the same ${parent.uniqueBy.join(', ')} exists (unique by ${parent.uniqueBy.join(', ')}, not this rule's demand)` };
        }
        return { ...state, [parent.table]: [...parents, { ...op.args }] };
      case 'remove-parent': {
        const removed = parents.filter(isParent(op.args));
        return {
          ...state,
          [parent.table]: parents.filter((row) => !isParent(op.args)(row)),
          // The rule says the child goes with its parent.
          [child.table]: (state[child.table] ?? []).filter((row) => !removed.some((p) => refersTo(row, p))),
        };
      }
      default: {
        const applied = childOps.apply(state[child.table] ?? [], op);
        return 'rejected' in applied ? applied : { ...state, [child.table]: applied.rows };
      }
    }
  };

  const p = quoteQualified(parent.table);
  const c = quoteQualified(child.table);
  const match = child.ref.map((column, i) => `p.${quoteIdent(parentColumns[i]!)} = c.${quoteIdent(column)}`).join(' AND ');
  const pk = childOps.keySql('c.');
  const uniqueSql = child.uniqueBy
    ? `\nUNION ALL\nSELECT 'duplicate' AS broken, json_agg(${pk.value} ORDER BY ${pk.order}) AS rows FROM ${c} c ` +
      `GROUP BY ${child.uniqueBy.map((u) => `c.${quoteIdent(u)}`).join(', ')} HAVING count(*) > 1`
    : '';
  return {
    id: config.id,
    title: config.title,
    source: config.source,
    tables: [parent.table, child.table],
    references: [
      { key: 'parent.table', table: parent.table },
      ...parentColumns.map((column) => ({ key: `parent.columns.${column}`, table: parent.table, column, values: parent.columns[column]!.values })),
      ...(parent.uniqueBy ?? []).map((column) => ({ key: 'parent.uniqueBy', table: parent.table, column })),
      { key: 'child.table', table: child.table },
      ...childOps.references('child.').filter((r) => r.key.startsWith('child.primaryKey.')),
      ...child.ref.map((column, i) => ({ key: 'child.ref', table: child.table, column, values: parent.columns[parentColumns[i] ?? column]?.values })),
      ...(child.uniqueBy ?? []).map((column) => ({ key: 'child.uniqueBy', table: child.table, column })),
      ...Object.entries(child.perRow ?? {}).map(([column, pool]) => ({ key: `child.perRow.${column}`, table: child.table, column, values: pool.values })),
    ],
    setup: config.setup,
    operation,
    sql(op) {
      const where = parentColumns.map((column, i) => `${quoteIdent(column)} = $${i + 1}`).join(' AND ');
      const values = parentColumns.map((column) => op.args[column] ?? null);
      switch (op.kind) {
        case 'add-parent':
          return {
            text: `INSERT INTO ${p} (${parentColumns.map(quoteIdent).join(', ')}) VALUES (${parentColumns.map((_, i) => `$${i + 1}`).join(', ')})`,
            values,
          };
        case 'remove-parent':
          return { text: `DELETE FROM ${p} WHERE ${where}`, values };
        default:
          return childOps.sql(op);
      }
    },
    describe(op) {
      const args = parentColumns.map((column) => parent.columns[column]!.label(op.args[column] ?? null)).join(', ');
      if (op.kind === 'add-parent') return `insert ${parentLabel} (${args})`;
      if (op.kind === 'remove-parent') return `delete ${parentLabel} (${args})`;
      return childOps.describe(op);
    },
    invariant:
      `SELECT 'orphan' AS broken, json_agg(${pk.value} ORDER BY ${pk.order}) AS rows FROM ${c} c ` +
      `WHERE NOT EXISTS (SELECT 1 FROM ${p} p WHERE ${match}) HAVING count(*) > 0${uniqueSql}`,
    allows: (state, op) => judge(step, check, state, op),
    // The rule says the children go with their parent: no refusal of a parent's removal is legitimate.
    mustAccept: (op) => (op.kind === 'remove-parent' ? 'always' : false),
    apply: step,
    defaultSchema: config.defaultSchema,
    fixtures: config.fixtures,
  };
}
