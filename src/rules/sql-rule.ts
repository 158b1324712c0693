import { splitCommas, TABLE_NAME } from '../catalog/definition-text.ts';
import fc from 'fast-check';
import { KitError } from '../errors/kit-error.ts';
import { positional } from './named-parameters.ts';
import { poolArbitrary, type Pool } from './pool.ts';
import type { Operation, Row, Rule, RuleReference, Statement, Value } from './rule.ts';
import { insertRows } from './setup-rows.ts';
import { slotsArbitrary, slotsLabel, type TimeSlots } from './time-slots.ts';
import { transitionInvariant, type TransitionCheck } from './transition-log.ts';

/** Where an operation's parameter draws its values: a pool, or a grid of time slots (`:name.start`, `:name.end`). */
export type SqlParameter = Pool | TimeSlots;

function isTimeSlots(parameter: SqlParameter): parameter is TimeSlots {
  return 'kind' in parameter && parameter.kind === 'time-slots';
}

/** One operation of a SQL rule: a single statement with named parameters. */
export interface SqlOperation {
  /** Its name: the operation's kind in counterexamples and the corpus, e.g. "debit". */
  readonly name: string;
  /** One SQL statement; `:account`, `:amount`, `:slot.start` are parameters. */
  readonly sql: string;
  /** How it reads in a counterexample, `{param}` replaced by the value's label: "debit {account} by {amount}". */
  readonly describe?: string;
  /** How often it is drawn relative to the others (default 1). */
  readonly weight?: number;
  /**
   * The rule allows it in every state: true when the schema may still refuse it for reasons of its own (a
   * foreign key to a missing row), 'always' when any refusal is over-restrictive (deleting a post with comments).
   */
  readonly mustAccept?: boolean | 'always';
}

/** A rule stated in SQL: operations as statements, the rule as a query for offending rows and/or a condition on changes. */
export interface SqlRuleConfig {
  readonly id: string;
  readonly title: string;
  readonly source?: string;
  /** The pools operations draw their parameters from, by parameter name. */
  readonly parameters: Readonly<Record<string, SqlParameter>>;
  readonly operations: readonly SqlOperation[];
  /** SQL returning the rows that break the rule in the committed state; `:name` parameters come from `constants`. */
  readonly invariant?: string;
  /** Values of the invariant's named parameters. */
  readonly constants?: Readonly<Record<string, Value>>;
  /** A rule about changes: which row changes of a table are allowed. */
  readonly transition?: TransitionCheck;
  /** The tables operations write and the invariant reads, parents first; read from the SQL when absent. */
  readonly tables?: readonly string[];
  /**
   * The columns the rule is about, per table (explain, mutate and the database model read them). By default,
   * the columns operations write that the invariant or transition mentions, except those that only locate a row.
   */
  readonly columns?: Readonly<Record<string, readonly string[]>>;
  /** Fixed rows: SQL, or rows per table. */
  readonly setup?: string | Readonly<Record<string, readonly Row[]>>;
  /** The objects that enforce the rule (constraint, index or trigger names), when the enforcement map should not guess. */
  readonly enforcedBy?: readonly string[];
  readonly defaultSchema?: readonly string[];
  readonly fixtures?: string;
}

interface CompiledOperation {
  readonly config: SqlOperation;
  readonly text: string;
  /** Argument names in $n order. */
  readonly names: readonly string[];
  readonly arbitrary: fc.Arbitrary<Operation>;
}

