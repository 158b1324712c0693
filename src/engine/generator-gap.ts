import { findTable, type Catalog } from '../catalog/catalog.ts';
import type { SqlFailure } from '../db/sql-failure.ts';
import { mapEnforcement } from '../explain/enforcement-map.ts';
import { unquote } from '../explain/function-body.ts';
import type { Rule } from '../rules/rule.ts';
import type { History } from './history.ts';
import { mentionsIdentifier } from '../catalog/definition-text.ts';

/** A rejection by an object that enforces nothing the rule states: the generator wrote a row the schema refuses for another reason. */
export interface GeneratorGap {
  /** The constraint or index name, "table.column NOT NULL", or the function that raised. */
  readonly constraint: string;
  /** The table it belongs to (as the server named it in the error). */
  readonly table: string;
  /** Its definition as the catalog prints it. */
  readonly definition: string;
}

/** A gap seen during a check: how many executions hit it, and one statement that did. */
export interface GapCount extends GeneratorGap {
  readonly executions: number;
  readonly example: { readonly statement: string; readonly params: readonly unknown[]; readonly label: string; readonly message: string };
}

/**
 * An execution is lost to the generator when its first exercised step (an operation that wrote a row
 * or was rejected) was a gap: nothing about the rule was learnt from it. A check whose executions are
 * lost more often than this share is an error, "could not be exercised", not a pass.
 */
export const LOST_SHARE = 0.5;

/**
 * Tells the rejections the rule judges from generator gaps, for one rule on one schema. Judged: every
 * object the enforcement map relates to the rule's key, predicate or reference columns, NOT NULL on any
 * column the rule writes (a NULL there is a probe), the primary keys of the rule's tables (the model
 * tracks row identity), and whatever a trigger of the rule's tables raises or an enforcing one does. Not
 * judged: objects on other tables, or only on columns the rule fills in; a foreign key to a table the
 * rule does not name (its parent rows are setup's business, the model never sees them); a unique key
 * under a row rule (one row at a time cannot break it). When in doubt (a raise whose function cannot be
 * named) the rejection is judged.
 */
export class GapClassifier {
  private readonly judged = new Set<string>();
  private readonly notNull = new Set<string>();
  private readonly judgedFunctions = new Set<string>();
  private readonly enforcingFunctions = new Set<string>();

  private constructor(private readonly catalog: Catalog) {}

  /** Built once per check, from the catalog through the enforcement map. */
  static of(rule: Rule, catalog: Catalog): GapClassifier {
    const classifier = new GapClassifier(catalog);
    const map = mapEnforcement(rule, catalog);
    const ruleTables = new Set(map.tables);
    const rowRule = rule.truthTable !== undefined;
    const stated = statedColumns(rule, catalog);
    const states = (table: string, columns: readonly string[]) => stated === undefined || columns.some((c) => stated.get(table)?.has(c));
    // A unique key the rule names in otherKeys is one its model expects to reject a row: judged, never a gap.
    const expected = otherKeyColumns(rule, catalog);
    const expects = (table: string, columns: readonly string[]) => columns.length > 0 && columns.every((c) => expected.get(table)?.has(c));
    for (const object of map.objects) {
      switch (object.kind) {
        case 'not null':
          // A NULL the generator writes on purpose is a probe: the model decides whether the rule allows it.
          classifier.notNull.add(`${bare(object.table)}.${object.name.slice(object.name.lastIndexOf('.') + 1)}`);
          break;
        case 'trigger':
          classifier.judgedFunctions.add(functionName(object.function?.name ?? ''));
          if (object.enforces) classifier.enforcingFunctions.add(functionName(object.function?.name ?? ''));
          break;
        case 'foreign key': {
          const constraint = catalog.constraints.find((c) => c.name === object.name && c.table === object.table);
          const target = constraint?.references?.table;
          if (target && ruleTables.has(target) && states(object.table, constraint.columns)) classifier.judge(object.table, object.name);
          break;
        }
        case 'primary key':
        case 'unique constraint':
        case 'unique index':
        case 'exclusion constraint':
          if (!rowRule && states(object.table, classifier.columnsOf(object.table, object.name))) classifier.judge(object.table, object.name);
          else if (expects(object.table, classifier.columnsOf(object.table, object.name))) classifier.judge(object.table, object.name);
          break;
        case 'check constraint':
          if (states(object.table, classifier.columnsOf(object.table, object.name))) classifier.judge(object.table, object.name);
          break;
        case 'index':
          break;
      }
    }
    for (const constraint of catalog.constraints) {
      if (constraint.type === 'p' && ruleTables.has(constraint.table)) classifier.judge(constraint.table, constraint.name);
    }
    return classifier;
  }

