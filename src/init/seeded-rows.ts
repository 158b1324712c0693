import type pg from 'pg';
import type { Catalog, CatalogTable } from '../catalog/catalog.ts';
import type { Row, Value } from '../rules/rule.ts';

// Rows the schema itself inserts (lookup tables a migration fills: languages, currencies, a default
// category) are in every database the run builds, and the reset keeps them. Init reads them so that a
// setup row reuses a seeded parent instead of colliding with it, and a foreign key to a lookup table
// keyed by text draws the keys the lookup has.

/** A table's seeded rows, by the table's qualified name (regclass text); tables without rows are absent. */
export type SeededRows = ReadonlyMap<string, readonly Row[]>;

/** Rows read per table, at most: enough to find a parent, not a copy of a big table. */
const ROWS_PER_TABLE = 200;

/** Reads the rows the tables of a freshly built schema hold (SELECTs only), as JSON values. */
export async function readSeededRows(client: pg.ClientBase, catalog: Catalog): Promise<SeededRows> {
  const tables = catalog.tables;
  if (tables.length === 0) return new Map();
  const probe = tables.map((t, i) => `EXISTS (SELECT FROM ONLY ${t.qualified}) AS t${i}`).join(', ');
  const { rows: [found] } = await client.query<Record<string, boolean>>(`SELECT ${probe}`);
  const seeded = new Map<string, Row[]>();
  for (const [i, table] of tables.entries()) {
    if (!found?.[`t${i}`]) continue;
    const { rows } = await client.query<{ row: Row }>(`SELECT to_jsonb(t) AS row FROM ONLY ${table.qualified} t LIMIT ${ROWS_PER_TABLE}`);
    seeded.set(table.qualified, rows.map((r) => r.row));
  }
  return seeded;
}

const remembered = new WeakMap<Catalog, SeededRows>();

/** Remembers the seeded rows of the schema this catalog was read from, for inference later. */
export function rememberSeededRows(catalog: Catalog, rows: SeededRows): void {
  remembered.set(catalog, rows);
}

/** The seeded rows remembered for a catalog (none for a catalog read from a live database or built by hand). */
export function seededRowsOf(catalog: Catalog): SeededRows {
  return remembered.get(catalog) ?? new Map();
}

/** The first seeded row of `table` that holds these values (compared as text), if any. */
export function seededRowWith(rows: SeededRows, table: CatalogTable, given: Readonly<Record<string, Value>>): Row | undefined {
  const entries = Object.entries(given);
  return rows.get(table.qualified)?.find((row) => entries.every(([column, value]) => sameText(row[column], value)));
}

/** The distinct non-NULL values a seeded column holds, in row order. */
export function seededValues(rows: SeededRows, table: CatalogTable, column: string): Value[] {
  const values = new Map<string, Value>();
  for (const row of rows.get(table.qualified) ?? []) {
    const value = row[column];
    if (value !== null && value !== undefined && typeof value !== 'object') values.set(String(value), value);
  }
  return [...values.values()];
}

function sameText(a: Value | undefined, b: Value): boolean {
  return a !== undefined && (a === null ? b === null : b !== null && String(a) === String(b));
}
