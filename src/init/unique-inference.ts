import type { CatalogIndex, CatalogTable } from '../catalog/catalog.ts';
import { identifiersIn } from '../catalog/definition-text.ts';
import { fromPredicate, type PoolBinding } from '../config/rule-binding.ts';
import { evaluate, predicateColumns, type Predicate } from '../rules/predicate.ts';
import type { Value } from '../rules/rule.ts';
import { parseKeyExpression } from '../rules/unique-key.ts';
import type { CatalogFacts, ReadCheck } from './catalog-facts.ts';
import { RowSolver } from './row-solver.ts';
import { collationSafeValues, domainValues, fillerValue, otherValue, poolNameOf, typeClass, valuesAround } from './column-values.ts';
import { comparedLiterals, comparedValues, describePredicate, parsePredicate } from './predicate-text.ts';
import { TODO_POOL, draftReason, type DraftRule, type InitNote, type ProposedRule, type RuleIds } from './proposal.ts';
import { columnPool, expressionKeyPool, keyColumnPool, passChecks, valuesPassingChecks, withNullValue, type ColumnPool , rowShapeOf, keyBinding, generatedRowsPass, separateUnequalColumns, product } from './table-pools.ts';

/** Values per key column: two, so that keys collide often. */
const KEY_VALUES = 2;

/** One uniqueness demand read from a unique index or an exclusion constraint on equality. */
interface ReadScope {
  readonly object: string;
  readonly definition: string;
  readonly name: string;
  readonly key: string[];
  readonly fold: string[];
  /** Key columns the index compares through an expression (lower(coalesce(x, ''))), column → the expression. */
  readonly expressions: Record<string, string>;
  readonly where?: Predicate;
  readonly nullsNotDistinct: boolean;
}

/**
 * One scoped-unique rule per table that has unique indexes (partial or not, beyond its primary key) or
 * exclusion constraints on equality: every such demand of the table in one rule, so that none of them
 * looks over-restrictive to a rule that does not know it. `consumed` names indexes another rule covers.
 */
