import type { CatalogIndex, CatalogTable } from '../catalog/catalog.ts';
import { fromPredicate, type PoolBinding } from '../config/rule-binding.ts';
import { predicateColumns, type Predicate } from '../rules/predicate.ts';
import type { Value } from '../rules/rule.ts';
import type { CatalogFacts } from './catalog-facts.ts';
import { domainValues, fillerValue, otherValue, typeClass } from './column-values.ts';
import { comparedValues, describePredicate, parsePredicate } from './predicate-text.ts';
import { TODO_POOL, type DraftRule, type InitNote, type ProposedRule, type RuleIds } from './proposal.ts';
import { columnPool, keyColumnPool, passChecks, withNullValue, type ColumnPool , rowShapeOf, generatedRowsPass } from './table-pools.ts';

/** Values per key column: two, so that keys collide often. */
const KEY_VALUES = 2;

/** One uniqueness demand read from a unique index or an exclusion constraint on equality. */
interface ReadScope {
  readonly object: string;
  readonly definition: string;
  readonly name: string;
  readonly key: string[];
  readonly fold: string[];
  readonly where?: Predicate;
  readonly nullsNotDistinct: boolean;
}

/**
 * One scoped-unique rule per table that has unique indexes (partial or not, beyond its primary key) or
 * exclusion constraints on equality: every such demand of the table in one rule, so that none of them
 * looks over-restrictive to a rule that does not know it. `consumed` names indexes another rule covers.
 */
export function inferUniqueRules(facts: CatalogFacts, ids: RuleIds, consumed: ReadonlySet<string>): { rules: (ProposedRule | DraftRule)[]; notes: InitNote[] } {
  const rules: (ProposedRule | DraftRule)[] = [];
  const notes: InitNote[] = [];
  for (const table of facts.catalog.tables) {
    const sources = facts.indexesOf(table).filter((index) => !index.primary && !consumed.has(index.name) && (index.unique || isExclusion(facts, index)));
    if (sources.length === 0) continue;
    const problems: string[] = [];
    const scopes: ReadScope[] = [];
    const placeholders: Record<string, unknown>[] = [];
    for (const index of sources) {
      const read = readScope(facts, table, index);
      // A unique key that contains the primary key always holds (it is there for a composite foreign key to point at).
      if (!('problem' in read) && table.primaryKey.length > 0 && table.primaryKey.every((c) => read.key.includes(c))) continue;
      if ('problem' in read) {
        problems.push(read.problem);
        placeholders.push({ name: index.name, key: index.keys, where: `TODO: ${index.predicate ?? index.definition}` });
      } else scopes.push(read);
    }
    if (scopes.length === 0) {
      for (const problem of problems) notes.push({ about: `table ${table.name}`, message: `${problem}; write the rule by hand` });
      continue;
    }
    rules.push(buildRule(facts, table, scopes, placeholders, problems, ids));
  }
  return { rules, notes };
}

