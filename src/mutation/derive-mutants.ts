import { findTable, type Catalog, type CatalogConstraint, type CatalogIndex, type CatalogTable, type CatalogTrigger } from '../catalog/catalog.ts';
import { quoteIdent } from '../db/connection.ts';
import type { Rule } from '../rules/rule.ts';
import { checkExpression, firstList, identifiersIn, splitTopLevel, splitWhere, stripOuterParentheses, withoutListItem } from '../catalog/definition-text.ts';

/** The ways a schema object is broken, one small change each. */
export const MUTANT_KINDS = [
  'drop-index',
  'drop-constraint',
  'non-unique',
  'strip-predicate',
  'strip-predicate-conjunct',
  'drop-key-column',
  'drop-check',
  'drop-check-branch',
  'drop-foreign-key',
  'drop-trigger',
  'insert-only-trigger',
  'drop-not-null',
] as const;
export type MutantKind = (typeof MUTANT_KINDS)[number];

/** One small change to the user's schema, applied after it as one more SQL file. */
export interface Mutant {
  /** Stable and readable: the kind, the object, and the part changed, e.g. "strip-predicate-conjunct uq_x: (removed_at IS NULL)". */
  readonly name: string;
  readonly kind: MutantKind;
  /** The table whose object it changes, as the catalog names it. */
  readonly table: string;
  /** The index, constraint or trigger changed, or "table.column" for a NOT NULL. */
  readonly object: string;
  /** Columns of the table the whole object constrains (empty when unknown, as for a trigger). */
  readonly objectColumns: readonly string[];
  /** Columns the changed part constrains: what a spec must set to tell the mutant from the original. */
  readonly changedColumns: readonly string[];
  /** Changed columns the rule never names, when the object also constrains columns it names: a part of the rule's mechanism the spec cannot exercise. */
  readonly unnamedColumns: readonly string[];
  readonly sql: string;
}

/** A mutant before the rule's view of its columns is added. */
type Derived = Omit<Mutant, 'unnamedColumns'>;

type MakeMutant = (kind: MutantKind, detail: string | undefined, changedColumns: readonly string[], sql: string) => Derived;

/**
 * The mutants of every object that touches the rule's tables: enforcing indexes and constraints
 * (dropped, made non-unique, a partial predicate stripped or one of its conjuncts dropped, one key
 * column dropped), CHECKs (dropped, or one branch of a top-level OR or AND dropped), foreign keys
 * from or to the tables (dropped), triggers (dropped, or made to fire on INSERT only), and the NOT
 * NULL of each column the rule names. Names are unique within the result.
 */
export function deriveMutants(catalog: Catalog, rule: Rule): Mutant[] {
  const tables = new Map<string, CatalogTable>();
  for (const name of [...rule.tables, ...rule.references.map((r) => r.table)]) {
    const table = findTable(catalog, name);
    if (table) tables.set(table.qualified, table);
  }
  const derived: Derived[] = [];
  for (const table of tables.values()) {
    const on = (object: { table: string }) => object.table === table.qualified;
    for (const index of catalog.indexes.filter((i) => on(i) && i.unique && i.constraint === null)) derived.push(...indexMutants(table, index));
    for (const constraint of catalog.constraints.filter(on)) derived.push(...constraintMutants(catalog, table, constraint));
    for (const trigger of catalog.triggers.filter((t) => on(t) && t.enabled)) derived.push(...triggerMutants(table, trigger));
    derived.push(...notNullMutants(catalog, rule, table));
  }
  // Foreign keys of other tables that point at the rule's tables touch them too.
  for (const constraint of catalog.constraints) {
    if (constraint.type !== 'f' || tables.has(constraint.table) || !constraint.references || !tables.has(constraint.references.table)) continue;
    const table = catalog.tables.find((t) => t.qualified === constraint.table);
    if (table) derived.push(...constraintMutants(catalog, table, constraint));
  }
  return uniqueNames(derived.map((mutant) => ({ ...mutant, unnamedColumns: unnamedColumns(catalog, rule, mutant) })));
}

/** The changed part's columns the rule never names, when the object also constrains columns it names. */
function unnamedColumns(catalog: Catalog, rule: Rule, mutant: Derived): string[] {
  const named = namedColumns(catalog, rule, mutant.table);
  if (!mutant.objectColumns.some((c) => named.has(c))) return [];
  return mutant.changedColumns.filter((c) => !named.has(c));
}

/** The columns of a table (as the catalog names it) that the rule names. */
function namedColumns(catalog: Catalog, rule: Rule, table: string): Set<string> {
  return new Set(rule.references.filter((r) => r.column !== undefined && findTable(catalog, r.table)?.qualified === table).map((r) => r.column!));
}

