import type { CatalogColumn, CatalogTable } from '../catalog/catalog.ts';
import type { PoolBinding } from '../config/rule-binding.ts';
import { evaluate, predicateColumns, type Predicate } from '../rules/predicate.ts';
import type { Value } from '../rules/rule.ts';
import { parseKeyExpression } from '../rules/unique-key.ts';
import type { CatalogFacts, ColumnReference, ReadCheck } from './catalog-facts.ts';
import { domainValues, idPoolFor, idPoolName, keyPool, needsValue, perRowPool, poolNameOf, poolValues, singular, valuesAround } from './column-values.ts';
import { comparedLiterals, comparedValues } from './predicate-text.ts';
import { RowSolver } from './row-solver.ts';
import { TODO_POOL } from './proposal.ts';
import { SetupPlan } from './setup-plan.ts';

// The parts of a one-table rule (scoped-unique, row-predicate, the child of child-requires-parent) that
// depend only on the table: its primary-key pool, per-row values for the NOT NULL columns the rule does
// not read, parent rows for its foreign keys, and pools narrowed so that no CHECK rejects a generated row.

/** Primary-key slots of a generated table: enough rows to collide on every key, few enough to shrink well. */
export const KEY_SLOTS = 4;

/** A column's pool as the binding writes it, and the values it generates. */
export interface ColumnPool {
  readonly binding: PoolBinding;
  readonly values: readonly Value[];
}

/** A pool from its binding. */
export function columnPool(binding: PoolBinding): ColumnPool {
  return { binding, values: poolValues(binding) };
}

/** The same pool with NULL added (for a nullable column). */
export function withNullValue(pool: ColumnPool): ColumnPool {
  if (pool.values.includes(null)) return pool;
  const b = pool.binding;
  if (Array.isArray(b)) return columnPool([...b, null]);
  if ('ids' in b || 'values' in b) return columnPool({ ...b, nullable: true });
  return columnPool([...pool.values, null]);
}

/** The same pool without one value. */
export function withoutValue(pool: ColumnPool, value: Value): ColumnPool {
  const b = pool.binding;
  if (value === null && !Array.isArray(b) && ('ids' in b || 'values' in b) && b.nullable) {
    const { nullable: _nullable, ...rest } = b;
    return columnPool(rest as PoolBinding);
  }
  const rest = pool.values.filter((v) => v !== value);
  return columnPool(rest as Value[]);
}

/** The id pools among these, by name: the pools whose members setup rows may name by label. */
export function boundPoolNames(pools: Iterable<PoolBinding>): Set<string> {
  return new Set([...pools].flatMap((pool) => idPoolName(pool) ?? []));
}

/** The pool a key column draws from: the ids of the table its foreign key references, or small values of its type. */
export function keyColumnPool(facts: CatalogFacts, table: CatalogTable, column: CatalogColumn, count: number, fold = false): ColumnPool | undefined {
  const reference = facts.reference(table, column.name);
  if (reference?.parent === table) {
    const pool = selfReferencePool(table, column, count);
    return pool && columnPool(pool);
  }
  const binding = (reference && parentKeyPool(facts, reference, count, column)) || keyPool(poolNameOf(column.name), count, column, fold);
  return binding ? columnPool(binding) : undefined;
}

/**
 * The pool of a key column an index compares through an expression. A JSON field's key (`tags ->> 'owner'`)
 * gets documents that hold the field with a few texts, and one that lacks it (NULL, or what coalesce()
 * makes of NULL); an expression that folds case gets a case variant of its first value, so that keys
 * collide only through the expression.
 */
export function expressionKeyPool(facts: CatalogFacts, table: CatalogTable, column: CatalogColumn, sql: string, count: number): ColumnPool | undefined {
  const parsed = parseKeyExpression(sql);
  if (!parsed.ok) return undefined;
  const { jsonPath, foldsCase } = parsed.expression;
  const name = poolNameOf(column.name);
  if (jsonPath.length === 0) {
    const pool = keyColumnPool(facts, table, column, count, foldsCase);
    const [first] = pool?.values ?? [];
    if (!pool || !foldsCase || typeof first !== 'string' || first.toUpperCase() === first || !Array.isArray(pool.binding) && !('values' in pool.binding)) return pool;
    return columnPool({ values: [first, first.toUpperCase(), ...pool.values.slice(1)], name });
  }
  if (!['json', 'jsonb'].includes(column.domain?.baseType ?? column.type)) return undefined;
  const texts = Array.from({ length: count }, (_, i) => `${name} ${i + 1}`);
  if (foldsCase) texts.splice(1, 0, texts[0]!.toUpperCase());
  const document = (text: string | undefined): string => JSON.stringify(jsonPath.reduceRight<unknown>((inner, field) => (text === undefined && field === jsonPath.at(-1) ? {} : { [field]: inner }), text));
  return columnPool({ values: [...texts.map(document), document(undefined)], name });
}

