import type { CatalogTable } from '../catalog/catalog.ts';
import { fromPredicate, type PoolBinding } from '../config/rule-binding.ts';
import { and, predicateColumns, type Predicate } from '../rules/predicate.ts';
import type { Value } from '../rules/rule.ts';
import type { CatalogFacts, ReadCheck } from './catalog-facts.ts';
import { collationSafeValues, domainValues, fillerValue, idPoolFor, otherValue, singular, valuesAround } from './column-values.ts';
import { checkPasses, comparedLiterals, comparedValues } from './predicate-text.ts';
import { draftReason, type DraftRule, type InitNote, type ProposedRule, type RuleIds } from './proposal.ts';
import { columnPool, product, withNullValue, type ColumnPool , rowShapeOf, keyBinding } from './table-pools.ts';
import { otherKeysOf, otherTriggers } from './unique-inference.ts';

/** Ids per column a CHECK only tests for NULL (a tenant, two tenants, none). */
const REFERENCE_VALUES = 2;
/** Beyond this many cells the truth table is still checked, but the comment says so. */
const LARGE_TRUTH_TABLE = 64;

/**
 * One row-predicate rule per table with CHECK constraints init can read: the row is valid when every
 * CHECK lets it through (TRUE, or NULL from a nullable column: a CHECK passes on NULL). Every column a
 * CHECK reads is tried with NULL; a NOT NULL one may reject it (mayRejectNull), so that dropping the
 * NOT NULL is caught. CHECKs init cannot read become notes.
 */
export function inferCheckRules(facts: CatalogFacts, ids: RuleIds): { rules: (ProposedRule | DraftRule)[]; notes: InitNote[] } {
  const rules: (ProposedRule | DraftRule)[] = [];
  const notes: InitNote[] = [];
  for (const table of facts.catalog.tables) {
    const checks = facts.checks(table);
    const read = checks.filter((c) => c.parsed.ok);
    const unread = checks.filter((c) => !c.parsed.ok);
    for (const check of unread) {
      notes.push({
        about: `CHECK ${check.constraint.name} on ${table.name}`,
        message: `${check.expression} is not expressible as a predicate (${(check.parsed as { reason: string }).reason}); write a row-predicate rule for it by hand`,
      });
    }
    if (read.length > 0) rules.push(buildRule(facts, table, read, unread, ids));
  }
  return { rules, notes };
}