function buildRule(
  facts: CatalogFacts,
  table: CatalogTable,
  scopes: readonly ReadScope[],
  placeholders: readonly Record<string, unknown>[],
  problems: string[],
  ids: RuleIds,
): ProposedRule | DraftRule {
  const name = facts.bindingName(table);
  const keyColumns = [...new Set(scopes.flatMap((s) => s.key))];
  const predicateCols = [...new Set(scopes.flatMap((s) => (s.where ? predicateColumns(s.where) : [])))];
  const checks = facts.checks(table);
  const pools = new Map<string, ColumnPool>();
  const keep = new Map<string, Value[]>();

  const checkValues = new Map<string, Value[]>();
  for (const check of checks) if (check.parsed.ok) for (const [c, values] of comparedValues(check.parsed.predicate)) checkValues.set(c, [...(checkValues.get(c) ?? []), ...values]);

  for (const columnName of keyColumns) {
    const column = facts.column(table, columnName)!;
    const fold = scopes.some((s) => s.fold.includes(columnName));
    // A key column a CHECK lists values for (a status in the key) takes those values, not made-up ones.
    const listed = facts.reference(table, columnName) ? [] : unique(checkValues.get(columnName) ?? []);
    const pool = listed.length > 0 ? columnPool(listed.slice(0, KEY_VALUES + 1)) : keyColumnPool(facts, table, column, KEY_VALUES, fold);
    if (!pool) {
      problems.push(`key column ${columnName} is of type ${column.type}, for which init has no values`);
      pools.set(columnName, { binding: TODO_POOL, values: [] });
      continue;
    }
    // NULL keys never collide in a unique index, unless it says NULLS NOT DISTINCT (which the template does not model).
    const nullable = !column.notNull && !scopes.some((s) => s.nullsNotDistinct && s.key.includes(columnName));
    pools.set(columnName, nullable ? withNullValue(pool) : pool);
  }
  for (const columnName of predicateCols) {
    if (pools.has(columnName)) continue;
    const column = facts.column(table, columnName)!;
    const compared = scopes.flatMap((s) => (s.where ? (comparedValues(s.where).get(columnName) ?? []) : []));
    keep.set(columnName, compared);
    const values = unique([...compared, ...(checkValues.get(columnName) ?? []), ...domainValues(column)]);
    const other = values.length > 0 ? otherValue(column, values) : undefined;
    if (other !== undefined) values.push(other);
    if (values.length === 0 || (column.notNull && values.length < 2 && typeClass(column) !== 'boolean')) {
      const filler = fillerValue(table, column, 0);
      if (filler !== undefined && !values.some((v) => String(v) === String(filler))) values.push(filler);
    }
    // Rows the predicate selects come first: a pool's first value is drawn half of the time.
    if (!column.notNull) (scopes.some((s) => s.where && selectsNull(s.where, columnName)) ? values.unshift(null) : values.push(null));
    if (values.length === 0) {
      problems.push(`predicate column ${columnName} is of type ${column.type}, for which init has no values`);
      continue;
    }
    pools.set(columnName, columnPool(values));
  }

  const readChecks = checks.flatMap((c) => (c.parsed.ok ? [{ name: c.constraint.name, predicate: c.parsed.predicate }] : []));
  problems.push(...passChecks(pools, readChecks, keep));
  for (const check of checks) {
    if (!check.parsed.ok && check.constraint.columns.some((c) => pools.has(c)) && !generatedRowsPass(facts, table, pools, check)) {
      problems.push(`the CHECK ${check.constraint.name} (${check.expression}) reads generated columns and init cannot read it (${check.parsed.reason}): narrow the pools so that every row passes it`);
    }
  }

  const { primaryKey, perRow, plan, problems: shapeProblems } = rowShapeOf(facts, table, pools);
  problems.push(...shapeProblems);

  const comment = [
    ...scopes.map((s) => `Inferred from ${s.object}: ${s.definition}`),
    `Key columns get ${KEY_VALUES} values each so that keys collide; predicate columns take the values the predicate and the CHECKs name, another one, and NULL where the column allows it.`,
    ...(predicateCols.length ? [`Updates move rows in and out of the predicate: ${predicateCols.join(', ')}.`] : []),
    ...otherTriggers(facts, table),
  ];
  const title = scopes
    .map((s) => `(${s.key.map((k) => (s.fold.includes(k) ? `lower(${k})` : k)).join(', ')}) unique${s.where ? ` where ${describePredicate(s.where)}` : ''}`)
    .join('; ');
  const binding = {
    template: 'scoped-unique' as const,
    id: ids.allocate(scopes.length === 1 ? scopes[0]!.name : `${table.name}-unique`),
    title: `${table.name}: ${title}`,
    source: `pgconform init: ${scopes.map((s) => s.object).join(', ')}`,
    table: name,
    primaryKey: 'column' in primaryKey ? primaryKey : { column: table.primaryKey.join(', ') || 'TODO', pool: TODO_POOL },
    columns: Object.fromEntries([...pools].map(([c, p]) => [c, p.binding])) as Record<string, PoolBinding>,
    ...(predicateCols.length ? { mutable: predicateCols } : {}),
    ...(Object.keys(perRow.perRow).length ? { perRow: perRow.perRow } : {}),
    unique: [
      ...scopes.map((s) => ({
        name: s.name,
        key: s.key,
        ...(s.where ? { where: fromPredicate(s.where) } : {}),
        ...(s.fold.length ? { fold: s.fold } : {}),
      })),
      // Unreadable demands stay in the draft as placeholders that do not load until written by hand.
      ...(placeholders as { key: string[] }[]),
    ],
    ...(plan.toBinding() ? { setup: plan.toBinding() } : {}),
  };
  if ('problem' in primaryKey) problems.unshift(primaryKey.problem);
  if (problems.length > 0) return { kind: 'draft', draft: binding, comment, reason: problems.join('; ') };
  return { kind: 'rule', binding, comment };
}

