import type { CatalogColumn, CatalogTable } from '../catalog/catalog.ts';
import { evaluate, predicateColumns } from '../rules/predicate.ts';
import type { Row, Value } from '../rules/rule.ts';
import type { CatalogFacts, ReadCheck } from './catalog-facts.ts';
import { constantDefault, expressionLiterals } from './check-oracle.ts';
import { domainValues, fillerValue, idMember, idPoolFor, singular, typeClass } from './column-values.ts';
import { shiftInstant } from '../rules/value-order.ts';
import { comparedValues } from './predicate-text.ts';

// Rows init writes (setup rows of parent tables, the per-row values of generated rows) must pass every
// CHECK of their table, including those that tie a column's default to other columns (a default of
// 'legacy' that demands a price) and those init cannot read (XOR of nullness, num_nonnulls): the server
// judges those through the CheckOracle. The solver changes as few columns as it can, trying NULL, the
// default, the values the CHECKs name and a filler, and names the CHECK when nothing it tries passes.

/** Assignments tried per row before giving up. */
const MAX_TRIES = 4000;
/** Columns changed together, at most. */
const MAX_CHANGED = 3;

/** A value the solver chose, with the parent row it needs when the column is a foreign key. */
export interface ChosenValue {
  readonly value: Value;
  readonly parent?: { readonly table: CatalogTable; readonly column: string };
}

/** Either the columns to set (possibly none) or the CHECK nothing satisfies. */
export type Completion = { readonly set: ReadonlyMap<string, ChosenValue> } | { readonly rejectedBy: ReadCheck; readonly row: Row };

/** Completes rows of a table so that its CHECKs let them through. */
export class RowSolver {
  constructor(private readonly facts: CatalogFacts) {}

  /**
   * Columns to set so that every row of `rows` (explicit values; an absent column takes its default or
   * NULL, as an INSERT that leaves it out would) passes the table's CHECKs, `judged` ones excepted (those a
   * rule exercises on purpose). `settable` columns may change; `index` makes fillers unique per row.
   */
  complete(
    table: CatalogTable,
    rows: readonly Row[],
    settable: readonly string[],
    index: number,
    options: { readonly judged?: ReadonlySet<string>; readonly onlySettable?: boolean } = {},
  ): Completion {
    const mayChange = new Set(settable);
    const checks = this.facts
      .checks(table)
      .filter((c) => !options.judged?.has(c.constraint.name))
      // Generated rows: a CHECK on the rule's own columns only is the pools' business (passChecks), not this one's.
      .filter((c) => !options.onlySettable || readColumns(c).some((column) => mayChange.has(column)));
    const failing = (extra: ReadonlyMap<string, ChosenValue>) => this.firstRejecting(table, checks, rows, extra, index);
    const none = new Map<string, ChosenValue>();
    const first = failing(none);
    if (!first) return { set: none };
    const candidates = this.columnsToTry(table, checks, first.check, settable);
    let tries = 0;
    for (let size = 1; size <= Math.min(MAX_CHANGED, candidates.length); size++) {
      for (const columns of subsets(candidates, size)) {
        const domains = columns.map((c) => this.candidateValues(table, c, checks, index));
        for (const combination of product(domains)) {
          if (++tries > MAX_TRIES) return { rejectedBy: first.check, row: first.row };
          const extra = new Map(columns.map((c, i) => [c.name, combination[i]!]));
          if (!failing(extra)) return { set: extra };
        }
      }
    }
    return { rejectedBy: first.check, row: first.row };
  }

  /** The row as the table stores it: explicit values, then defaults (constant ones by value) and NULL. */
  storedRow(table: CatalogTable, row: Row, index: number): Row {
    const stored: Row = {};
    for (const column of table.columns) {
      if (column.name in row) stored[column.name] = row[column.name] ?? null;
      else stored[column.name] = omittedValue(table, column, index);
    }
    return stored;
  }

  private firstRejecting(table: CatalogTable, checks: readonly ReadCheck[], rows: readonly Row[], extra: ReadonlyMap<string, ChosenValue>, index: number) {
    for (const row of rows) {
      const stored = this.storedRow(table, { ...row, ...Object.fromEntries([...extra].map(([c, v]) => [c, v.value])) }, index);
      for (const check of checks) if (this.passes(table, check, stored) === false) return { check, row: stored };
    }
    return undefined;
  }

  /** Whether a CHECK lets the stored row through: read ones evaluated here, the others by the oracle (undefined: not known). */
  private passes(table: CatalogTable, check: ReadCheck, row: Row): boolean | undefined {
    if (check.parsed.ok) return evaluate(check.parsed.predicate, row) !== false;
    return this.facts.oracle.passes(table, check.constraint.name, row);
  }