/**
 * How many rows a table can hold at most, by a unique key on one column whose values are few: a CHECK
 * that lists them (provider IN ('okta', 'google')), an enum, a boolean. Infinity when nothing bounds it.
 */
export function parentCapacity(facts: CatalogFacts, table: CatalogTable): number {
  let capacity = Infinity;
  for (const index of facts.indexesOf(table)) {
    if (!index.unique || index.predicate !== null || index.keys.length !== 1 || index.keyColumns.length !== 1) continue;
    const column = facts.column(table, index.keyColumns[0]!);
    if (!column) continue;
    const listed = facts.checks(table).flatMap((check) =>
      check.parsed.ok && predicateColumns(check.parsed.predicate).every((c) => c === column.name) ? (comparedValues(check.parsed.predicate).get(column.name) ?? []) : [],
    );
    const values = listed.length > 0 ? new Set(listed.map(String)).size : domainValues(column).length || Infinity;
    capacity = Math.min(capacity, values + (column.notNull ? 0 : Infinity));
  }
  return capacity;
}

/**
 * The pool of a column that references a parent: ids of the parent's pool (uuid, integer), or else the
 * keys the schema seeded into the parent (a lookup's codes) topped up with made-up keys of its type, which
 * setup then inserts. Undefined for a parent key of a type init cannot write.
 */
export function parentKeyPool(facts: CatalogFacts, reference: ColumnReference, count: number, column: CatalogColumn): PoolBinding | undefined {
  const name = singular(reference.parent.name);
  const ids = idPoolFor(name, count, column);
  if (ids) return ids;
  const seeded = facts.seededValues(reference.parent, reference.parentColumn.name).slice(0, count);
  const made = keyPool(name, count, reference.parentColumn);
  const extra = made ? poolValues(made).filter((v) => v !== null && !seeded.some((s) => String(s) === String(v))) : [];
  const values = [...seeded, ...extra].slice(0, count);
  return values.length === count ? { values, name } : undefined;
}

/** How init's rules address a table's rows: one key column and its pool, or several columns with a pool each. */
export type KeyBinding = { column: string; pool: PoolBinding; overridingSystemValue?: boolean } | { columns: Record<string, PoolBinding> };

/** Values per column of a composite key: two each, so that keys collide on every column. */
const COMPOSITE_KEY_VALUES = 2;

/**
 * The columns that tell a table's rows apart: its primary key, or else the unique index on NOT NULL
 * plain columns with the fewest columns (a table without a primary key). Undefined when there is
 * neither: the row's physical address (ctid) changes on every update, so it cannot follow a row from
 * one step to the next, and a column the table does not keep unique could address several rows.
 */
export function addressOf(facts: CatalogFacts, table: CatalogTable): readonly string[] | undefined {
  if (table.primaryKey.length > 0) return table.primaryKey;
  const candidates = facts
    .indexesOf(table)
    .filter((index) => index.unique && index.predicate === null && index.keys.every((k) => facts.column(table, k)?.notNull === true))
    .filter((index) => !facts.constraintsOf(table, 'x').some((c) => c.name === index.constraint))
    .sort((a, b) => a.keys.length - b.keys.length);
  return candidates[0]?.keys;
}

/**
 * The pool of a column referencing its own table (parent_id): ids of setup rows of the table, never
 * those the rule inserts and deletes, so that a generated row points at a row that exists. Integer ids
 * start past the primary key's slots.
 */
export function selfReferencePool(table: CatalogTable, column: CatalogColumn, count: number): PoolBinding | undefined {
  const ids = idPoolFor(`parent_${singular(table.name)}`, count, column);
  if (!ids) return undefined;
  if (!ids.type) return ids;
  return { values: Array.from({ length: count }, (_, i) => KEY_SLOTS + 1 + i), name: `parent ${singular(table.name)}` };
}

