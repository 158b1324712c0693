import type pg from 'pg';
import type { Catalog, CatalogColumn, CatalogTable } from '../catalog/catalog.ts';
import { checkExpression } from '../catalog/definition-text.ts';
import { quoteIdent } from '../db/connection.ts';
import type { Row, Value } from '../rules/rule.ts';
import { domainValues, fillerValue } from './column-values.ts';

// The CHECKs init cannot read as predicates (XOR of nullness, num_nonnulls, functions, comparisons) still
// decide whether a setup or generated row is accepted. The server is the judge: each such CHECK is
// evaluated once, at start, on every combination of a few values per column it reads (NULL, the
// column's default, the literals the expression names, a plain filler), by a SELECT that writes nothing,
// so that it also works on a live database opened read-only. Rows are then judged against that table.

/** Values per column a CHECK is evaluated on, at most; combinations per CHECK, at most. */
const MAX_DOMAIN = 8;
const MAX_COMBINATIONS = 4096;
/** The class of a non-NULL value when the domain lists none: never asked, so unknown. */
const OTHER = '#other';

/** What the server said about a CHECK, per combination of value classes of its columns. */
interface CheckTable {
  readonly expression: string;
  readonly types: readonly CatalogColumn[];
  readonly columns: readonly string[];
  readonly domains: readonly (readonly Value[])[];
  readonly truth: ReadonlyMap<string, boolean | null>;
}

/** The server's verdicts on the CHECKs of a catalog, asked once; rows are judged from them without a round trip. */
export class CheckOracle {
  /** The server's verdicts on exact values, asked by refine(): they overrule the classes. */
  private readonly exact = new Map<string, Map<string, boolean | null>>();
  /** Exact values judged by class so far and not yet asked. */
  private readonly pending = new Map<string, Map<string, Value[]>>();

  private constructor(private readonly tables: ReadonlyMap<string, CheckTable>) {}

  /** An oracle that knows nothing (no server at hand): every CHECK it is asked about is unknown. */
  static empty(): CheckOracle {
    return new CheckOracle(new Map());
  }

  /** Asks the server about every CHECK of the catalog that `wanted` selects (default: all), with SELECTs only. */
  static async ask(client: pg.ClientBase, catalog: Catalog, wanted: (definition: string) => boolean = () => true): Promise<CheckOracle> {
    const tables = new Map<string, CheckTable>();
    for (const constraint of catalog.constraints) {
      if (constraint.type !== 'c' || !wanted(constraint.definition)) continue;
      const table = catalog.tables.find((t) => t.qualified === constraint.table);
      const expression = checkExpression(constraint.definition)?.expression;
      if (!table || expression === undefined || constraint.columns.length === 0) continue;
      const columns = constraint.columns.map((name) => table.columns.find((c) => c.name === name)!);
      const domains = columns.map((column) => checkDomain(table, column, expression));
      const truth = await evaluateAll(client, expression, columns, combinations(domains));
      if (truth) tables.set(oracleKey(table, constraint.name), { expression, types: columns, columns: constraint.columns, domains, truth });
    }
    return new CheckOracle(tables);
  }

  /**
   * Asks the server about the exact values judged by class since the last call (two columns compared
   * with each other are not judged right by class). Returns how many it asked: none means every
   * verdict given so far was the server's own on those values.
   */
  async refine(client: pg.ClientBase): Promise<number> {
    let asked = 0;
    for (const [id, tuples] of this.pending) {
      const known = this.tables.get(id)!;
      const rows = [...tuples.values()];
      const truth = await evaluateAll(client, known.expression, known.types, rows);
      const exact = this.exact.get(id) ?? new Map<string, boolean | null>();
      // A row the server cannot evaluate (a value that does not fit the type) is rejected: init must not write it.
      // NULL (the CHECK lets the row through) is a verdict of its own: `??` would turn it into a rejection.
      for (const row of rows) exact.set(tupleKey(row), truth?.has(tupleKey(row)) ? truth.get(tupleKey(row))! : false);
      this.exact.set(id, exact);
      asked += rows.length;
    }
    this.pending.clear();
    return asked;
  }

  /**
   * Whether the CHECK lets the row through (its expression not FALSE): true, false, or undefined when
   * the server was not asked. A value the server was not asked about is judged as the column's filler.
   */
  passes(table: CatalogTable, constraint: string, row: Row): boolean | undefined {
    const id = oracleKey(table, constraint);
    const known = this.tables.get(id);
    if (!known) return undefined;
    const values = known.columns.map((column) => row[column] ?? null);
    const exact = this.exact.get(id)?.get(tupleKey(values));
    if (exact !== undefined) return exact !== false;
    if (!this.pending.has(id)) this.pending.set(id, new Map());
    this.pending.get(id)!.set(tupleKey(values), values);
    const key = known.columns.map((column, i) => classOf(known.domains[i]!, row[column] ?? null));
    const truth = known.truth.get(JSON.stringify(key));
    return truth === undefined ? undefined : truth !== false;
  }
}

/** The oracle asked when each catalog was read (init reads a catalog, then infers from it). */
const asked = new WeakMap<Catalog, CheckOracle>();

/** Remembers what the server said about this catalog's CHECKs, for inference from it later. */
export function rememberOracle(catalog: Catalog, oracle: CheckOracle): void {
  asked.set(catalog, oracle);
}