  /** The gap a rejection shows, or undefined when the rejection is the rule's to judge. */
  classify(failure: SqlFailure): GeneratorGap | undefined {
    const functions = raisingFunctions(failure);
    if (functions.some((f) => this.enforcingFunctions.has(f))) return undefined;
    const table = failure.table ?? '';
    if (failure.code === '23502' && failure.column) {
      const name = `${table}.${failure.column}`;
      if (this.notNull.has(name)) return undefined;
      const column = this.catalog.tables.find((t) => bare(t.qualified) === table)?.columns.find((c) => c.name === failure.column);
      return { constraint: `${name} NOT NULL`, table, definition: `${failure.column} ${column?.type ?? ''} NOT NULL`.replace('  ', ' ') };
    }
    if (failure.constraint) {
      if (this.judged.has(key(table, failure.constraint))) return undefined;
      return { constraint: failure.constraint, table, definition: this.definitionOf(table, failure.constraint) };
    }
    // A raise: judged unless every function on its stack is one no trigger of the rule's tables runs.
    if (functions.length === 0 || functions.some((f) => this.judgedFunctions.has(f))) return undefined;
    const raiser = functions[0]!;
    const trigger = this.catalog.triggers.find((t) => functionName(t.function) === raiser);
    return { constraint: `${raiser}()`, table: trigger ? bare(trigger.table) : table, definition: trigger?.definition ?? `function ${raiser}()` };
  }

  private judge(table: string, name: string): void {
    this.judged.add(key(bare(table), name));
  }

  /** The columns a constraint or index names (an index's predicate included). */
  private columnsOf(table: string, name: string): string[] {
    const constraint = this.catalog.constraints.find((c) => c.name === name && c.table === table);
    const index = this.catalog.indexes.find((i) => (i.name === name || (constraint !== undefined && i.constraint === name)) && i.table === table);
    const columns = this.catalog.tables.find((t) => t.qualified === table)?.columns.map((c) => c.name) ?? [];
    const inPredicate = columns.filter((column) => index?.predicate && mentionsIdentifier(index.predicate, column));
    return [...new Set([...(constraint?.columns ?? []), ...(index?.keyColumns ?? []), ...inPredicate])];
  }

  private definitionOf(table: string, name: string): string {
    const constraint = this.catalog.constraints.find((c) => c.name === name && bare(c.table) === table);
    if (constraint) return constraint.definition;
    const index = this.catalog.indexes.find((i) => i.name === name && bare(i.table) === table);
    return index?.definition ?? name;
  }
}

/** True when the execution's first exercised step was a gap (see LOST_SHARE). */
export function lostToGap(history: History): boolean {
  for (const event of history) {
    if (event.kind !== 'op') continue;
    if (event.gap) return true;
    if (event.outcome.status === 'rejected' || (event.outcome.status === 'ok' && event.outcome.rowCount > 0)) return false;
  }
  return false;
}

/** The message of a check lost to generator gaps: the most frequent gap, with its definition and a fix. */
export function notExercised(gaps: readonly GapCount[], lost: number, runs: number): string {
  const top = [...gaps].sort((a, b) => b.executions - a.executions)[0];
  const what = top ? `the generator wrote rows that ${top.constraint} on ${top.table} rejects (${top.definition})` : 'the generator wrote rows the schema rejects';
  return `could not be exercised: ${lost} of ${runs} scenarios were lost before any judged step: ${what}; e.g. ${top?.example.label ?? ''}: ${top?.example.message ?? ''} (give the columns it names values that satisfy it in the rule's configuration, or create the rows it needs in the rule's setup)`;
}