/** Builds a rule from SQL: no reference model is written; the database judges over-restriction (see src/engine/database-model.ts). */
export function sqlRule(config: SqlRuleConfig): Rule {
  const where = `rule ${config.id}`;
  if (config.operations.length === 0) throw new KitError('spec', `${where}: no operations`, { fix: 'give at least one operation: { name, sql }' });
  if (!config.invariant && !config.transition) throw new KitError('spec', `${where}: neither an invariant nor a transition`, { fix: 'give invariant (SQL returning offending rows) or transition ({ table, allowed })' });
  const operations = new Map(config.operations.map((op) => [op.name, compile(config, op)]));
  if (operations.size !== config.operations.length) throw new KitError('spec', `${where}: two operations share a name`, { fix: 'give each operation its own name' });
  const invariant = invariantOf(config);
  const tables = config.tables ?? tablesIn([...config.operations.map((op) => op.sql), config.invariant ?? '', config.transition ? `FROM ${config.transition.table}` : '']);
  const byKind = (op: Operation) => {
    const compiled = operations.get(op.kind);
    if (!compiled) throw new Error(`unknown operation ${op.kind} of rule ${config.id}`);
    return compiled;
  };
  return {
    id: config.id,
    title: config.title,
    source: config.source ?? 'configuration',
    tables,
    setup: setupSql(config.setup),
    operation: fc.oneof(...[...operations.values()].map((op) => ({ arbitrary: op.arbitrary, weight: op.config.weight ?? 1 }))),
    sql(op): Statement {
      const compiled = byKind(op);
      return { text: compiled.text, values: compiled.names.map((name) => op.args[name] ?? null) };
    },
    describe: (op) => describeOperation(config, byKind(op).config, op),
    invariant: invariant.text,
    invariantValues: invariant.values,
    mustAccept: (op) => operations.get(op.kind)?.config.mustAccept ?? false,
    ...(config.enforcedBy ? { enforcedBy: config.enforcedBy } : {}),
    ...(config.transition ? { transitions: [config.transition.table] } : {}),
    references: referencesOf(config, tables),
    defaultSchema: config.defaultSchema,
    fixtures: config.fixtures,
  };
}

function compile(config: SqlRuleConfig, op: SqlOperation): CompiledOperation {
  const { text, names } = positional(op.sql);
  const used = [...new Set(names.map(baseName))];
  for (const name of used) {
    if (!(name in config.parameters)) {
      throw new KitError('spec', `rule ${config.id}, operation ${op.name}: parameter :${name} has no pool`, { fix: `add ${name} to parameters, or correct the name (known: ${Object.keys(config.parameters).join(', ') || 'none'})` });
    }
    const parameter = config.parameters[name]!;
    const slots = isTimeSlots(parameter);
    if (slots !== names.some((n) => n.startsWith(`${name}.`))) {
      throw new KitError('spec', `rule ${config.id}, operation ${op.name}: ${slots ? `the time slots ${name} are used as :${name}.start and :${name}.end` : `:${name} is a plain parameter, not an interval`}`, {
        fix: slots ? `write :${name}.start and :${name}.end` : `write :${name}`,
      });
    }
  }
  const parts = used.map((name) => {
    const parameter = config.parameters[name]!;
    return isTimeSlots(parameter) ? slotsArbitrary(parameter, name) : poolArbitrary(parameter).map((value) => ({ [name]: value }));
  });
  const arbitrary = (parts.length === 0 ? fc.constant([] as Record<string, Value>[]) : fc.tuple(...parts)).map(
    (args): Operation => ({ kind: op.name, args: Object.assign({}, ...args) as Record<string, Value> }),
  );
  return { config: op, text, names, arbitrary };
}

function baseName(name: string): string {
  return name.replace(/\.(start|end)$/, '');
}

function invariantOf(config: SqlRuleConfig): { text: string; values: Value[] } {
  const state = config.invariant ? positional(config.invariant) : undefined;
  const values = (state?.names ?? []).map((name) => {
    if (!config.constants || !(name in config.constants)) {
      throw new KitError('spec', `rule ${config.id}: the invariant's parameter :${name} has no value`, { fix: `add ${name} to constants` });
    }
    return config.constants[name]!;
  });
  const change = config.transition ? transitionInvariant(config.transition) : undefined;
  if (!state) return { text: change!, values };
  if (!change) return { text: state.text, values };
  // Two shapes of offending rows in one query: each as one JSON value, labelled by what it breaks.
  return { text: `SELECT 'state' AS broken, to_jsonb(s) AS rows FROM (${state.text}) s UNION ALL SELECT 'change', to_jsonb(c) FROM (${change}) c`, values };
}

function describeOperation(config: SqlRuleConfig, op: SqlOperation, operation: Operation): string {
  const label = (name: string): string => {
    const parameter = config.parameters[name];
    if (!parameter) return `{${name}}`;
    if (isTimeSlots(parameter)) return slotsLabel(parameter, operation.args[`${name}.start`] ?? null, operation.args[`${name}.end`] ?? null);
    return parameter.label(operation.args[name] ?? null);
  };
  if (op.describe) return op.describe.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => label(name));
  const names = [...new Set(Object.keys(operation.args).map(baseName))];
  return `${op.name} ${names.map((name) => `${name}=${label(name)}`).join(' ')}`.trim();
}