/**
 * The key rules address the table's rows by, with its pools: ids of its type for one column (identity
 * keys inserted with OVERRIDING SYSTEM VALUE), small pools per column for a composite key. A column the
 * rule already generates (`given`: the key of a uniqueness rule) keeps the rule's pool. Or a problem.
 */
export function primaryKeyOf(
  facts: CatalogFacts,
  table: CatalogTable,
  count = KEY_SLOTS,
  given: ReadonlyMap<string, ColumnPool> = new Map(),
): KeyBinding | { problem: string } {
  const address = addressOf(facts, table);
  if (!address) {
    return {
      problem: `${table.name} has no primary key and no unique index on NOT NULL columns, so a rule cannot tell its rows apart (ctid changes on every update); add a primary key, or bind one by hand`,
    };
  }
  if (address.length > 1) {
    const columns: Record<string, PoolBinding> = {};
    for (const name of address) {
      const column = facts.column(table, name)!;
      const pool = given.get(name) ?? keyColumnPool(facts, table, column, COMPOSITE_KEY_VALUES);
      if (!pool) return { problem: `${table.name}'s key column ${name} is of type ${column.type}, for which init has no values` };
      columns[name] = pool.binding;
    }
    return { columns };
  }
  const key = facts.column(table, address[0]!)!;
  // An identity column has no default expression; a serial one does (nextval) and takes explicit values anyway.
  const overriding = key.generated && key.default === null ? { overridingSystemValue: true } : {};
  const taken = given.get(key.name);
  if (taken) return { column: key.name, pool: taken.binding, ...overriding };
  // A key that is also a foreign key (profiles.id → auth.users.id, one-to-one) takes its parent's ids, which setup creates.
  const reference = facts.reference(table, key.name);
  const parentIds = reference && reference.parent !== table ? keyColumnPool(facts, table, key, count)?.binding : undefined;
  const pool = parentIds ?? idPoolFor(singular(table.name), count, key) ?? keyPool(singular(table.name), count, key);
  if (!pool) return { problem: `${table.name}'s key ${key.name} is of type ${key.type}, for which init has no values` };
  return { column: key.name, pool, ...overriding };
}

/** The key columns of a key binding. */
export function keyColumnsOf(key: KeyBinding | { problem: string }): string[] {
  if ('problem' in key) return [];
  return 'columns' in key ? Object.keys(key.columns) : [key.column];
}

/** How many rows a key binding can address (per-row values need one per slot). */
export function keySlots(key: KeyBinding | { problem: string }): number {
  if ('problem' in key || !('columns' in key)) return KEY_SLOTS;
  return Object.values(key.columns).reduce<number>((n, pool) => n * poolValues(pool).filter((v) => v !== null).length, 1);
}

/**
 * Per-row values for the table's NOT NULL columns without a default that the rule does not set
 * (`taken`): unique per slot (a parent row per slot for a foreign key). Problems for what init cannot fill.
 */
