import type { CatalogConstraint, CatalogIndex, CatalogTable } from '../catalog/catalog.ts';
import type { PoolBinding } from '../config/rule-binding.ts';
import type { CatalogFacts } from './catalog-facts.ts';
import { needsValue } from './column-values.ts';
import { draftReason, type DraftRule, type InitNote, type ProposedRule, type RuleIds } from './proposal.ts';
import { SetupPlan } from './setup-plan.ts';
import { boundPoolNames, columnPool, keyBinding, keySlots, planParents, keyColumnPool, keyColumnsOf, memberValues, perRowColumns, primaryKeyOf, product, type ColumnPool } from './table-pools.ts';
import { otherTriggers } from './unique-inference.ts';

/** Values per parent key column (two users × two tenants: four possible memberships). */
const PARENT_VALUES = 2;
/** Parent rows present from the start, so that children can race their parent's deletion from the first step. */
const INITIAL_PARENTS = 3;

/**
 * A child-requires-parent rule for every composite foreign key, and every foreign key whose child is
 * unique on some of its columns (one profile per user), that cascades on delete: the child needs its
 * parent row, is unique per that key, and goes with the parent. Returns the unique indexes it covers
 * (`consumed`), so that no separate scoped-unique rule is proposed for them.
 */
export function inferForeignKeyRules(facts: CatalogFacts, ids: RuleIds): { rules: (ProposedRule | DraftRule)[]; notes: InitNote[]; consumed: Set<string> } {
  const rules: (ProposedRule | DraftRule)[] = [];
  const notes: InitNote[] = [];
  const consumed = new Set<string>();
  for (const fk of facts.catalog.constraints) {
    if (fk.type !== 'f' || !fk.references) continue;
    const child = facts.table(fk.table);
    const parent = facts.table(fk.references.table);
    if (!child || !parent || child === parent) continue;
    const uniqueBy = childUnique(facts, child, fk);
    if (fk.columns.length < 2 && !uniqueBy) continue;
    if (fk.references.onDelete !== 'CASCADE') {
      notes.push({
        about: `foreign key ${fk.name} on ${child.name}`,
        message: `ON DELETE ${fk.references.onDelete}: deleting a ${parent.name} row that has ${child.name} rows is refused, while the child-requires-parent template expects the children to go with their parent (CASCADE); no rule proposed`,
      });
      continue;
    }
    const rule = buildRule(facts, fk, child, parent, uniqueBy, ids);
    // A draft covers nothing: the unique index then gets a scoped-unique rule of its own.
    if (uniqueBy && rule.kind === 'rule') consumed.add(uniqueBy.name);
    rules.push(rule);
  }
  return { rules, notes, consumed };
}

