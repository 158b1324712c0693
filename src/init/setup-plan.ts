import type { CatalogConstraint, CatalogTable } from '../catalog/catalog.ts';
import type { Value } from '../rules/rule.ts';
import type { CatalogFacts } from './catalog-facts.ts';
import { fillerValue, idMember, idPoolFor, needsValue, singular } from './column-values.ts';
import { RowSolver } from './row-solver.ts';

/** A value in a setup row: the value itself and, for a member of an id pool, its label ("tenant#1"). */
export interface SetupValue {
  readonly value: Value;
  readonly label?: string;
}

interface PlannedRow {
  readonly key: string;
  readonly values: Map<string, SetupValue>;
}

const MAX_DEPTH = 6;

/**
 * The fixed rows a rule's operations refer to: a parent row for every id a foreign-key column can take,
 * each with its own NOT NULL columns filled (and their parents in turn). Tables come out parents first.
 */
export class SetupPlan {
  private readonly tables = new Map<CatalogTable, PlannedRow[]>();
  /** What could not be planned: a NOT NULL column of a type init cannot fill, a composite foreign key. */
  readonly problems: string[] = [];

  private readonly solver: RowSolver;

  /** `boundPools`: the id pools the binding declares, whose labels the configuration may use instead of values. */
  constructor(
    private readonly facts: CatalogFacts,
    private readonly boundPools: ReadonlySet<string>,
  ) {
    this.solver = new RowSolver(facts);
  }

  /** A row of `table` holding these values (once), its other NOT NULL columns filled, its parents planned first. */
  ensure(table: CatalogTable, given: Readonly<Record<string, SetupValue>>, depth = 0): ReadonlyMap<string, SetupValue> | undefined {
    const key = JSON.stringify(Object.entries(given).map(([column, v]) => [column, String(v.value)]));
    const planned = this.tables.get(table)?.find((row) => row.key === key);
    if (planned) return planned.values;
    const seeded = Object.keys(given).length > 0 ? this.facts.seededRow(table, Object.fromEntries(Object.entries(given).map(([c, v]) => [c, v.value]))) : undefined;
    // The schema inserted this row itself (a lookup, a default category): it is there in every run.
    if (seeded) return new Map(Object.entries(seeded).map(([column, value]) => [column, given[column] ?? { value }]));
    if (depth > MAX_DEPTH) {
      this.problem(`foreign keys nest deeper than ${MAX_DEPTH} tables from ${table.name}`);
      return undefined;
    }
    const values = new Map<string, SetupValue>();
    for (const [column, value] of Object.entries(given)) {
      values.set(column, value);
      const reference = this.facts.reference(table, column);
      if (reference && reference.parent !== table) this.ensure(reference.parent, { [reference.parentColumn.name]: value }, depth + 1);
    }
    const index = this.tables.get(table)?.length ?? 0;
    for (const fk of this.facts.constraintsOf(table, 'f')) {
      const needed = fk.columns.some((c) => values.has(c) || needsValue(this.facts.column(table, c)!));
      if (fk.columns.length > 1 && needed) this.compositeParent(table, fk, values, index, depth);
    }
    for (const column of table.columns) {
      if (values.has(column.name) || !needsValue(column)) continue;
      const filled = this.fill(table, column.name, values, index, depth);
      if (filled) values.set(column.name, filled);
    }
    this.satisfyChecks(table, values, new Set(Object.keys(given)), index, depth);
    // Registered after the parents, so that parents come first in the setup.
    const rows = this.tables.get(table) ?? [];
    rows.push({ key, values });
    this.tables.set(table, rows);
    return values;
  }

  /** The `index`-th parent row a composite foreign key of `table` can point at, planned: the child's values for the key's columns. */
  pointAt(table: CatalogTable, fk: CatalogConstraint, index: number): ReadonlyMap<string, SetupValue> | undefined {
    const values = new Map<string, SetupValue>();
    this.compositeParent(table, fk, values, index, 0);
    return fk.columns.every((c) => values.has(c)) ? values : undefined;
  }

  /** Notes what could not be planned, once. */
  private problem(text: string): void {
    if (!this.problems.includes(text)) this.problems.push(text);
  }

  /**
   * The parent row a composite foreign key of the row points at (the row's own values for some of its
   * columns kept): planned, and the row's other columns of the key copied from it.
   */
  private compositeParent(table: CatalogTable, fk: CatalogConstraint, values: Map<string, SetupValue>, index: number, depth: number): void {
    const parent = fk.references && this.facts.table(fk.references.table);
    if (!parent || parent === table) {
      this.problem(`${table.name}'s composite foreign key ${fk.name} refers to its own table: give its setup rows by hand`);
      return;
    }
    const parentColumns = fk.references!.columns;
    const given: Record<string, SetupValue> = {};
    fk.columns.forEach((c, i) => {
      if (values.has(c)) given[parentColumns[i]!] = values.get(c)!;
    });
    if (Object.keys(given).length === 0) {
      const first = this.parentMember(parent, parentColumns[0]!, index);
      if (first) given[parentColumns[0]!] = first;
    }
    const row = this.ensure(parent, given, depth + 1);
    fk.columns.forEach((c, i) => {
      const value = row?.get(parentColumns[i]!);
      if (value) values.set(c, value);
      else if (!values.has(c)) this.problem(`${table.name}.${c} is part of the composite foreign key ${fk.name}, and init found no ${parent.name} row to point it at: give its setup rows by hand`);
    });
  }