export function perRowColumns(
  facts: CatalogFacts,
  table: CatalogTable,
  taken: ReadonlySet<string>,
  plan: SetupPlan,
  count = KEY_SLOTS,
): { perRow: Record<string, PoolBinding>; problems: string[] } {
  const perRow: Record<string, PoolBinding> = {};
  const problems: string[] = [];
  for (const column of table.columns) {
    if (taken.has(column.name) || !needsValue(column)) continue;
    const reference = facts.reference(table, column.name);
    if (reference) {
      // A parent per slot, as for any per-row value: rows then never collide on a unique index that includes the column.
      const parents = Math.min(count, parentCapacity(facts, reference.parent));
      const pool = reference.parent === table ? selfReferencePool(table, column, count) : parentKeyPool(facts, reference, parents, column);
      if (!pool) {
        problems.push(`${table.name}.${column.name} references ${reference.parent.name}.${reference.parentColumn.name} of type ${column.type}: give it a value by hand`);
        perRow[column.name] = TODO_POOL;
        continue;
      }
      for (const value of memberValues(columnPool(pool))) plan.ensure(reference.parent, { [reference.parentColumn.name]: value });
      perRow[column.name] = pool;
      continue;
    }
    const composite = facts.constraintsOf(table, 'f').find((c) => c.columns.length > 1 && c.columns.includes(column.name));
    if (composite) {
      if (column.name in perRow) continue;
      // A parent row per slot, all of the key's columns copied from it; the rule generating part of the key cannot be matched.
      const slots = composite.columns.some((c) => taken.has(c)) ? [] : Array.from({ length: count }, (_, i) => plan.pointAt(table, composite, i));
      if (slots.length === 0 || slots.some((slot) => !slot)) {
        problems.push(`${table.name}.${column.name} is part of the composite foreign key ${composite.name} and not generated by the rule: give it a value by hand`);
        perRow[column.name] = TODO_POOL;
        continue;
      }
      for (const c of composite.columns) perRow[c] = slots.map((slot) => slot!.get(c)!.value);
      continue;
    }
    const pool = perRowPool(table, column, count);
    if (!pool) {
      const why = column.domain?.checks.length ? `of the domain ${column.type} (${column.domain.checks.join(' ')}), whose CHECK init cannot read` : `of type ${column.type}, which init cannot fill`;
      problems.push(`${table.name}.${column.name} is NOT NULL without a default and ${why}: add it to perRow by hand`);
      perRow[column.name] = TODO_POOL;
      continue;
    }
    perRow[column.name] = pool;
  }
  return { perRow, problems };
}

/**
 * Plans the parent rows the generated columns point at: every member of a pool on a single-column
 * foreign key, and every combination of pools on a composite one (a few). Problems when a composite
 * foreign key has columns the rule does not generate.
 */
export function planParents(facts: CatalogFacts, table: CatalogTable, pools: ReadonlyMap<string, ColumnPool>, plan: SetupPlan): string[] {
  const problems: string[] = [];
  for (const fk of facts.constraintsOf(table, 'f')) {
    const parent = fk.references && facts.table(fk.references.table);
    if (!parent || !fk.columns.some((c) => pools.has(c))) continue;
    // A self-reference points at setup rows of the table (selfReferencePool), planned like any parent's.
    if (!fk.columns.every((c) => pools.has(c))) {
      problems.push(`the foreign key ${fk.name} (${fk.columns.join(', ')}) has columns the rule does not generate: give its setup rows by hand`);
      continue;
    }
    const domains = fk.columns.map((c) => memberValues(pools.get(c)!));
    const combinations = product(domains).slice(0, 16);
    for (const combination of combinations) {
      plan.ensure(parent, Object.fromEntries(fk.references!.columns.map((pc, i) => [pc, combination[i]!])));
    }
  }
  return problems;
}

/** The non-NULL members of a pool as setup values, labelled when they are ids. */
export function memberValues(pool: ColumnPool): { value: Value; label?: string }[] {
  const b = pool.binding;
  return pool.values
    .filter((v) => v !== null)
    .map((value, i) => (idPoolName(b) ? { value, label: `${idPoolName(b)}#${i + 1}` } : { value }));
}

/**
 * Narrows pools so that every combination of values passes the table's CHECKs (read ones): a rule
 * that generates a row a CHECK rejects would report the CHECK as over-restrictive. Removes NULL first,
 * then the values rejected most often, never a value listed in `keep` (those the rule's predicate
 * names). A problem when a CHECK rejects a combination made of kept values only, or a pool would empty.
 */
export function passChecks(
  pools: Map<string, ColumnPool>,
  checks: readonly { readonly name: string; readonly predicate: Predicate }[],
  keep: ReadonlyMap<string, readonly Value[]>,
  freeValues: (column: string) => readonly Value[] | undefined = () => undefined,
): string[] {
  const problems: string[] = [];
  const kept = (column: string, value: Value) => value !== null && (keep.get(column)?.some((k) => String(k) === String(value)) ?? false);
  for (const { name, predicate } of checks) {
    const columns = predicateColumns(predicate).filter((c) => pools.has(c));
    // A column the rule does not generate (a per-row value set later) may take any of its free values:
    // a combination fails only when none of them lets it through (paid needs a number and an issue date).
    const free = predicateColumns(predicate).filter((c) => !pools.has(c));
    const freeDomains = free.map(freeValues);
    if (columns.length === 0 || freeDomains.some((d) => d === undefined)) continue;
    const freeRows = product(freeDomains as (readonly Value[])[]).map((combo) => Object.fromEntries(free.map((c, i) => [c, combo[i] ?? null])));
    for (;;) {
      const failing = product(columns.map((c) => pools.get(c)!.values)).filter((combo) => {
        const row = Object.fromEntries(columns.map((c, i) => [c, combo[i] ?? null]));
        return freeRows.every((freeRow) => evaluate(predicate, { ...freeRow, ...row }) === false);
      });
      if (failing.length === 0) break;
      const best = valueToDrop(failing, columns, pools, kept);
      if (!best) {
        const combo = failing[0]!.map((v, i) => `${columns[i]} = ${v === null ? 'NULL' : JSON.stringify(v)}`).join(', ');
        problems.push(`the CHECK ${name} rejects ${combo}, which the rule needs: no row the CHECK lets through has it`);
        break;
      }
      pools.set(best.column, withoutValue(pools.get(best.column)!, best.value));
    }
  }
  return problems;
}

