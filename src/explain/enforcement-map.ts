import { quoteIdent } from '../db/connection.ts';
import { findTable, type Catalog, type CatalogConstraint } from '../catalog/catalog.ts';
import type { Rule } from '../rules/rule.ts';
import { analyzeBody, stripCommentsAndLiterals, unquote, type BodyAnalysis, type FunctionLibrary } from './function-body.ts';
import { constraintFragilities, triggerFragilities, unenforced, unwatchedUpdate, updateOfColumns, type Fragility } from './fragility.ts';
import { ruleWrites, type RuleWrites } from './rule-writes.ts';
import { mentionsIdentifier } from '../catalog/definition-text.ts';

/** The kinds of database object the map relates to a rule. */
export type MappedKind =
  | 'primary key'
  | 'unique constraint'
  | 'unique index'
  | 'exclusion constraint'
  | 'index'
  | 'check constraint'
  | 'foreign key'
  | 'not null'
  | 'trigger';

/** One database object on a rule's tables and columns, and what it does for the rule. */
export interface MappedObject {
  readonly kind: MappedKind;
  readonly name: string;
  /** The table it belongs to, as the catalog names it. */
  readonly table: string;
  /** What it does, in a phrase: "unique index on (organization_id, user_id) WHERE status = 'PENDING'". */
  readonly role: string;
  /** Its SQL definition as the server prints it. */
  readonly definition: string;
  /** True when it can reject (or undo) a write that breaks the rule; false when it only touches the rule's columns. */
  readonly enforces: boolean;
  /** Triggers: the function they run, and its full CREATE FUNCTION text. */
  readonly function?: { readonly name: string; readonly definition: string };
}

/** Which objects of a schema enforce a rule, which only touch it, and what is fragile about them. */
export interface EnforcementMap {
  readonly ruleId: string;
  /** The rule's tables, as the catalog names them. */
  readonly tables: readonly string[];
  /** Enforcing objects first, then related ones; in catalog order within each. */
  readonly objects: readonly MappedObject[];
  /** Warnings (the rule can break) and notes, per object and for the rule as a whole. */
  readonly fragilities: readonly Fragility[];
}

/**
 * Relates the objects of a schema to a rule through the tables and columns it names: unique indexes and
 * constraints, exclusion constraints, CHECK constraints, foreign keys between its tables, NOT NULL on its
 * columns, triggers on its tables and triggers elsewhere whose function reads or writes them. Check the
 * rule's references first (checkRuleReferences): a table or column the schema lacks is left out here.
 */