  /** A value for a NOT NULL column of the `index`-th setup row of the table (its parent planned), or undefined after noting why not. */
  private fill(table: CatalogTable, columnName: string, values: ReadonlyMap<string, SetupValue>, index: number, depth: number): SetupValue | undefined {
    const column = this.facts.column(table, columnName)!;
    const reference = this.facts.reference(table, column.name);
    // A NOT NULL self-reference: the row points at itself (the foreign key is checked after the row is in).
    const own = reference?.parent === table ? values.get(reference.parentColumn.name) : undefined;
    if (own) return own;
    if (reference && reference.parent !== table) {
      const parentValue = this.parentMember(reference.parent, reference.parentColumn.name, index);
      if (!parentValue) {
        this.problem(`no value for ${table.name}.${column.name}: its parent key ${reference.parent.name}.${reference.parentColumn.name} is of type ${reference.parentColumn.type}`);
        return undefined;
      }
      this.ensure(reference.parent, { [reference.parentColumn.name]: parentValue }, depth + 1);
      return parentValue;
    }
    const filler = fillerValue(table, column, index);
    if (filler === undefined) {
      this.problem(`${table.name}.${column.name} is NOT NULL without a default and of type ${column.type}, which init cannot fill: give its value by hand`);
      return undefined;
    }
    return { value: filler };
  }

  /**
   * Changes the row's own columns (never `given`) until the table's CHECKs let it through: a default that
   * a correlated CHECK ties to another column, an XOR of two columns. Parents of chosen foreign keys are planned.
   */
  private satisfyChecks(table: CatalogTable, values: Map<string, SetupValue>, given: ReadonlySet<string>, index: number, depth: number): void {
    const row = Object.fromEntries([...values].map(([column, v]) => [column, v.value]));
    const settable = table.columns.map((c) => c.name).filter((c) => !given.has(c));
    const completion = this.solver.complete(table, [row], settable, index);
    if ('rejectedBy' in completion) {
      const shown = Object.entries(completion.row).filter(([, v]) => v !== null).map(([c, v]) => `${c} = ${JSON.stringify(v)}`).join(', ');
      this.problem(`a setup row of ${table.name} (${shown}) breaks the CHECK ${completion.rejectedBy.constraint.name} (${completion.rejectedBy.expression}) and no values init tried pass it: write the ${table.name} setup rows by hand`);
      return;
    }
    for (const [column, chosen] of completion.set) {
      if (chosen.parent) this.ensure(chosen.parent.table, { [chosen.parent.column]: { value: chosen.value } }, depth + 1);
      values.set(column, { value: chosen.value });
    }
  }

  /**
   * The member of the pool that names a parent table's rows (user#1 for users.id), one per setup row of
   * the child (`index`): two children never share a parent, which a unique key on the column would refuse.
   */
  private parentMember(parent: CatalogTable, column: string, index: number): SetupValue | undefined {
    const catalogColumn = this.facts.column(parent, column);
    if (!catalogColumn) return undefined;
    const pool = idPoolFor(singular(parent.name), index + 1, catalogColumn);
    // The first member by label (the rule's pool of that name has it); later ones by value, which loads whatever that pool's count.
    if (pool) return index === 0 ? idMember(pool, 0) : { value: idMember(pool, index).value };
    // A lookup keyed by text (currencies.code): the keys the schema inserted, then made-up ones.
    const seeded = this.facts.seededValues(parent, column)[index];
    if (seeded !== undefined) return { value: seeded };
    const filler = fillerValue(parent, catalogColumn, index);
    return filler === undefined ? undefined : { value: filler };
  }

  /** Setup as the binding writes it: table → rows, parents first; pool members by label where the binding declares the pool. */
  toBinding(): Record<string, Record<string, Value>[]> | undefined {
    if (this.tables.size === 0) return undefined;
    const setup: Record<string, Record<string, Value>[]> = {};
    for (const table of this.parentsFirst()) {
      const rows = this.tables.get(table)!;
      const columns = table.columns.map((c) => c.name).filter((name) => rows.some((row) => row.values.has(name)));
      setup[this.facts.bindingName(table)] = rows.map((row) =>
        Object.fromEntries(columns.map((column) => [column, this.render(row.values.get(column)) ?? this.omitted(table, row, column)])),
      );
    }
    return setup;
  }

  /** The planned tables, every table after the tables its foreign keys reference. */
  private parentsFirst(): CatalogTable[] {
    const pending = [...this.tables.keys()];
    const ordered: CatalogTable[] = [];
    while (pending.length > 0) {
      const ready =
        pending.find((table) =>
          this.facts
            .constraintsOf(table, 'f')
            .map((fk) => (fk.references ? this.facts.table(fk.references.table) : undefined))
            .every((parent) => !parent || parent === table || !pending.includes(parent)),
        ) ?? pending[0]!; // a cycle: keep the planned order
      ordered.push(ready);
      pending.splice(pending.indexOf(ready), 1);
    }
    return ordered;
  }

  /** A column another row of the table sets and this one leaves out: what leaving it out gives (default or NULL), as the solver judged it. */
  private omitted(table: CatalogTable, row: PlannedRow, column: string): Value {
    const index = this.tables.get(table)!.indexOf(row);
    return this.solver.storedRow(table, {}, index)[column] ?? null;
  }

  private render(value: SetupValue | undefined): Value | undefined {
    if (!value) return undefined;
    const pool = value.label?.replace(/#\d+$/, '');
    return value.label && pool && this.boundPools.has(pool) ? value.label : value.value;
  }
}