/** The value whose removal clears the most failing combinations (NULL first), never a kept one nor a pool's last. */
function valueToDrop(failing: readonly Value[][], columns: readonly string[], pools: ReadonlyMap<string, ColumnPool>, kept: (column: string, value: Value) => boolean) {
  let best: { column: string; value: Value; score: number } | undefined;
  for (const combo of failing) {
    for (const [i, column] of columns.entries()) {
      const value = combo[i] ?? null;
      if (kept(column, value) || pools.get(column)!.values.length <= 1) continue;
      const score = failing.filter((f) => (f[i] ?? null) === value).length + (value === null ? 100 : 0);
      if (!best || score > best.score) best = { column, value, score };
    }
  }
  return best;
}

/** `a <> b` between two columns (casts and parentheses aside): what "not self" CHECKs say (follower_id <> followee_id). */
const UNEQUAL_COLUMNS = /^\(*\s*"?(\w+)"?(?:::[\w ]+)?\s*(?:<>|!=)\s*"?(\w+)"?(?:::[\w ]+)?\s*\)*$/;

/**
 * Makes the pools of two columns a CHECK says must differ disjoint (the second one takes the next values
 * of its type, or of its parent's ids), so that no generated row is one the CHECK rejects while each key
 * still collides on its own. Returns the CHECKs it handled this way.
 */
export function separateUnequalColumns(facts: CatalogFacts, table: CatalogTable, checks: readonly ReadCheck[], pools: Map<string, ColumnPool>): Set<string> {
  const handled = new Set<string>();
  for (const check of checks) {
    const [, first, second] = UNEQUAL_COLUMNS.exec(check.expression) ?? [];
    const a = first && pools.get(first);
    const b = second && pools.get(second);
    if (!a || !b || first === second) continue;
    const taken = new Set(a.values.filter((v) => v !== null).map(String));
    const column = facts.column(table, second!)!;
    const count = b.values.filter((v) => v !== null).length;
    const reference = facts.reference(table, second!);
    const wider = reference && reference.parent !== table ? parentKeyPool(facts, reference, 2 * count, column) : keyPool(poolNameOf(second!), 2 * count, column);
    const values = wider ? poolValues(wider).filter((v) => v !== null && !taken.has(String(v))).slice(0, count) : [];
    if (values.length < count) continue;
    const name = (wider && idPoolName(wider)) ?? poolNameOf(second!);
    const separate = columnPool({ values, name });
    pools.set(second!, b.values.includes(null) ? withNullValue(separate) : separate);
    handled.add(check.constraint.name);
  }
  return handled;
}

/** Every combination of one value from each domain. */
export function product<T>(domains: readonly (readonly T[])[]): T[][] {
  return domains.reduce<T[][]>((acc, domain) => acc.flatMap((prefix) => domain.map((v) => [...prefix, v])), [[]]);
}

/**
 * Whether the server (the CheckOracle) lets every row the rule generates through a CHECK init cannot
 * read: every combination of the pools (and primary-key slots) on the columns the CHECK reads, the
 * others left to their default. False when it was not asked or rejects one.
 */