export function inferUniqueRules(
  facts: CatalogFacts,
  ids: RuleIds,
  consumed: ReadonlySet<string>,
  limited: ReadonlySet<CatalogTable> = new Set(),
): { rules: (ProposedRule | DraftRule)[]; notes: InitNote[] } {
  const rules: (ProposedRule | DraftRule)[] = [];
  const notes: InitNote[] = [];
  for (const table of facts.catalog.tables) {
    // An exclusion on overlapping ranges stays a source here although no uniqueness rule can state it: a rule
    // of the table's other keys would see its rows refused by it on columns it names (the SQL-template draft
    // of sql-inference.ts states the overlap itself).
    const sources = facts.indexesOf(table).filter((index) => !index.primary && !consumed.has(index.name) && (index.unique || isExclusion(facts, index)));
    const primary = primaryKeyScope(facts, table);
    if (primary && limited.has(table)) {
      notes.push({ about: `table ${table.name}`, message: `its ${primary.object} is exercised by the at-most-one-child rule of its trigger (a second row with the same key is rejected there); no rule of its own` });
    }
    const scopes: ReadScope[] = primary && !limited.has(table) ? [primary] : [];
    if (sources.length === 0 && scopes.length === 0) continue;
    const problems: string[] = [];
    const placeholders: Record<string, unknown>[] = [];
    const unread: CatalogIndex[] = [];
    for (const index of sources) {
      const read = readScope(facts, table, index);
      if ('problem' in read) {
        problems.push(read.problem);
        placeholders.push({ name: index.name, key: index.keys, where: `TODO: ${index.predicate ?? index.definition}` });
        unread.push(index);
      } else scopes.push(read);
    }
    if (scopes.length === 0 && placeholders.length === 0) continue;
    // Demands init cannot read on columns the readable ones never name (an overlap exclusion next to a unique
    // external id) become a draft of their own: the readable ones still run, and a row the other object
    // refuses is a generator gap there, since that object enforces nothing their rule states.
    if (scopes.length > 0 && unread.length > 0 && unread.every((index) => apart(facts, table, index, scopes))) {
      const aside = `${unread.map((index) => index.name).join(', ')} (a draft of its own) may refuse rows this rule generates: such a row is counted as a generator gap, not judged.`;
      const rule = buildRule(facts, table, scopes, [], [], ids, consumed);
      rules.push({ ...rule, comment: [...rule.comment, aside] });
      rules.push(buildRule(facts, table, [], placeholders, problems, ids, consumed));
      continue;
    }
    rules.push(buildRule(facts, table, scopes, placeholders, problems, ids, consumed));
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
  consumed: ReadonlySet<string>,
): ProposedRule | DraftRule {
  const name = facts.bindingName(table);
  const keyColumns = [...new Set(scopes.flatMap((s) => s.key))];
  const predicateCols = [...new Set(scopes.flatMap((s) => (s.where ? predicateColumns(s.where) : [])))];
  const checks = facts.checks(table);
  const pools = new Map<string, ColumnPool>();
  const keep = new Map<string, Value[]>();

  const checkValues = new Map<string, Value[]>();
  for (const check of checks) if (check.parsed.ok) for (const [c, values] of comparedValues(check.parsed.predicate)) checkValues.set(c, [...(checkValues.get(c) ?? []), ...values]);
  const readChecks = checks.flatMap((c) => (c.parsed.ok ? [{ name: c.constraint.name, predicate: c.parsed.predicate }] : []));
  const literals = scopes.flatMap((s) => (s.where ? comparedLiterals(s.where) : []));

  for (const columnName of keyColumns) {
    const column = facts.column(table, columnName)!;
    const fold = scopes.some((s) => s.fold.includes(columnName));
    const expression = scopes.map((s) => s.expressions[columnName]).find((e) => e !== undefined);
    // A key column a CHECK lists values for (a status in the key) takes those values, not made-up ones.
    const listed = facts.reference(table, columnName) ? [] : unique(checkValues.get(columnName) ?? []);
    let pool =
      listed.length > 0
        ? columnPool(listed.slice(0, KEY_VALUES + 1))
        : expression
          ? expressionKeyPool(facts, table, column, expression, KEY_VALUES)
          : keyColumnPool(facts, table, column, KEY_VALUES, fold);
    // A CHECK on the key column alone (sequential_id > 0) narrows its values rather than dropping the rule.
    const passing = pool && !facts.reference(table, columnName) ? valuesPassingChecks(column, pool.values, readChecks, KEY_VALUES) : undefined;
    if (passing) pool = columnPool({ values: passing, name: poolNameOf(columnName) });
    if (!pool) {
      problems.push(`key column ${columnName} is of type ${column.type}, for which init has no values`);
      pools.set(columnName, { binding: TODO_POOL, values: [] });
      continue;
    }
    // A key column the predicate also orders as text: its values must order alike under every collation.
    if (collationSafeValues(column, pool.values, literals).length < pool.values.length) {
      problems.push(`key column ${columnName} is compared by order in a predicate, and its values ${JSON.stringify(pool.values)} may order differently under the server's collation than the model's code-point order: give it values that are letters of one case or prefixes of the cut-off`);
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
    // Both sides of every cut-off (below, equal, above), and the other case of a lower()/upper() comparison.
    const around = literals.filter((l) => l.column === columnName).flatMap((l) => valuesAround(column, l));
    const candidates = unique([...compared, ...around, ...(checkValues.get(columnName) ?? []), ...domainValues(column)]);
    const other = candidates.length > 0 ? otherValue(column, candidates) : undefined;
    if (other !== undefined) candidates.push(other);
    const values = collationSafeValues(column, candidates, literals);
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

  // A column the rule leaves to per-row values can be NULL (when it may) or a filler; the solver picks later.
  const freeValues = (columnName: string): Value[] | undefined => {
    const column = facts.column(table, columnName);
    const filler = column && fillerValue(table, column, 0);
    return column && filler !== undefined ? [...(column.notNull ? [] : [null]), filler] : undefined;
  };
  const narrowed = narrowByChecks(pools, readChecks, keep, freeValues, keyColumns);
  problems.push(...narrowed.problems);
  const separated = separateUnequalColumns(facts, table, checks, pools);
  for (const check of checks) {
    if (separated.has(check.constraint.name)) continue;
    if (!check.parsed.ok) narrowByServer(facts, table, pools, check);
    if (!check.parsed.ok && check.constraint.columns.some((c) => pools.has(c)) && !generatedRowsPass(facts, table, pools, check)) {
      problems.push(`the CHECK ${check.constraint.name} (${check.expression}) reads columns this rule writes values into, and init cannot read the CHECK (${check.parsed.reason}) to keep generated rows inside it: narrow those columns' pools so that every row passes it`);
    }
  }

  const { primaryKey, keyColumns: addressed, perRow, plan, problems: shapeProblems } = rowShapeOf(facts, table, pools);
  problems.push(...shapeProblems);
  // Key columns the rule generates address the row: the key keeps their pools, the generated columns lose them.
  for (const column of addressed) pools.delete(column);
  const generated = new Set([...pools.keys(), ...addressed]);
  const others = otherKeysOf(facts, table, (index) => !consumed.has(index.name), generated);

  const comment = [
    ...scopes.map((s) => `Inferred from ${s.object}: ${s.definition}`),
    `Key columns get ${KEY_VALUES} values each so that keys collide; predicate columns take the values the predicate and the CHECKs name, values on both sides of each cut-off, another one, and NULL where the column allows it.`,
    ...(predicateCols.length ? [`Updates move rows in and out of the predicate: ${predicateCols.join(', ')}.`] : []),
    ...others.comment,
    ...otherTriggers(facts, table),
  ];
  const title = scopes
    .map((s) => `(${s.key.map((k) => s.expressions[k] ?? (s.fold.includes(k) ? `lower(${k})` : k)).join(', ')}) unique${s.where ? ` where ${describePredicate(s.where)}` : ''}`)
    .join('; ');
  const binding = {
    template: 'scoped-unique' as const,
    id: ids.allocate(scopes.length + placeholders.length === 1 ? String(scopes[0]?.name ?? placeholders[0]!.name) : `${table.name}-unique`),
    title: `${table.name}: ${title || placeholders.map((p) => `${String(p.name)} (write by hand)`).join('; ')}`,
    source: `pgconform init: ${[...scopes.map((s) => s.object), ...placeholders.map((p) => `the unique index ${String(p.name)}`)].join(', ')}`,
    table: name,
    primaryKey: keyBinding(primaryKey, table),
    columns: Object.fromEntries([...pools].map(([c, p]) => [c, p.binding])) as Record<string, PoolBinding>,
    ...(predicateCols.length ? { mutable: [...predicateCols, ...narrowed.pulled].filter((c) => pools.has(c)) } : {}),
    ...(Object.keys(perRow.perRow).length ? { perRow: perRow.perRow } : {}),
    ...(others.keys.length ? { otherKeys: others.keys } : {}),
    ...(narrowed.modelled.length ? { otherChecks: narrowed.modelled.map((c) => ({ name: c.name, check: fromPredicate(c.predicate) })) } : {}),
    unique: [
      ...scopes.map((s) => ({ name: s.name, key: s.key, ...keyComparisonOf(s) })),
      // Unreadable demands stay in the draft as placeholders that do not load until written by hand.
      ...(placeholders as { key: string[] }[]),
    ],
    ...(plan.toBinding() ? { setup: plan.toBinding() } : {}),
  };
  if ('problem' in primaryKey) problems.unshift(primaryKey.problem);
  if (problems.length > 0) return { kind: 'draft', draft: binding, comment, reason: draftReason(problems) };
  return { kind: 'rule', binding, comment };
}

/**
 * A CHECK init cannot read on one generated column (date_trunc('month', month) = month): keeps the
 * column's values the server let through, when some are left. The oracle was asked about each of them.
 */
function narrowByServer(facts: CatalogFacts, table: CatalogTable, pools: Map<string, ColumnPool>, check: ReadCheck): void {
  const [columnName] = check.constraint.columns;
  const pool = check.constraint.columns.length === 1 ? pools.get(columnName!) : undefined;
  if (!pool) return;
  const solver = new RowSolver(facts);
  const passing = pool.values.filter((v) => facts.oracle.passes(table, check.constraint.name, solver.storedRow(table, { [columnName!]: v }, 0)) !== false);
  if (passing.length < pool.values.length && passing.some((v) => v !== null)) pools.set(columnName!, columnPool({ values: passing, name: poolNameOf(columnName!) }));
}

/** A CHECK init read, by name. */
type NamedCheck = { readonly name: string; readonly predicate: Predicate };

/**
 * Narrows the pools by each CHECK init read, so that generated rows pass it; unless that would leave a key
 * column fewer than two values (an XOR of two key columns leaves one of them NULL only): such a CHECK, on
 * generated columns only, goes to the model instead, which takes the rows it rejects as legitimate rejections.
 */
function narrowByChecks(
  pools: Map<string, ColumnPool>,
  checks: readonly NamedCheck[],
  keep: ReadonlyMap<string, readonly Value[]>,
  freeValues: (column: string) => Value[] | undefined,
  keyColumns: readonly string[],
): { problems: string[]; modelled: NamedCheck[]; pulled: string[] } {
  const problems: string[] = [];
  const modelled: NamedCheck[] = [];
  const known = (pool: ColumnPool | undefined) => pool?.values.filter((v) => v !== null).length ?? 0;
  const pulled: string[] = [];
  for (const check of checks) {
    // A CHECK that ties a generated column to one the rule leaves per row ((state = 'resolved') = (resolved_at
    // IS NOT NULL)) needs the other column to follow the state: no value fixed per row does, so generate it too.
    const free = predicateColumns(check.predicate).filter((c) => !pools.has(c));
    const domains = free.map(freeValues);
    const reads = predicateColumns(check.predicate).some((c) => pools.has(c));
    if (reads && free.length > 0 && domains.every((d) => d !== undefined) && !fixedValuesFit(pools, check.predicate, free, domains as Value[][]) && eachComboFits(pools, check.predicate, free, domains as Value[][])) {
      free.forEach((c, i) => pools.set(c, columnPool(domains[i]!)));
      pulled.push(...free);
      modelled.push(check);
      continue;
    }
    const trial = new Map(pools);
    const found = passChecks(trial, [check], keep, freeValues);
    const starved = keyColumns.some((c) => known(trial.get(c)) < Math.min(2, known(pools.get(c))));
    if ((found.length > 0 || starved) && predicateColumns(check.predicate).every((c) => pools.has(c))) {
      modelled.push(check);
      continue;
    }
    problems.push(...found);
    for (const [column, pool] of trial) pools.set(column, pool);
  }
  return { problems, modelled, pulled };
}

/** Whether one value per free column lets every combination of the generated columns through the CHECK. */
function fixedValuesFit(pools: ReadonlyMap<string, ColumnPool>, predicate: Predicate, free: readonly string[], domains: readonly Value[][]): boolean {
  const combos = generatedCombos(pools, predicate);
  return product(domains).some((fixed) => combos.every((combo) => evaluate(predicate, { ...rowOf(free, fixed), ...combo }) !== false));
}

/** Whether every combination of the generated columns passes the CHECK with some values of the free columns. */
function eachComboFits(pools: ReadonlyMap<string, ColumnPool>, predicate: Predicate, free: readonly string[], domains: readonly Value[][]): boolean {
  const choices = product(domains);
  return generatedCombos(pools, predicate).every((combo) => choices.some((fixed) => evaluate(predicate, { ...rowOf(free, fixed), ...combo }) !== false));
}

/** The rows the generated columns a predicate reads can form (at most 256). */
function generatedCombos(pools: ReadonlyMap<string, ColumnPool>, predicate: Predicate): Record<string, Value>[] {
  const generated = predicateColumns(predicate).filter((c) => pools.has(c));
  return product(generated.map((c) => pools.get(c)!.values)).slice(0, 256).map((combo) => rowOf(generated, combo));
}

function rowOf(columns: readonly string[], values: readonly Value[]): Record<string, Value> {
  return Object.fromEntries(columns.map((c, i) => [c, values[i] ?? null]));
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
  const expressions: Record<string, string> = {};
  for (const part of index.keys) {
    // PostgreSQL prints a column whose name it must quote ("position", "order") with its quotes.
    const column = /^"((?:[^"]|"")+)"$/.exec(part)?.[1]?.replace(/""/g, '"') ?? part;
    // A stored generated column (slug AS (lower(name))) is written through its source: its expression is the key part.
    const generatedAs = facts.column(table, column)?.generatedAs;
    const source = generatedAs ? parseKeyExpression(generatedAs) : undefined;
    if (source?.ok && facts.column(table, source.expression.column) && !key.includes(source.expression.column)) {
      key.push(source.expression.column);
      expressions[source.expression.column] = generatedAs!;
      continue;
    }
    if (generatedAs) return { problem: `${object} has the generated column ${column} (${generatedAs}) in its key, which scoped-unique does not express${source && !source.ok ? ` (${source.reason})` : ''}` };
    if (facts.column(table, column)) {
      key.push(column);
      continue;
    }
    const lower = /^lower\(\(?"?([\w$]+)"?\)?(?:::text)?\)$/i.exec(part);
    if (lower && facts.column(table, lower[1]!)) {
      key.push(lower[1]!);
      fold.push(lower[1]!);
      continue;
    }
    // Any other expression of one column the model can evaluate: lower(coalesce(x, '')), tags ->> 'owner'.
    const expression = parseKeyExpression(part);
    if (expression.ok && facts.column(table, expression.expression.column) && !key.includes(expression.expression.column)) {
      key.push(expression.expression.column);
      expressions[expression.expression.column] = part;
      continue;
    }
    const why = expression.ok ? (key.includes(expression.expression.column) ? `: its column ${expression.expression.column} is in the key twice` : '') : ` (${expression.reason})`;
    return { problem: `${object} has the key expression ${part}, which scoped-unique does not express${why}` };
  }
  let where: Predicate | undefined;
  if (index.predicate) {
    const parsed = parsePredicate(index.predicate, facts.columnTypes(table));
    if (!parsed.ok) return { problem: `the predicate of ${object} (${index.predicate}) is not expressible: ${parsed.reason}` };
    where = parsed.predicate;
  }
  return { object, definition, name: constraint?.name ?? index.name, key, fold, expressions, where, nullsNotDistinct: /NULLS NOT DISTINCT/i.test(index.definition) };
}