/** The tables SQL texts name after FROM, JOIN, INTO and UPDATE, in order of first mention. */
function tablesIn(texts: readonly string[]): string[] {
  const found: string[] = [];
  for (const text of texts) {
    for (const match of text.matchAll(new RegExp(String.raw`\b(?:FROM|JOIN|INTO|UPDATE)\s+(?:ONLY\s+)?${TABLE_NAME}`, 'gi'))) {
      const name = match[1]!.replace(/"/g, '');
      if (/^(lateral|jsonb?_|generate_series|unnest|select)\b/i.test(name) || name.startsWith('pgconform_kit.')) continue;
      if (!found.includes(name)) found.push(name);
    }
  }
  return found;
}

/** The columns each statement writes, and from which parameter: INSERT column lists, SET col = :p, WHERE col = :p. */
function writtenColumns(op: SqlOperation): Array<{ table: string; column: string; parameter: string; via: 'insert' | 'set' | 'where' }> {
  const found: Array<{ table: string; column: string; parameter: string; via: 'insert' | 'set' | 'where' }> = [];
  const insert = new RegExp(String.raw`^\s*INSERT\s+INTO\s+${TABLE_NAME}\s*\(([^)]*)\)\s*VALUES\s*\(`, 'i').exec(op.sql);
  if (insert) {
    const columns = insert[2]!.split(',').map((c) => c.trim().replace(/"/g, ''));
    const values = splitCommas(op.sql.slice(insert.index + insert[0].length));
    columns.forEach((column, i) => {
      const parameter = /^:([A-Za-z_]\w*(?:\.(?:start|end))?)(?:::[\w\s()]+)?$/.exec(values[i]?.trim() ?? '')?.[1];
      if (parameter) found.push({ table: insert[1]!.replace(/"/g, ''), column, parameter, via: 'insert' });
    });
  }
  const update = new RegExp(String.raw`^\s*(UPDATE|DELETE\s+FROM)\s+${TABLE_NAME}`, 'i').exec(op.sql);
  if (update) {
    const table = update[2]!.replace(/"/g, '');
    const [head, condition = ''] = op.sql.split(/\bWHERE\b/i);
    for (const m of (head ?? '').matchAll(/"?([A-Za-z_]\w*)"?\s*=\s*:([A-Za-z_]\w*(?:\.(?:start|end))?)/g)) found.push({ table, column: m[1]!, parameter: m[2]!, via: 'set' });
    for (const m of condition.matchAll(/"?([A-Za-z_]\w*)"?\s*=\s*:([A-Za-z_]\w*(?:\.(?:start|end))?)/g)) found.push({ table, column: m[1]!, parameter: m[2]!, via: 'where' });
  }
  return found;
}


/**
 * The tables, the columns the rule is about (`about.<table>`), and the columns operations write with the
 * values they write (`perRow.<parameter>`: checked against the column's type before a run).
 */
function referencesOf(config: SqlRuleConfig, tables: readonly string[]): RuleReference[] {
  const references: RuleReference[] = tables.map((table) => ({ key: 'tables', table }));
  const written = config.operations.flatMap(writtenColumns);
  for (const w of written) {
    const parameter = config.parameters[baseName(w.parameter)];
    if (!parameter || !tables.includes(w.table)) continue;
    const values = isTimeSlots(parameter) ? parameter.boundaries : parameter.values;
    references.push({ key: `perRow.${w.parameter}`, table: w.table, column: w.column, values });
  }
  const about = config.columns ?? defaultAbout(config, written);
  for (const [table, columns] of Object.entries(about)) for (const column of columns) references.push({ key: `about.${table}`, table, column });
  return references;
}

function defaultAbout(config: SqlRuleConfig, written: ReturnType<typeof writtenColumns>): Record<string, string[]> {
  const text = `${config.invariant ?? ''} ${config.transition?.allowed ?? ''}`;
  const about: Record<string, string[]> = {};
  for (const w of written) {
    // A column that finds the row an UPDATE or DELETE changes, and that no UPDATE sets, is the row's identity.
    const same = written.filter((other) => other.table === w.table && other.column === w.column);
    const identity = same.some((o) => o.via === 'where') && !same.some((o) => o.via === 'set');
    if (w.via === 'where' || identity || !new RegExp(String.raw`\b${w.column}\b`).test(text)) continue;
    if (!(about[w.table] ??= []).includes(w.column)) about[w.table]!.push(w.column);
  }
  return about;
}

function setupSql(setup: SqlRuleConfig['setup']): string {
  if (setup === undefined) return '';
  if (typeof setup === 'string') return setup;
  return Object.entries(setup)
    .map(([table, rows]) => insertRows(table, rows))
    .join('\n');
}