export function generatedRowsPass(facts: CatalogFacts, table: CatalogTable, pools: ReadonlyMap<string, ColumnPool>, check: ReadCheck): boolean {
  const primaryKey = primaryKeyOf(facts, table, KEY_SLOTS, pools);
  const keyPoolOf = (column: string): PoolBinding | undefined =>
    'column' in primaryKey ? (primaryKey.column === column ? primaryKey.pool : undefined) : 'columns' in primaryKey ? primaryKey.columns[column] : undefined;
  const domain = (column: string): readonly Value[] | undefined => {
    const key = keyPoolOf(column);
    return pools.get(column)?.values ?? (key ? poolValues(key) : undefined);
  };
  const columns = check.constraint.columns.filter((c) => domain(c) !== undefined);
  const solver = new RowSolver(facts);
  return product(columns.map((c) => domain(c)!))
    .slice(0, MAX_GENERATED_COMBINATIONS)
    .every((combo) => facts.oracle.passes(table, check.constraint.name, solver.storedRow(table, Object.fromEntries(columns.map((c, i) => [c, combo[i] ?? null])), 0)) === true);
}

/** Combinations of the rule's values a generated row is checked on, at most. */
const MAX_GENERATED_COMBINATIONS = 64;

/**
 * Per-row values for the columns the rule does not generate, chosen so that the table's CHECKs (those
 * the rule does not judge: `judged`) let every generated row through: a default a CHECK ties to another
 * column, an XOR of two columns the insert leaves out. Returns the columns it set, or problems.
 */
export function completePerRow(
  facts: CatalogFacts,
  table: CatalogTable,
  generated: ReadonlyMap<string, readonly Value[]>,
  perRow: Record<string, PoolBinding>,
  plan: SetupPlan,
  judged: ReadonlySet<string> = new Set(),
  count = KEY_SLOTS,
): string[] {
  const solver = new RowSolver(facts);
  const columns = [...generated.keys()];
  const combinations = product(columns.map((c) => generated.get(c)!)).slice(0, MAX_GENERATED_COMBINATIONS);
  const settable = table.columns.map((c) => c.name).filter((c) => !generated.has(c));
  const perSlot: Map<string, Value>[] = [];
  for (let slot = 0; slot < count; slot++) {
    const fixed = Object.fromEntries(Object.entries(perRow).map(([c, pool]) => [c, poolValues(pool)[slot % poolValues(pool).length] ?? null]));
    const rows = combinations.map((combo) => ({ ...fixed, ...Object.fromEntries(columns.map((c, i) => [c, combo[i] ?? null])) }));
    const completion = solver.complete(table, rows, settable, slot, { judged, onlySettable: true });
    if ('rejectedBy' in completion) {
      const check = completion.rejectedBy;
      return [`the CHECK ${check.constraint.name} (${check.expression}) rejects rows the rule generates and init found no per-row values that pass it: narrow the pools or add perRow values by hand`];
    }
    const chosen = new Map<string, Value>();
    for (const [column, value] of completion.set) {
      if (value.parent) plan.ensure(value.parent.table, { [value.parent.column]: { value: value.value } });
      chosen.set(column, value.value);
    }
    perSlot.push(chosen);
  }
  for (const column of new Set(perSlot.flatMap((chosen) => [...chosen.keys()]))) {
    // A slot that needed no change keeps what it had: the per-row value, else what the insert leaves (the default or NULL).
    const values = perSlot.map((chosen, slot) => (chosen.has(column) ? chosen.get(column)! : column in perRow ? poolValues(perRow[column]!)[slot % poolValues(perRow[column]!).length]! : solver.storedRow(table, {}, slot)[column]!));
    perRow[column] = values.every((v) => v === values[0]) ? [values[0]!] : values;
  }
  return [];
}

/**
 * The row around a rule's columns: its key, per-row fillers for other required columns, and setup rows
 * for its parents. Key columns among `pools` are addressed with the rule's pool: the caller leaves them
 * out of its generated columns (`keyColumns`).
 */