/**
 * A natural primary key as a uniqueness demand: votes(post_id, user_id) is "one vote per post and user",
 * currencies(code) "one currency per code". A surrogate key (one column the server fills in) states none.
 */
function primaryKeyScope(facts: CatalogFacts, table: CatalogTable): ReadScope | undefined {
  if (table.primaryKey.length === 0 || facts.surrogateKey(table)) return undefined;
  const constraint = facts.constraintsOf(table, 'p')[0];
  const name = constraint?.name ?? `${table.name}_pkey`;
  return {
    object: `the primary key ${name}`,
    definition: constraint?.definition ?? `PRIMARY KEY (${table.primaryKey.join(', ')})`,
    name,
    key: [...table.primaryKey],
    fold: [],
    expressions: {},
    nullsNotDistinct: false,
  };
}

/** A unique key of the table, as a binding's otherKeys entry. */
export interface OtherKeyBinding {
  key: string[];
  where?: ReturnType<typeof fromPredicate>;
  fold?: string[];
  expressions?: Record<string, string>;
}

/** How a read key compares rows, as binding keys: its predicate, folded columns and key expressions (each only when present). */
function keyComparisonOf(read: ReadScope): Omit<OtherKeyBinding, 'key'> {
  return {
    ...(read.where ? { where: fromPredicate(read.where) } : {}),
    ...(read.fold.length ? { fold: read.fold } : {}),
    ...(Object.keys(read.expressions).length ? { expressions: read.expressions } : {}),
  };
}