/** A unique index that backs no constraint: drop it, make it non-unique, loosen its predicate, narrow its key. */
function indexMutants(table: CatalogTable, index: CatalogIndex): Derived[] {
  const qualifiedIndex = `${quoteIdent(table.schema)}.${quoteIdent(index.name)}`;
  const columns = indexColumns(table, index);
  const make: MakeMutant = (kind, detail, changedColumns, sql) => ({
    name: `${kind} ${index.name}${detail === undefined ? '' : `: ${detail}`}`,
    kind,
    table: table.qualified,
    object: index.name,
    objectColumns: columns,
    changedColumns,
    sql,
  });
  const recreate = (definition: string) => `DROP INDEX ${qualifiedIndex};\n${definition};`;
  const mutants = [
    make('drop-index', undefined, columns, `DROP INDEX ${qualifiedIndex};`),
    make('non-unique', undefined, columns, recreate(index.definition.replace(/^CREATE UNIQUE INDEX /, 'CREATE INDEX '))),
  ];
  mutants.push(...predicateMutants(table, index, index.definition, make, recreate));
  mutants.push(...keyMutants(table, index, index.definition, make, recreate));
  return mutants;
}

/** A partial key's predicate stripped, and each of its top-level conjuncts dropped in turn (when it has several). */
function predicateMutants(table: CatalogTable, index: CatalogIndex, definition: string, make: MakeMutant, recreate: (definition: string) => string): Derived[] {
  if (!index.predicate) return [];
  const where = splitWhere(definition);
  if (!where) return [];
  const mutants = [make('strip-predicate', undefined, columnsOf(table, index.predicate), recreate(`${where.head}${where.tail}`))];
  // The catalog's predicate is the readable (pretty) deparse of the same expression as the definition's.
  const conjuncts = splitTopLevel(index.predicate, 'AND');
  if (conjuncts.length < 2) return mutants;
  conjuncts.forEach((conjunct, i) => {
    const rest = conjuncts.filter((_, j) => j !== i).map((c) => `(${c})`).join(' AND ');
    mutants.push(make('strip-predicate-conjunct', `(${conjunct})`, columnsOf(table, conjunct), recreate(`${where.head} WHERE (${rest})${where.tail}`)));
  });
  return mutants;
}

/** One key column (or expression) dropped from a key of several. */
function keyMutants(table: CatalogTable, index: CatalogIndex, definition: string, make: MakeMutant, recreate: (definition: string) => string): Derived[] {
  const list = firstList(definition);
  if (index.keys.length < 2 || !list || list.items.length !== index.keys.length) return [];
  return index.keys.map((key, i) => make('drop-key-column', key, columnsOf(table, key), recreate(withoutListItem(definition, i))));
}

/** Constraints: UNIQUE, PRIMARY KEY and EXCLUDE as keys, CHECKs dropped or weakened, foreign keys dropped. */
function constraintMutants(catalog: Catalog, table: CatalogTable, constraint: CatalogConstraint): Derived[] {
  const qualifiedTable = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
  const drop = `ALTER TABLE ${qualifiedTable} DROP CONSTRAINT ${quoteIdent(constraint.name)};`;
  const recreate = (definition: string) => `${drop}\nALTER TABLE ${qualifiedTable} ADD CONSTRAINT ${quoteIdent(constraint.name)} ${definition};`;
  const backing = catalog.indexes.find((i) => i.table === constraint.table && i.constraint === constraint.name);
  const objectColumns = backing ? indexColumns(table, backing) : constraint.type === 'c' ? columnsOf(table, constraint.definition) : [...constraint.columns];
  const make: MakeMutant = (kind, detail, changedColumns, sql) => ({
    name: `${kind} ${constraint.name}${detail === undefined ? '' : `: ${detail}`}`,
    kind,
    table: table.qualified,
    object: constraint.name,
    objectColumns,
    changedColumns,
    sql,
  });
  switch (constraint.type) {
    case 'u':
    case 'p':
    case 'x': {
      const mutants = [make('drop-constraint', undefined, objectColumns, drop)];
      if (backing) {
        mutants.push(...predicateMutants(table, backing, constraint.definition, make, recreate));
        mutants.push(...keyMutants(table, backing, constraint.definition, make, recreate));
      }
      return mutants;
    }
    case 'c':
      return [make('drop-check', undefined, objectColumns, drop), ...checkBranchMutants(table, constraint, make, recreate)];
    case 'f':
      return [make('drop-foreign-key', undefined, objectColumns, drop)];
    default:
      // Constraint triggers are mutated as triggers.
      return [];
  }
}