export function rowShapeOf(facts: CatalogFacts, table: CatalogTable, pools: ReadonlyMap<string, ColumnPool>, judged: ReadonlySet<string> = new Set()) {
  const problems: string[] = [];
  const primaryKey = primaryKeyOf(facts, table, KEY_SLOTS, pools);
  const keyColumns = keyColumnsOf(primaryKey);
  const boundPools = boundPoolNames([...pools.values()].map((p) => p.binding));
  const plan = new SetupPlan(facts, boundPools);
  // The parents of a composite key's columns are planned as those of the rule's columns.
  const planned = new Map(pools);
  if ('columns' in primaryKey) for (const [c, binding] of Object.entries(primaryKey.columns)) if (!planned.has(c)) planned.set(c, columnPool(binding));
  if ('column' in primaryKey && facts.reference(table, primaryKey.column) && !planned.has(primaryKey.column)) planned.set(primaryKey.column, columnPool(primaryKey.pool));
  for (const binding of 'columns' in primaryKey ? Object.values(primaryKey.columns) : []) for (const name of boundPoolNames([binding])) boundPools.add(name);
  problems.push(...planParents(facts, table, planned, plan));
  const taken = new Set([...pools.keys(), ...keyColumns]);
  const perRow = perRowColumns(facts, table, taken, plan, keySlots(primaryKey));
  narrowPerRow(facts, table, perRow.perRow);
  const generated = new Map([...pools].map(([c, p]) => [c, p.values]));
  if ('column' in primaryKey) generated.set(primaryKey.column, poolValues(primaryKey.pool));
  if ('columns' in primaryKey) for (const [c, binding] of Object.entries(primaryKey.columns)) if (!generated.has(c)) generated.set(c, poolValues(binding));
  problems.push(...completePerRow(facts, table, generated, perRow.perRow, plan, judged, keySlots(primaryKey)));
  problems.push(...perRow.problems, ...plan.problems);
  // The plan holds this set: pools named by per-row fillers are bound too.
  for (const name of boundPoolNames(Object.values(perRow.perRow))) boundPools.add(name);
  return { primaryKey, keyColumns, perRow, plan, problems };
}

/** The key as a binding writes it: a placeholder that does not load when init found none. */
export function keyBinding(key: KeyBinding | { problem: string }, table: CatalogTable): KeyBinding {
  return 'problem' in key ? { column: table.primaryKey.join(', ') || 'TODO', pool: TODO_POOL } : key;
}

/** How far from a CHECK's cut-off init looks for values it lets through (in the column's unit: 1, a day, a second). */
const SPREAD = [1, 2, 10, 100];

/**
 * Values of one column that every read CHECK on that column alone lets through (not FALSE; NULL never
 * offered), `count` of them where possible: the given ones that pass first, then values around the
 * CHECKs' cut-offs. Undefined when none pass, or when no CHECK on the column alone rejects a given value.
 */
export function valuesPassingChecks(
  column: CatalogColumn,
  given: readonly Value[],
  checks: readonly { readonly predicate: Predicate }[],
  count: number,
): Value[] | undefined {
  const own = checks.filter((c) => predicateColumns(c.predicate).every((name) => name === column.name));
  const passes = (v: Value) => v !== null && own.every((c) => evaluate(c.predicate, { [column.name]: v }) !== false);
  if (given.every(passes)) return undefined;
  const candidates: Value[] = [...given];
  for (const { predicate } of own) {
    for (const literal of comparedLiterals(predicate)) {
      candidates.push(...valuesAround(column, literal));
      if (typeof literal.value === 'number') for (const step of SPREAD) candidates.push(literal.value - step, literal.value + step);
    }
  }
  const found: Value[] = [];
  for (const v of candidates) if (passes(v) && !found.some((f) => String(f) === String(v))) found.push(v);
  return found.length > 0 ? found.slice(0, count) : undefined;
}

/** Per-row values a CHECK on their column alone rejects (a filler 1 where `priority < 0`) replaced by values it lets through. */
function narrowPerRow(facts: CatalogFacts, table: CatalogTable, perRow: Record<string, PoolBinding>): void {
  const checks = facts.checks(table).flatMap((c) => (c.parsed.ok ? [{ predicate: c.parsed.predicate }] : []));
  for (const [name, binding] of Object.entries(perRow)) {
    const column = facts.column(table, name);
    // A placeholder (a TODO string: init had no value for the column) has nothing to narrow.
    if (!column || typeof binding !== 'object' || binding === null || Array.isArray(binding) || !('values' in binding)) continue;
    const passing = valuesPassingChecks(column, binding.values, checks, binding.values.length);
    // Fewer passing values than slots repeat: a repeated value beats a row the CHECK rejects.
    if (passing) perRow[name] = { ...binding, values: binding.values.map((_, i) => passing[i % passing.length]!) };
  }
}