export function mapEnforcement(rule: Rule, catalog: Catalog, library: FunctionLibrary = new Map()): EnforcementMap {
  const tables = rule.tables.flatMap((name) => findTable(catalog, name) ?? []);
  const ruleTables = new Set(tables.map((t) => t.qualified));
  const columns = ruleColumns(rule, catalog);
  const rowRule = rule.truthTable !== undefined;
  const writes = qualifiedWrites(ruleWrites(rule), catalog);
  const objects: MappedObject[] = [];
  const fragilities: Fragility[] = [];
  /** Table → the columns an enforcing object reacts to when an UPDATE changes them. */
  const watched = new Map<string, Set<string>>();
  const watch = (table: string, names: Iterable<string>) => watched.set(table, new Set([...(watched.get(table) ?? []), ...names]));
  const touches = (table: string, names: readonly string[]) => names.some((name) => columns.get(table)?.has(name));
  // A unique key or CHECK can only reject the rule's writes if the rule inserts into its table or updates one of its columns.
  const written = (table: string, names: readonly string[]) => writes.inserts.has(table) || names.some((name) => writes.updates.get(table)?.has(name));

  for (const index of catalog.indexes) {
    const table = tables.find((t) => t.qualified === index.table);
    if (!table) continue;
    const indexColumns = [...new Set([...index.keyColumns, ...mentioned(table.columns.map((c) => c.name), index.predicate)])];
    if (!touches(index.table, indexColumns)) continue;
    const constraint = index.constraint ? catalog.constraints.find((c) => c.name === index.constraint && c.table === index.table) : undefined;
    const kind: MappedKind = constraint?.type === 'p' ? 'primary key' : constraint?.type === 'u' ? 'unique constraint' : constraint?.type === 'x' ? 'exclusion constraint' : index.unique ? 'unique index' : 'index';
    const where = index.predicate ? ` WHERE ${index.predicate}` : '';
    const enforces = kind !== 'index' && !rowRule && written(index.table, indexColumns);
    const role =
      kind === 'exclusion constraint'
        ? `exclusion constraint ${constraint!.definition.replace(/^EXCLUDE /, '')}`
        : kind === 'index'
          ? `index on (${index.keys.join(', ')})${where}: not unique, it speeds up lookups and rejects nothing`
          : `${kind} on (${index.keys.join(', ')})${where}${enforces || rowRule ? '' : ": the rule's operations never write its columns"}`;
    objects.push({ kind, name: constraint?.name ?? index.name, table: index.table, role, definition: constraint ? constraintSql(constraint) : index.definition, enforces });
    if (enforces) watch(index.table, indexColumns);
    if (constraint && enforces) fragilities.push(...constraintFragilities(constraint));
  }

  for (const constraint of catalog.constraints) {
    if (constraint.type === 'c' && ruleTables.has(constraint.table) && touches(constraint.table, constraint.columns)) {
      const enforces = rowRule && written(constraint.table, constraint.columns);
      objects.push({
        kind: 'check constraint',
        name: constraint.name,
        table: constraint.table,
        role: rowRule ? `CHECK on (${constraint.columns.join(', ')})` : `CHECK on (${constraint.columns.join(', ')}): it sees one row at a time and cannot compare rows`,
        definition: constraintSql(constraint),
        enforces,
      });
      if (enforces) watch(constraint.table, constraint.columns);
      if (enforces) fragilities.push(...constraintFragilities(constraint));
    }
    const target = constraint.references;
    if (constraint.type === 'f' && target && ruleTables.has(constraint.table) && touches(constraint.table, constraint.columns)) {
      const enforces = ruleTables.has(target.table) && !rowRule;
      objects.push({
        kind: 'foreign key',
        name: constraint.name,
        table: constraint.table,
        role: `foreign key (${constraint.columns.join(', ')}) → ${target.table} (${target.columns.join(', ')}) ON DELETE ${target.onDelete}${enforces || rowRule ? '' : ', to a table the rule does not name'}`,
        definition: constraintSql(constraint),
        enforces,
      });
      if (enforces) {
        // Both ends react: the referencing columns are checked, the referenced ones cascade or are refused.
        watch(constraint.table, constraint.columns);
        watch(target.table, target.columns);
        fragilities.push(...constraintFragilities(constraint));
      }
    }
  }

  for (const table of tables) {
    for (const column of table.columns) {
      if (!column.notNull || !columns.get(table.qualified)?.has(column.name)) continue;
      // NOT NULL narrows a column's values; it is never the whole of a rule (a CHECK or trigger says the rest).
      objects.push({ kind: 'not null', name: `${table.name}.${column.name}`, table: table.qualified, role: 'NOT NULL', definition: `${column.name} ${column.type} NOT NULL`, enforces: false });
    }
  }

  const resolveTable = (name: string) => findTable(catalog, unquote(name))?.qualified;
  for (const trigger of catalog.triggers) {
    const analysis = analyzeBody(trigger.functionBody, resolveTable, library);
    const reaches = analysis.events.some((e) => e.kind !== 'lock' && ruleTables.has(e.table));
    if (!ruleTables.has(trigger.table) && !reaches) continue;
    // A write enforces the rule when it adds or removes the rule's rows, or updates columns the rule names;
    // one that keeps a counter or a timestamp on the rule's table up to date enforces nothing.
    const enforcingWrite = (w: (typeof analysis.writes)[number]) =>
      ruleTables.has(w.table) &&
      (w.verb !== 'update' || (updatedColumns(w.statement) ?? [...(columns.get(w.table) ?? [])]).some((c) => [...(columns.get(w.table) ?? [])].some((named) => named.toLowerCase() === c.toLowerCase())));
    const enforces = analysis.raises || (trigger.timing === 'BEFORE' && analysis.returnsNull) || analysis.writes.some(enforcingWrite);
    const deferrable = catalog.constraints.some((c) => c.type === 't' && c.name === trigger.name && c.table === trigger.table && c.deferrable);
    objects.push({
      kind: 'trigger',
      name: trigger.name,
      table: trigger.table,
      role: triggerRole(trigger, analysis, ruleTables, enforces),
      definition: trigger.definition,
      enforces,
      function: { name: trigger.function, definition: trigger.functionDefinition },
    });
    if (!enforces) continue;
    if (trigger.enabled && trigger.events.includes('UPDATE')) watch(trigger.table, updateOfColumns(trigger) ?? findTable(catalog, trigger.table)?.columns.map((c) => c.name) ?? []);
    fragilities.push(...triggerFragilities(trigger, analysis, writes, deferrable));
  }

  if (!objects.some((o) => o.enforces)) {
    fragilities.unshift(unenforced(rowRule));
  } else {
    // A trigger already flagged for not firing on UPDATE says the same about its table.
    const flagged = new Set(fragilities.filter((f) => f.kind === 'no-update').flatMap((f) => objects.filter((o) => o.name === f.object).map((o) => o.table)));
    for (const [table, updated] of writes.updates) {
      if (flagged.has(table)) continue;
      const unwatched = [...updated].filter((column) => !watchedColumns(catalog, table, watched.get(table)).has(column));
      if (unwatched.length > 0) fragilities.push(unwatchedUpdate(table, unwatched));
    }
  }
  return {
    ruleId: rule.id,
    tables: tables.map((t) => t.qualified),
    objects: [...objects.filter((o) => o.enforces), ...objects.filter((o) => !o.enforces)],
    fragilities,
  };
}