function readScope(facts: CatalogFacts, table: CatalogTable, index: CatalogIndex): ReadScope | { problem: string } {
  const constraint = index.constraint ? facts.constraintsOf(table, isExclusion(facts, index) ? 'x' : 'u').find((c) => c.name === index.constraint) : undefined;
  const object = constraint
    ? `${constraint.type === 'x' ? 'the exclusion constraint' : 'the unique constraint'} ${constraint.name}`
    : `the ${index.predicate ? 'partial ' : ''}unique index ${index.name}`;
  const definition = constraint ? constraint.definition : index.definition;
  if (constraint?.type === 'x') {
    const operators = [...constraint.definition.matchAll(/\bWITH\s+([^\s,)]+)/gi)].map((m) => m[1]);
    if (operators.some((op) => op !== '=')) return { problem: `${object} compares with ${operators.filter((op) => op !== '=').join(', ')}, which scoped-unique does not express (${definition})` };
  }
  const key: string[] = [];
  const fold: string[] = [];
  for (const part of index.keys) {
    if (facts.column(table, part)) {
      key.push(part);
      continue;
    }
    const lower = /^lower\(\(?"?([\w$]+)"?\)?(?:::text)?\)$/i.exec(part);
    if (lower && facts.column(table, lower[1]!)) {
      key.push(lower[1]!);
      fold.push(lower[1]!);
      continue;
    }
    return { problem: `${object} has the key expression ${part}, which scoped-unique does not express` };
  }
  let where: Predicate | undefined;
  if (index.predicate) {
    const parsed = parsePredicate(index.predicate, facts.columnTypes(table));
    if (!parsed.ok) return { problem: `the predicate of ${object} (${index.predicate}) is not expressible: ${parsed.reason}` };
    where = parsed.predicate;
  }
  return { object, definition, name: constraint?.name ?? index.name, key, fold, where, nullsNotDistinct: /NULLS NOT DISTINCT/i.test(index.definition) };
}

function isExclusion(facts: CatalogFacts, index: CatalogIndex): boolean {
  return index.constraint !== null && facts.catalog.constraints.some((c) => c.type === 'x' && c.name === index.constraint && facts.table(c.table) === facts.table(index.table));
}

/** A warning line for triggers on the table, which may reject rows the rule allows. */
export function otherTriggers(facts: CatalogFacts, table: CatalogTable): string[] {
  const triggers = facts.triggersOf(table);
  if (triggers.length === 0) return [];
  return [`The table also has trigger(s) ${triggers.map((t) => t.name).join(', ')}: a row they reject and this rule allows is reported as over-restrictive.`];
}

/** Whether the predicate selects rows by `column IS NULL` (a soft delete: live rows are the NULL ones). */
function selectsNull(predicate: Predicate, column: string): boolean {
  if (predicate.op === 'isNull') return predicate.column === column;
  if (predicate.op === 'and' || predicate.op === 'or') return predicate.of.some((p) => selectsNull(p, column));
  return false;
}

function unique(values: readonly Value[]): Value[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const key = JSON.stringify(v);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