function buildRule(
  facts: CatalogFacts,
  fk: CatalogConstraint,
  child: CatalogTable,
  parent: CatalogTable,
  uniqueBy: CatalogIndex | undefined,
  ids: RuleIds,
): ProposedRule | DraftRule {
  const problems: string[] = [];
  const parentColumns = fk.references!.columns;
  const pools = new Map<string, ColumnPool>();
  for (const columnName of parentColumns) {
    const column = facts.column(parent, columnName)!;
    const pool = keyColumnPool(facts, parent, column, PARENT_VALUES);
    if (pool) pools.set(columnName, pool);
    else problems.push(`${parent.name}.${columnName} is of type ${column.type}, for which init has no values`);
  }
  const unfilled = parent.columns.filter((c) => needsValue(c) && !parentColumns.includes(c.name)).map((c) => c.name);
  if (unfilled.length) problems.push(`${parent.name} has NOT NULL columns without a default besides the key (${unfilled.join(', ')}), which the template's parent inserts leave out`);

  const boundPools = boundPoolNames([...pools.values()].map((p) => p.binding));
  const plan = new SetupPlan(facts, boundPools);
  // Some parents from the start (every combination but the last, which operations can add), never two
  // that a unique key of the parent table refuses together (one tenant per user).
  const members = parentColumns.map((c) => (pools.has(c) ? memberValues(pools.get(c)!) : []));
  const parentUnique = parentUniqueBy(facts, parent, parentColumns);
  const initial = distinctBy(product(members), parentUnique.map((key) => key.map((c) => parentColumns.indexOf(c)))).slice(0, INITIAL_PARENTS);
  for (const combination of initial) {
    plan.ensure(parent, Object.fromEntries(parentColumns.map((c, i) => [c, combination[i]!])));
  }
  // Operations insert parent rows with any member of the pools: each member's own parent (a tenant) exists.
  for (const [i, column] of parentColumns.entries()) {
    const reference = facts.reference(parent, column);
    if (reference && reference.parent !== parent) for (const member of members[i]!) plan.ensure(reference.parent, { [reference.parentColumn.name]: member });
  }
  const primaryKey = primaryKeyOf(facts, child);
  const taken = new Set([...fk.columns, ...keyColumnsOf(primaryKey)]);
  if ('columns' in primaryKey) {
    const keyPools = new Map(Object.entries(primaryKey.columns).map(([c, binding]) => [c, columnPool(binding)] as const));
    for (const name of boundPoolNames(Object.values(primaryKey.columns))) boundPools.add(name);
    problems.push(...planParents(facts, child, keyPools, plan));
  }
  const perRow = perRowColumns(facts, child, taken, plan, keySlots(primaryKey));
  problems.push(...perRow.problems, ...plan.problems);
  if ('problem' in primaryKey) problems.unshift(primaryKey.problem);
  else if ('columns' in primaryKey && Object.keys(primaryKey.columns).some((c) => fk.columns.includes(c))) {
    problems.unshift(`${child.name} is keyed by (${Object.keys(primaryKey.columns).join(', ')}), which shares columns with the foreign key the rule moves`);
  } else if ('column' in primaryKey && primaryKey.overridingSystemValue) problems.push(`${child.name}.${primaryKey.column} is GENERATED ALWAYS, and child-requires-parent inserts it explicitly`);
  for (const name of boundPoolNames(Object.values(perRow.perRow))) boundPools.add(name);

  const uniqueColumns = uniqueBy?.keyColumns ? fk.columns.filter((c) => uniqueBy.keyColumns.includes(c)) : undefined;
  const movable = fk.columns.filter((c) => !uniqueColumns?.includes(c));
  const comment = [
    `Inferred from the foreign key ${fk.name}: ${fk.definition}`,
    ...(uniqueBy ? [`and ${uniqueBy.constraint ? `the unique constraint ${uniqueBy.constraint}` : `the unique index ${uniqueBy.name}`}: ${uniqueBy.definition}`] : []),
    `Operations add and remove ${parent.name} rows and insert, move (${movable.join(', ') || 'nothing'}) and delete ${child.name} rows; ${initial.length} ${parent.name} rows exist from the start.`,
    ...parentUnique.map((key) => `${parent.name} is unique by (${key.join(', ')}): a ${parent.name} insert that key refuses is not held against this rule.`),
    ...otherTriggers(facts, child),
  ];
  const binding = {
    template: 'child-requires-parent' as const,
    id: ids.allocate(fk.name),
    title: `every ${child.name} row has its ${parent.name} row (${fk.columns.join(', ')})${uniqueColumns ? `, at most one per ${uniqueColumns.join(', ')}` : ''}, and goes with it`,
    source: `pgconform init: foreign key ${fk.name}${uniqueBy ? `, ${uniqueBy.constraint ?? uniqueBy.name}` : ''}`,
    parent: {
      table: facts.bindingName(parent),
      columns: Object.fromEntries([...pools].map(([c, p]) => [c, p.binding])) as Record<string, PoolBinding>,
      ...(parentUnique.length === 1 ? { uniqueBy: parentUnique[0]! } : {}),
    },
    child: {
      table: facts.bindingName(child),
      primaryKey: 'column' in primaryKey ? { column: primaryKey.column, pool: primaryKey.pool } : keyBinding(primaryKey, child),
      ref: [...fk.columns],
      ...(uniqueColumns ? { uniqueBy: uniqueColumns } : {}),
      movable,
      ...(Object.keys(perRow.perRow).length ? { perRow: perRow.perRow } : {}),
    },
    ...(plan.toBinding() ? { setup: plan.toBinding() } : {}),
  };
  if (problems.length > 0) return { kind: 'draft', draft: binding, comment, reason: draftReason(problems) };
  return { kind: 'rule', binding, comment };
}

/**
 * The parent's unique keys (non-partial, on plain columns, not its primary key) made of the columns the
 * rule generates: parent rows that share one cannot coexist (tenant_members unique by user_id).
 */
function parentUniqueBy(facts: CatalogFacts, parent: CatalogTable, columns: readonly string[]): string[][] {
  return facts
    .indexesOf(parent)
    .filter((i) => i.unique && !i.primary && i.predicate === null && i.keys.length > 0 && i.keys.every((k) => columns.includes(k)))
    .map((i) => [...i.keys]);
}

/** The combinations, in order, keeping each only when it shares no key (positions) with one kept before it. */
function distinctBy<T>(combinations: readonly T[][], keys: readonly number[][]): T[][] {
  const kept: T[][] = [];
  const sameKey = (a: T[], b: T[], key: readonly number[]) => key.every((i) => JSON.stringify(a[i]) === JSON.stringify(b[i]));
  for (const combination of combinations) if (!kept.some((other) => keys.some((key) => sameKey(combination, other, key)))) kept.push(combination);
  return kept;
}

/** A unique, non-partial index of the child on plain columns, all of them among the foreign key's columns. */
function childUnique(facts: CatalogFacts, child: CatalogTable, fk: CatalogConstraint): CatalogIndex | undefined {
  return facts
    .indexesOf(child)
    .filter((i) => i.unique && !i.primary && i.predicate === null && i.keys.every((k) => fk.columns.includes(k)))
    .sort((a, b) => a.keys.length - b.keys.length)[0];
}