/**
 * The table's unique indexes a rule does not judge (`judged` says which it does) that can reject a row
 * it generates (a key column among `generated`), as otherKeys: a second row the index rejects is then a
 * legitimate rejection, not an over-restrictive schema. A constant key part (a singleton's `(true)`) drops
 * out: every row has it. Indexes init cannot read become a comment line.
 */
export function otherKeysOf(
  facts: CatalogFacts,
  table: CatalogTable,
  judged: (index: CatalogIndex) => boolean,
  generated: ReadonlySet<string>,
): { keys: OtherKeyBinding[]; comment: string[] } {
  const keys: OtherKeyBinding[] = [];
  const unread: string[] = [];
  for (const index of facts.indexesOf(table)) {
    if (index.primary || !index.unique || judged(index)) continue;
    if (!index.keyColumns.some((c) => generated.has(c)) && !index.keys.every(isConstant)) continue;
    const read = readScope(facts, table, { ...index, keys: index.keys.filter((k) => !isConstant(k)) });
    if ('problem' in read) {
      unread.push(read.problem);
      continue;
    }
    keys.push({ key: read.key, ...keyComparisonOf(read) });
  }
  const comment = unread.length ? [`Other unique indexes init cannot read may reject generated rows (reported as over-restrictive): ${unread.join('; ')}.`] : [];
  return { keys, comment };
}

/** Whether an index names none of the columns the scopes' keys and predicates name. */
function apart(facts: CatalogFacts, table: CatalogTable, index: CatalogIndex, scopes: readonly ReadScope[]): boolean {
  const named = new Set(scopes.flatMap((s) => [...s.key, ...(s.where ? predicateColumns(s.where) : [])]));
  const columns = [...identifiersIn(`${index.definition} ${index.keys.join(' ')}`)].filter((name) => facts.column(table, name));
  return columns.length > 0 && columns.every((column) => !named.has(column));
}

/** A key part that is a constant (true, 1, 'x'): the same in every row. */
function isConstant(part: string): boolean {
  return /^\(*(true|false|\d+|'[^']*'(::[\w ]+)?)\)*$/i.test(part.trim());
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
