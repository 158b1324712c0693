import { findTable, type Catalog, type CatalogColumn, type CatalogConstraint, type CatalogIndex, type CatalogTable } from '../catalog/catalog.ts';
import { checkExpression } from '../catalog/definition-text.ts';
import { CheckOracle } from './check-oracle.ts';
import { parsePredicate, type ParsedPredicate } from './predicate-text.ts';
import { seededRowWith, seededValues, type SeededRows } from './seeded-rows.ts';
import type { Row, Value } from '../rules/rule.ts';

/** A single-column foreign key: the column, the parent table and the parent column it references. */
export interface ColumnReference {
  readonly constraint: CatalogConstraint;
  readonly parent: CatalogTable;
  readonly parentColumn: CatalogColumn;
}

/** A CHECK constraint with its expression read into a predicate (or why it could not be). */
export interface ReadCheck {
  readonly constraint: CatalogConstraint;
  readonly expression: string;
  readonly parsed: ParsedPredicate;
}

/** The questions init asks of a catalog, answered by table: keys, foreign keys, checks, unique indexes, triggers. */
export class CatalogFacts {
  /** `oracle`: the server's verdicts on CHECKs init cannot read (none without a server); `seeded`: rows the schema inserts itself. */
  constructor(
    readonly catalog: Catalog,
    readonly oracle: CheckOracle = CheckOracle.empty(),
    private readonly seeded: SeededRows = new Map(),
  ) {}

  /** A row the schema itself inserted into the table that holds these values, if any. */
  seededRow(table: CatalogTable, given: Readonly<Record<string, Value>>): Row | undefined {
    return seededRowWith(this.seeded, table, given);
  }

  /** The distinct values the schema's own rows hold in a column (a lookup table's codes). */
  seededValues(table: CatalogTable, column: string): Value[] {
    return seededValues(this.seeded, table, column);
  }

  /** The table a catalog name (regclass text) refers to. */
  table(name: string): CatalogTable | undefined {
    return findTable(this.catalog, name);
  }

  /** The name a configuration uses for a table: bare on the search path, `schema.name` otherwise, never quoted. */
  bindingName(table: CatalogTable): string {
    return table.qualified.includes('.') ? `${table.schema}.${table.name}` : table.name;
  }

  /** A column of the table by name. */
  column(table: CatalogTable, name: string): CatalogColumn | undefined {
    return table.columns.find((c) => c.name === name);
  }

  /** Column name → type, what the predicate reader needs. */
  columnTypes(table: CatalogTable): Map<string, string> {
    return new Map(table.columns.map((c) => [c.name, c.type]));
  }

  /** The table's constraints of one kind (c, u, p, f, x, t). */
  constraintsOf(table: CatalogTable, type: CatalogConstraint['type']): CatalogConstraint[] {
    return this.catalog.constraints.filter((c) => c.type === type && this.table(c.table) === table);
  }

  /** The table's indexes, unique or not, including those behind constraints. */
  indexesOf(table: CatalogTable): CatalogIndex[] {
    return this.catalog.indexes.filter((i) => this.table(i.table) === table);
  }

  /** The table's user triggers. */
  triggersOf(table: CatalogTable) {
    return this.catalog.triggers.filter((t) => this.table(t.table) === table);
  }

  /** The single-column foreign key on this column, if there is one (the first, when several). */
  reference(table: CatalogTable, column: string): ColumnReference | undefined {
    for (const constraint of this.constraintsOf(table, 'f')) {
      if (constraint.columns.length !== 1 || constraint.columns[0] !== column || !constraint.references) continue;
      const parent = this.table(constraint.references.table);
      const parentColumn = parent && this.column(parent, constraint.references.columns[0]!);
      if (parent && parentColumn) return { constraint, parent, parentColumn };
    }
    return undefined;
  }

  /** Every CHECK of the table, read. */
  checks(table: CatalogTable): ReadCheck[] {
    const types = this.columnTypes(table);
    return this.constraintsOf(table, 'c').map((constraint) => {
      const expression = checkExpression(constraint.definition)?.expression;
      return {
        constraint,
        expression: expression ?? constraint.definition,
        parsed: expression === undefined ? { ok: false, reason: 'a CHECK definition init cannot read' } : parsePredicate(expression, types),
      };
    });
  }

  /**
   * The table's primary key when it is a surrogate: one column the server fills in (identity, serial, a
   * random uuid default), or an integer or uuid column named id (the application's own sequence). It tells
   * rows apart and states no business rule.
   */
  surrogateKey(table: CatalogTable): CatalogColumn | undefined {
    const key = this.singleKey(table);
    if (!key) return undefined;
    const filledIn = key.generated || /\b(gen_random_uuid|uuid_generate_v[14]|uuidv[47])\(/.test(key.default ?? '');
    const namedId = key.name === 'id' && /^(smallint|integer|bigint|uuid)$/.test(key.domain?.baseType ?? key.type);
    return filledIn || namedId ? key : undefined;
  }

  /** The table's single primary-key column, or undefined for a composite key or none. */
  singleKey(table: CatalogTable): CatalogColumn | undefined {
    return table.primaryKey.length === 1 ? this.column(table, table.primaryKey[0]!) : undefined;
  }
}