/** The oracle asked when the catalog was read, or one that knows nothing (a catalog built by hand). */
export function oracleOf(catalog: Catalog): CheckOracle {
  return asked.get(catalog) ?? CheckOracle.empty();
}

/** A tuple of values as a map key (NULL apart from the text 'null'). */
function tupleKey(values: readonly Value[]): string {
  return JSON.stringify(values.map((v) => (v === null ? null : String(v))));
}

function oracleKey(table: CatalogTable, constraint: string): string {
  return `${table.qualified}\u0000${constraint}`;
}

/** A value's class: itself when the domain lists it, else the domain's first non-NULL value (the filler). */
function classOf(domain: readonly Value[], value: Value): string | null {
  if (value === null) return null;
  if (domain.some((v) => v !== null && String(v) === String(value))) return String(value);
  const filler = domain.find((v) => v !== null);
  return filler === undefined ? OTHER : String(filler);
}

/** NULL, the default's value, the literals the expression names, the type's own values and a filler (the class of all others). */
function checkDomain(table: CatalogTable, column: CatalogColumn, expression: string): Value[] {
  const values: Value[] = [];
  const add = (v: Value | undefined) => {
    if (v !== undefined && !values.some((w) => w === v || (w !== null && v !== null && String(w) === String(v)))) values.push(v);
  };
  add(null);
  const filler = fillerValue(table, column, 0);
  add(filler);
  const fallback = constantDefault(column);
  if (fallback !== undefined) add(fallback.value);
  for (const v of domainValues(column).slice(0, 4)) add(v);
  for (const literal of expressionLiterals(expression)) if (values.length < MAX_DOMAIN) add(literal);
  return values;
}

/** String and number literals of an expression as PostgreSQL prints it ('x'::text, 3, 2.5). */
export function expressionLiterals(expression: string): Value[] {
  const found: Value[] = [];
  for (const match of expression.matchAll(/'((?:[^']|'')*)'|(?<![\w$."])(-?\d+(?:\.\d+)?)(?![\w$.])/g)) {
    found.push(match[1] !== undefined ? match[1].replace(/''/g, "'") : Number(match[2]));
  }
  return found;
}

/** The value a column's default gives when it is a constant ('legacy'::text, 0, true, NULL), else undefined. */
export function constantDefault(column: CatalogColumn): { value: Value } | undefined {
  const text = column.default?.trim();
  if (text === undefined) return undefined;
  const cast = String.raw`(?:::[\w\s."]+(?:\(\d+(?:,\d+)?\))?(?:\[\])?)*`;
  const string = new RegExp(`^'((?:[^']|'')*)'${cast}$`).exec(text);
  if (string) return { value: string[1]!.replace(/''/g, "'") };
  const number = new RegExp(`^\\(?(-?\\d+(?:\\.\\d+)?)\\)?${cast}$`).exec(text);
  if (number) return { value: Number(number[1]) };
  if (/^(true|false)$/i.test(text)) return { value: text.toLowerCase() === 'true' };
  if (new RegExp(`^NULL${cast}$`, 'i').test(text)) return { value: null };
  return undefined;
}

function combinations(domains: readonly (readonly Value[])[]): Value[][] {
  let rows: Value[][] = [[]];
  for (const domain of domains) {
    const next = rows.flatMap((prefix) => domain.map((v) => [...prefix, v]));
    // Too many: keep NULL and the filler of the later columns only (their first two values).
    rows = next.length > MAX_COMBINATIONS ? rows.flatMap((prefix) => domain.slice(0, 2).map((v) => [...prefix, v])) : next;
  }
  return rows;
}

/** The expression's truth on every combination, keyed by the combination's classes; undefined when the server cannot evaluate it at all. */
async function evaluateAll(
  client: pg.ClientBase,
  expression: string,
  columns: readonly CatalogColumn[],
  rows: readonly Value[][],
): Promise<Map<string, boolean | null> | undefined> {
  const truth = new Map<string, boolean | null>();
  const names = columns.map((c) => quoteIdent(c.name)).join(', ');
  const select = (batch: readonly Value[][]) => {
    const params: Value[] = [];
    const values = batch.map((row) => `(${row.map((v, i) => (params.push(v), `$${params.length}::${columns[i]!.type}`)).join(', ')})`);
    return { text: `SELECT (${expression}) AS v FROM (VALUES ${values.join(', ')}) AS t(${names})`, params };
  };
  const key = tupleKey;
  const attempt = async (batch: readonly Value[][]): Promise<boolean> => {
    const { text, params } = select(batch);
    await client.query('SAVEPOINT pgconform_check');
    try {
      const result = await client.query<{ v: boolean | null }>(text, params as Value[]);
      result.rows.forEach((r, i) => truth.set(key(batch[i]!), r.v));
      await client.query('RELEASE SAVEPOINT pgconform_check');
      return true;
    } catch {
      await client.query('ROLLBACK TO SAVEPOINT pgconform_check');
      return false;
    }
  };
  // One query for all; when a value does not fit the type (a literal of another column), one per row.
  if (!(await attempt(rows))) for (const row of rows) await attempt([row]);
  return truth.size === 0 ? undefined : truth;
}
