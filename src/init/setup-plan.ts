import type { CatalogTable } from '../catalog/catalog.ts';
import type { Value } from '../rules/rule.ts';
import type { CatalogFacts } from './catalog-facts.ts';
import { fillerValue, idMember, idPoolFor, needsValue, singular } from './column-values.ts';

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

  /** `boundPools`: the id pools the binding declares, whose labels the configuration may use instead of values. */
  constructor(
    private readonly facts: CatalogFacts,
    private readonly boundPools: ReadonlySet<string>,
  ) {}

  /** A row of `table` holding these values (once), its other NOT NULL columns filled, its parents planned first. */
  ensure(table: CatalogTable, given: Readonly<Record<string, SetupValue>>, depth = 0): void {
    const key = JSON.stringify(Object.entries(given).map(([column, v]) => [column, String(v.value)]));
    if (this.tables.get(table)?.some((row) => row.key === key)) return;
    if (depth > MAX_DEPTH) {
      this.problems.push(`foreign keys nest deeper than ${MAX_DEPTH} tables from ${table.name}`);
      return;
    }
    const values = new Map<string, SetupValue>();
    for (const [column, value] of Object.entries(given)) {
      values.set(column, value);
      const reference = this.facts.reference(table, column);
      if (reference && reference.parent !== table) this.ensure(reference.parent, { [reference.parentColumn.name]: value }, depth + 1);
    }
    const index = this.tables.get(table)?.length ?? 0;
    for (const column of table.columns) {
      if (values.has(column.name) || !needsValue(column)) continue;
      const reference = this.facts.reference(table, column.name);
      if (reference && reference.parent !== table) {
        const parentValue = this.parentMember(reference.parent, reference.parentColumn.name);
        if (!parentValue) {
          this.problems.push(`no value for ${table.name}.${column.name}: its parent key ${reference.parent.name}.${reference.parentColumn.name} is of type ${reference.parentColumn.type}`);
          continue;
        }
        this.ensure(reference.parent, { [reference.parentColumn.name]: parentValue }, depth + 1);
        values.set(column.name, parentValue);
        continue;
      }
      const composite = this.facts.constraintsOf(table, 'f').find((c) => c.columns.length > 1 && c.columns.includes(column.name));
      if (composite) {
        this.problems.push(`${table.name}.${column.name} is NOT NULL and part of the composite foreign key ${composite.name}: give its setup rows by hand`);
        continue;
      }
      const filler = fillerValue(table, column, index);
      if (filler === undefined) {
        this.problems.push(`${table.name}.${column.name} is NOT NULL without a default and of type ${column.type}, which init cannot fill: give its value by hand`);
        continue;
      }
      values.set(column.name, { value: filler });
    }
    // Registered after the parents, so that parents come first in the setup.
    const rows = this.tables.get(table) ?? [];
    rows.push({ key, values });
    this.tables.set(table, rows);
  }

  /** The first member of the pool that names a parent table's rows (user#1 for users.id). */
  private parentMember(parent: CatalogTable, column: string): SetupValue | undefined {
    const catalogColumn = this.facts.column(parent, column);
    if (!catalogColumn) return undefined;
    const pool = idPoolFor(singular(parent.name), 1, catalogColumn);
    if (pool) return idMember(pool, 0);
    const filler = fillerValue(parent, catalogColumn, 0);
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
        Object.fromEntries(columns.map((column) => [column, this.render(row.values.get(column)) ?? fillerValue(table, this.facts.column(table, column)!, 0) ?? null])),
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

  private render(value: SetupValue | undefined): Value | undefined {
    if (!value) return undefined;
    const pool = value.label?.replace(/#\d+$/, '');
    return value.label && pool && this.boundPools.has(pool) ? value.label : value.value;
  }
}