/** Counts gaps per constraint across executions, keeping the first statement of each as its example. */
export class GapTally {
  private readonly counts = new Map<string, GapCount>();
  /** Executions with at least one gap, and those lost to one. */
  gapped = 0;
  lost = 0;

  add(history: History): void {
    const seen = new Set<string>();
    for (const event of history) {
      if (!event.gap || event.outcome.status !== 'rejected') continue;
      const id = key(event.gap.table, event.gap.constraint);
      if (seen.has(id)) continue;
      seen.add(id);
      const known = this.counts.get(id);
      this.counts.set(
        id,
        known
          ? { ...known, executions: known.executions + 1 }
          : { ...event.gap, executions: 1, example: { statement: event.sql, params: [...event.params], label: event.label, message: event.outcome.failure.message } },
      );
    }
    if (seen.size > 0) this.gapped++;
    if (lostToGap(history)) this.lost++;
  }

  /** Every gap seen, most frequent first. */
  get gaps(): GapCount[] {
    return [...this.counts.values()].sort((a, b) => b.executions - a.executions);
  }
}

/**
 * Table → the columns the rule states something about: its keys, predicates and parent references, as
 * opposed to the columns it only fills in (`columns.*`, `perRow.*`) and the rows' identity. Undefined
 * when the rule's references say nothing finer (then every column it names counts).
 */
/** The columns of the unique keys a rule names in otherKeys, by qualified table. */
function otherKeyColumns(rule: Rule, catalog: Catalog): Map<string, Set<string>> {
  const columns = new Map<string, Set<string>>();
  for (const reference of rule.references) {
    if (reference.column === undefined || !/(^|\.)otherKeys\[\d+\]\.key$/.test(reference.key)) continue;
    const table = findTable(catalog, reference.table)?.qualified ?? reference.table;
    columns.set(table, (columns.get(table) ?? new Set()).add(reference.column));
  }
  return columns;
}

function statedColumns(rule: Rule, catalog: Catalog): Map<string, Set<string>> | undefined {
  const stated = new Map<string, Set<string>>();
  for (const reference of rule.references) {
    if (reference.column === undefined || /(^|\.)(columns|perRow)\.[^.]+$|(^|\.)primaryKey\.column$/.test(reference.key)) continue;
    const table = findTable(catalog, reference.table)?.qualified ?? reference.table;
    stated.set(table, (stated.get(table) ?? new Set()).add(reference.column));
  }
  // A generated column computed from stated columns (a scope key under a plain unique) states the rule too.
  for (const [qualified, names] of stated) {
    for (const column of findTable(catalog, qualified)?.columns ?? []) {
      if ((column.generatedAs || !column.generated) && column.default && [...names].some((name) => mentionsIdentifier(column.default!, name))) names.add(column.name);
    }
  }
  return stated.size > 0 ? stated : undefined;
}

function key(table: string, name: string): string {
  return `${table}\u0000${name}`;
}

/** The bare relation name of a regclass text ("s.t", "\"My T\"") as the server puts it in an error. */
function bare(qualified: string): string {
  const parts = qualified.match(/"(?:[^"]|"")*"|[^.]+/g) ?? [qualified];
  return unquote(parts[parts.length - 1]!);
}

/** The unqualified function name, as it appears in an error's PL/pgSQL context. */
function functionName(name: string): string {
  return bare(name.replace(/\(.*$/, '')).toLowerCase();
}

/** The PL/pgSQL functions on the error's stack, innermost first. */
function raisingFunctions(failure: SqlFailure): string[] {
  return [...(failure.where ?? '').matchAll(/PL\/pgSQL function ([^\s(]+)\(/g)].map((m) => functionName(m[1]!));
}