function buildRule(facts: CatalogFacts, table: CatalogTable, read: readonly ReadCheck[], unread: readonly ReadCheck[], ids: RuleIds): ProposedRule | DraftRule {
  const predicates = read.map((c) => (c.parsed as { predicate: Predicate }).predicate);
  const nullable = (column: string) => facts.column(table, column)?.notNull === false;
  const passes = predicates.map((p) => checkPasses(p, nullable));
  const valid = passes.length === 1 ? passes[0]! : and(...passes);
  const columns = [...new Set(predicates.flatMap(predicateColumns))];
  const problems: string[] = [];
  const pools = new Map<string, ColumnPool>();
  const compared = new Map<string, Value[]>();
  for (const p of predicates) for (const [c, values] of comparedValues(p)) compared.set(c, [...(compared.get(c) ?? []), ...values]);
  const literals = predicates.flatMap(comparedLiterals);

  for (const columnName of columns) {
    const column = facts.column(table, columnName)!;
    const values: Value[] = [];
    // Both sides of every cut-off (below, equal, above), and the other case of a lower()/upper() comparison.
    const around = literals.filter((l) => l.column === columnName).flatMap((l) => valuesAround(column, l));
    for (const v of [...(compared.get(columnName) ?? []), ...around, ...domainValues(column)]) if (!values.some((w) => String(w) === String(v))) values.push(v);
    let pool: ColumnPool | undefined;
    if (values.length > 0) {
      const other = otherValue(column, values);
      pool = columnPool(collationSafeValues(column, other === undefined ? values : [...values, other], literals));
    } else {
      // Compared with nothing, only tested for NULL: a few real values (parent ids where it is a foreign key).
      const reference = facts.reference(table, columnName);
      const ids = idPoolFor(reference ? singular(reference.parent.name) : columnName.replace(/_id$/, ''), REFERENCE_VALUES, column);
      const filler = fillerValue(table, column, 0);
      pool = ids ? columnPool(ids) : filler !== undefined ? columnPool([filler]) : undefined;
    }
    if (!pool) {
      problems.push(`column ${columnName} is of type ${column.type}, for which init has no values`);
      continue;
    }
    pools.set(columnName, withNullValue(pool));
  }
  const mayRejectNull = columns.filter((c) => facts.column(table, c)?.notNull);

  const { primaryKey, keyColumns, perRow, plan, problems: shapeProblems } = rowShapeOf(facts, table, pools, new Set(read.map((c) => c.constraint.name)));
  problems.push(...shapeProblems);
  // A CHECK on a single key column (a singleton's CHECK (singleton)) is fine: an insert's value is its key. A
  // composite key is drawn column by column, apart from the truth table's cells.
  const readKey = keyColumns.length > 1 ? keyColumns.filter((c) => pools.has(c)) : [];
  if (readKey.length) problems.push(`the CHECKs read ${readKey.join(', ')}, which ${readKey.length > 1 ? 'are key columns' : 'is a key column'} the rule addresses rows by: write the rule by hand`);
  // A second row the table's unique keys reject (UNIQUE (provider), a singleton's UNIQUE (singleton)) is not the CHECK's business.
  const others = otherKeysOf(facts, table, () => false, new Set(pools.keys()));
  const touching = unread.filter((check) => check.constraint.columns.some((c) => pools.has(c)));
  for (const check of touching) {
    problems.push(`the CHECK ${check.constraint.name} (${check.expression}) reads columns this rule writes values into, and init cannot read the CHECK: add it to "valid" by hand`);
  }

  const cells = product([...pools.values()].map((p) => p.values)).length;
  const comment = [
    ...read.map((c) => `Inferred from the CHECK ${c.constraint.name} on ${table.name}: ${c.constraint.definition}`),
    'A CHECK lets a row through when its expression is TRUE or NULL; "valid" says so for the nullable columns and demands TRUE otherwise.',
    ...(mayRejectNull.length ? [`${mayRejectNull.join(', ')}: NOT NULL in this schema, tried with NULL anyway (mayRejectNull), so a schema that drops the NOT NULL is caught.`] : []),
    ...(cells > LARGE_TRUTH_TABLE ? [`The truth table has ${cells} cells: trim the pools if the run is slow.`] : []),
    ...(others.keys.length ? ['otherKeys: the unique keys of the table, so that a second row one of them rejects counts as a legitimate rejection.'] : []),
    ...others.comment,
    ...otherTriggers(facts, table),
  ];
  const binding = {
    template: 'row-predicate' as const,
    id: ids.allocate(read.length === 1 ? read[0]!.constraint.name : `${table.name}-checks`),
    title: `every ${table.name} row passes ${read.length === 1 ? `the CHECK ${read[0]!.constraint.name}` : `its CHECKs ${read.map((c) => c.constraint.name).join(', ')}`}`,
    source: `pgconform init: ${read.map((c) => `CHECK ${c.constraint.name}`).join(', ')}`,
    table: facts.bindingName(table),
    primaryKey: keyBinding(primaryKey, table),
    columns: Object.fromEntries([...pools].map(([c, p]) => [c, p.binding])) as Record<string, PoolBinding>,
    ...(Object.keys(perRow.perRow).length ? { perRow: perRow.perRow } : {}),
    valid: touching.length ? { and: [fromPredicate(valid), ...touching.map((c) => `TODO: CHECK ${c.constraint.name}: ${c.expression}`)] } : fromPredicate(valid),
    ...(mayRejectNull.length ? { mayRejectNull } : {}),
    ...(others.keys.length ? { otherKeys: others.keys } : {}),
    ...(plan.toBinding() ? { setup: plan.toBinding() } : {}),
  };
  if ('problem' in primaryKey) problems.unshift(primaryKey.problem);
  if (problems.length > 0) return { kind: 'draft', draft: binding, comment, reason: draftReason(problems) };
  return { kind: 'rule', binding, comment };
}