/** CHECK (a OR b): each branch dropped in turn; CHECK (a AND b) likewise, when the top level is one of those. */
function checkBranchMutants(table: CatalogTable, constraint: CatalogConstraint, make: MakeMutant, recreate: (definition: string) => string): Derived[] {
  const check = checkExpression(constraint.definition);
  if (!check) return [];
  const { expression } = check;
  const suffix = constraint.definition.slice(check.close + 1);
  for (const operator of ['OR', 'AND'] as const) {
    const branches = splitTopLevel(expression, operator);
    if (branches.length < 2) continue;
    return branches.map((branch, i) => {
      const rest = branches.filter((_, j) => j !== i).map((b) => `(${b})`).join(` ${operator} `);
      return make('drop-check-branch', `(${branch})`, columnsOf(table, branch), recreate(`CHECK (${rest})${suffix}`));
    });
  }
  return [];
}

/** A trigger dropped, and one that fires on INSERT and more made to fire on INSERT only. */
function triggerMutants(table: CatalogTable, trigger: CatalogTrigger): Derived[] {
  const qualifiedTable = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
  const drop = `DROP TRIGGER ${quoteIdent(trigger.name)} ON ${qualifiedTable};`;
  const make = (kind: MutantKind, sql: string): Derived => ({
    name: `${kind} ${trigger.name}`,
    kind,
    table: table.qualified,
    object: trigger.name,
    // What a trigger guards is in its function's code: the kit does not guess it.
    objectColumns: [],
    changedColumns: [],
    sql,
  });
  const mutants = [make('drop-trigger', drop)];
  if (trigger.events.includes('INSERT') && trigger.events.length > 1) {
    const insertOnly = insertOnlyDefinition(trigger.definition);
    if (insertOnly) mutants.push(make('insert-only-trigger', `${drop}\n${insertOnly};`));
  }
  return mutants;
}

/** The trigger's CREATE TRIGGER with its events (INSERT OR UPDATE OF … OR DELETE) replaced by INSERT. */
function insertOnlyDefinition(definition: string): string | undefined {
  const head = /^CREATE (?:CONSTRAINT )?TRIGGER (?:"(?:[^"]|"")*"|[^\s"]+) (?:BEFORE|AFTER|INSTEAD OF) /.exec(definition);
  if (!head) return undefined;
  const events = definition.slice(head[0].length);
  const on = /^(.*?) ON /.exec(events.replace(/"(?:[^"]|"")*"/g, (quoted) => 'x'.repeat(quoted.length)));
  if (!on) return undefined;
  return `${head[0]}INSERT${events.slice(on[1]!.length)}`;
}

/** The NOT NULL of every column the rule names on this table, primary key columns aside (they cannot lose it). */
function notNullMutants(catalog: Catalog, rule: Rule, table: CatalogTable): Derived[] {
  const named = namedColumns(catalog, rule, table.qualified);
  return table.columns
    .filter((column) => named.has(column.name) && column.notNull && !table.primaryKey.includes(column.name))
    .map((column) => ({
      name: `drop-not-null ${table.qualified}.${column.name}`,
      kind: 'drop-not-null' as const,
      table: table.qualified,
      object: `${table.qualified}.${column.name}`,
      objectColumns: [column.name],
      changedColumns: [column.name],
      sql: `ALTER TABLE ${quoteIdent(table.schema)}.${quoteIdent(table.name)} ALTER COLUMN ${quoteIdent(column.name)} DROP NOT NULL;`,
    }));
}

/** The table's columns an index constrains: its key columns and those its predicate reads. */
function indexColumns(table: CatalogTable, index: CatalogIndex): string[] {
  return [...new Set([...index.keyColumns, ...(index.predicate ? columnsOf(table, index.predicate) : [])])];
}

/** The table's columns an expression mentions. */
function columnsOf(table: CatalogTable, expression: string): string[] {
  const names = identifiersIn(stripOuterParentheses(expression));
  return table.columns.filter((c) => names.has(c.name)).map((c) => c.name);
}

/** Two objects of the same name on different tables get their table in the name. */
function uniqueNames(mutants: readonly Mutant[]): Mutant[] {
  const seen = new Map<string, number>();
  for (const m of mutants) seen.set(m.name, (seen.get(m.name) ?? 0) + 1);
  const kept = new Set<string>();
  return mutants.flatMap((m) => {
    const name = (seen.get(m.name) ?? 0) > 1 ? `${m.name} (on ${m.table})` : m.name;
    if (kept.has(name)) return [];
    kept.add(name);
    return [{ ...m, name }];
  });
}