/** The columns an UPDATE of which some enforcing object sees: the watched ones and those a watched generated column is computed from. */
function watchedColumns(catalog: Catalog, table: string, watched: ReadonlySet<string> = new Set()): Set<string> {
  const columns = findTable(catalog, table)?.columns ?? [];
  const all = new Set(watched);
  for (const column of columns) {
    if (watched.has(column.name)) for (const source of mentioned(columns.map((c) => c.name), column.default)) all.add(source);
  }
  return all;
}

/** The columns an UPDATE statement sets (`UPDATE t SET a = a + 1, b = now() WHERE …`), or undefined when its text does not say. */
function updatedColumns(statement: string): string[] | undefined {
  const set = /\bSET\s+([\s\S]*?)(?:\s+(?:WHERE|FROM|RETURNING)\b|;|$)/i.exec(statement)?.[1];
  if (!set || statement.endsWith('…')) return undefined;
  const assigned = [...set.matchAll(/(?:^|,)\s*"?([A-Za-z_][\w$]*)"?\s*=/g)].map((m) => m[1]!.toLowerCase());
  return assigned.length > 0 ? assigned : undefined;
}

/** The names among `candidates` that an SQL expression mentions as identifiers. */
function mentioned(candidates: readonly string[], expression: string | null): string[] {
  if (!expression) return [];
  const code = stripCommentsAndLiterals(expression);
  return candidates.filter((name) => mentionsIdentifier(code, name));
}

/** The table → columns a rule's meaning depends on: every column it names except a row's identity and filler columns. */
function ruleColumns(rule: Rule, catalog: Catalog): Map<string, Set<string>> {
  const columns = new Map<string, Set<string>>();
  for (const reference of rule.references) {
    const table = findTable(catalog, reference.table);
    // The generated primary key (one column or several), per-row filler (names, emails) and the unique keys the
    // rule does not judge (otherKeys) say which row, not what the rule demands.
    if (!table || reference.column === undefined || /(^|\.)primaryKey\.column$|(^|\.)primaryKey\.columns\.|(^|\.)perRow\.|(^|\.)otherKeys\[/.test(reference.key)) continue;
    columns.set(table.qualified, (columns.get(table.qualified) ?? new Set()).add(reference.column));
  }
  // A generated column computed from the rule's columns (a scope key under a plain unique) carries the rule too.
  for (const [qualified, names] of columns) {
    const table = findTable(catalog, qualified);
    for (const column of table?.columns ?? []) {
      if ((column.generatedAs || !column.generated) && mentioned([...names], column.default).length > 0) names.add(column.name);
    }
  }
  return columns;
}

/** The rule's writes keyed by the catalog's table names, so they compare with triggers' tables. */
function qualifiedWrites(writes: RuleWrites, catalog: Catalog): RuleWrites {
  const name = (table: string) => findTable(catalog, table)?.qualified ?? table;
  return {
    inserts: new Set([...writes.inserts].map(name)),
    updates: new Map([...writes.updates].map(([table, columns]) => [name(table), columns])),
    deletes: new Set([...writes.deletes].map(name)),
  };
}

/** "BEFORE INSERT OR UPDATE trigger calling f(): rejects rows; reads tenant_members; locks with …". */
function triggerRole(trigger: Catalog['triggers'][number], analysis: BodyAnalysis, ruleTables: ReadonlySet<string>, enforces: boolean): string {
  const updateOf = updateOfColumns(trigger);
  const events = trigger.events.map((e) => (e === 'UPDATE' && updateOf ? `UPDATE OF ${updateOf.join(', ')}` : e)).join(' OR ');
  const kind = `${trigger.isConstraint ? 'constraint trigger' : 'trigger'}${trigger.forEachRow ? '' : ' (for each statement)'}${trigger.enabled ? '' : ' (disabled)'}`;
  const does: string[] = [];
  if (analysis.raises) does.push('rejects rows (RAISE)');
  if (trigger.timing === 'BEFORE' && analysis.returnsNull) does.push('skips rows (RETURN NULL)');
  const written = unique(analysis.writes.map((w) => w.table));
  if (written.length > 0) does.push(`writes ${written.join(', ')}`);
  const read = unique(analysis.events.flatMap((e) => (e.kind === 'read' ? [e.table] : [])));
  if (read.length > 0) does.push(`reads ${read.join(', ')}`);
  if (analysis.locks.length > 0) does.push(`locks with ${unique(analysis.locks.map((l) => l.how)).join(', ')}`);
  if (!enforces) does.push("neither rejects nor writes the rule's rows");
  const elsewhere = ruleTables.has(trigger.table) ? '' : ` on ${trigger.table}`;
  return `${trigger.timing} ${events} ${kind}${elsewhere} calling ${trigger.function}()${does.length > 0 ? `: ${does.join('; ')}` : ''}`;
}

/** A constraint as the statement that would create it. */
function constraintSql(constraint: CatalogConstraint): string {
  return `ALTER TABLE ${constraint.table} ADD CONSTRAINT ${quoteIdent(constraint.name)} ${constraint.definition}`;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