  /** Settable columns of the failing CHECK first (plain ones before foreign keys), then those of the CHECKs sharing a column with it. */
  private columnsToTry(table: CatalogTable, checks: readonly ReadCheck[], failing: ReadCheck, settable: readonly string[]): CatalogColumn[] {
    const read = readColumns;
    const near = new Set(read(failing));
    for (const check of checks) if (read(check).some((c) => near.has(c))) for (const c of read(check)) near.add(c);
    const allowed = new Set(settable);
    const columns = table.columns.filter((c) => near.has(c.name) && allowed.has(c.name) && !c.generated);
    const rank = (c: CatalogColumn) => (read(failing).includes(c.name) ? 0 : 2) + (this.facts.reference(table, c.name) ? 1 : 0);
    return columns.sort((a, b) => rank(a) - rank(b));
  }

  /** NULL where allowed, the default, the values the CHECKs name, the type's own values, a filler (a parent's id for a foreign key). */
  private candidateValues(table: CatalogTable, column: CatalogColumn, checks: readonly ReadCheck[], index: number): ChosenValue[] {
    const values: ChosenValue[] = [];
    const add = (v: ChosenValue | undefined) => {
      if (v && !values.some((w) => String(w.value) === String(v.value) && (w.value === null) === (v.value === null))) values.push(v);
    };
    if (!column.notNull) add({ value: null });
    if (this.facts.constraintsOf(table, 'f').some((fk) => fk.columns.includes(column.name))) {
      const reference = this.facts.reference(table, column.name);
      const pool = reference && reference.parent !== table ? idPoolFor(singular(reference.parent.name), index + 1, reference.parentColumn) : undefined;
      // By value, not label: a label past the count of the rule's own pool of that name would not load.
      if (pool) add({ value: idMember(pool, index).value, parent: { table: reference!.parent, column: reference!.parentColumn.name } });
      return values;
    }
    const fallback = constantDefault(column);
    if (fallback && fallback.value !== null) add({ value: fallback.value });
    for (const check of checks) if (check.parsed.ok) for (const v of comparedValues(check.parsed.predicate).get(column.name) ?? []) add({ value: v });
    for (const v of domainValues(column)) add({ value: v });
    const filler = fillerValue(table, column, index);
    if (filler !== undefined) add({ value: filler });
    // Later values too: a CHECK that orders two columns (ends_at > starts_at) needs them apart, past any key value.
    for (const step of [1, 365]) {
      const later = filler === undefined ? undefined : laterValue(column, filler, step);
      if (later !== undefined) add({ value: later });
    }
    // Literals of CHECKs init cannot read last: which column they belong to is unknown (num_nonnulls(a, b) = 1).
    for (const check of checks) if (!check.parsed.ok && check.constraint.columns.includes(column.name)) for (const v of expressionLiterals(check.expression)) add({ value: v });
    return this.uniqueColumn(table, column) ? rotated(values, index) : values;
  }

  /** Whether a unique index of the table has the column in its key: two rows must not both take a CHECK's first value. */
  private uniqueColumn(table: CatalogTable, column: CatalogColumn): boolean {
    return this.facts.indexesOf(table).some((index) => index.unique && index.keyColumns.includes(column.name));
  }
}

/** The non-NULL values turned so that the `index`-th row tries a value of its own first (NULL, never a duplicate, stays first). */
function rotated(values: readonly ChosenValue[], index: number): ChosenValue[] {
  const nulls = values.filter((v) => v.value === null);
  const others = values.filter((v) => v.value !== null);
  const shift = others.length > 0 ? index % others.length : 0;
  return [...nulls, ...others.slice(shift), ...others.slice(0, shift)];
}

/** A value `steps` after the filler in the column's order (days, or units), for the types whose order init knows. */
function laterValue(column: CatalogColumn, filler: Value, steps: number): Value | undefined {
  switch (typeClass(column)) {
    case 'integer':
    case 'numeric':
      return typeof filler === 'number' ? filler + steps : undefined;
    case 'date':
    case 'timestamp':
      return shiftInstant(String(filler), 86_400 * steps);
    default:
      return undefined;
  }
}

/** The columns a CHECK reads. */
function readColumns(check: ReadCheck): string[] {
  return check.parsed.ok ? predicateColumns(check.parsed.predicate) : [...check.constraint.columns];
}

/** What a column holds when an INSERT leaves it out: its constant default, a filler for a computed default, else NULL. */
function omittedValue(table: CatalogTable, column: CatalogColumn, index: number): Value {
  if (column.default === null) return null;
  const fallback = constantDefault(column);
  if (fallback) return fallback.value;
  return fillerValue(table, column, index) ?? null;
}

function* subsets<T>(items: readonly T[], size: number, start = 0): Generator<T[]> {
  if (size === 0) {
    yield [];
    return;
  }
  for (let i = start; i <= items.length - size; i++) for (const rest of subsets(items, size - 1, i + 1)) yield [items[i]!, ...rest];
}

function product<T>(domains: readonly (readonly T[])[]): T[][] {
  return domains.reduce<T[][]>((acc, domain) => acc.flatMap((prefix) => domain.map((v) => [...prefix, v])), [[]]);
}
