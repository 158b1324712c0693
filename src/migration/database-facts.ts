import { USER_NAMESPACE } from '../catalog/catalog.ts';
import type pg from 'pg';

/** What a migration may change in a database: its rows (per table, as JSON text) and its schema (one line per object). */
export interface DatabaseFacts {
  /** Table (quoted, schema-qualified) → its rows as JSON text. */
  readonly rows: ReadonlyMap<string, readonly string[]>;
  /** Sorted descriptions of every relation, column, index, constraint, trigger and function. */
  readonly schema: readonly string[];
}

/** How the rows of one table moved between two readings. */
export interface TableChange {
  readonly table: string;
  readonly before: number;
  readonly after: number;
  /** Rows of the first reading missing from the second: deleted, or rewritten by an UPDATE. */
  readonly lost: number;
  /** Rows of the second reading missing from the first: inserted, or the rewritten versions. */
  readonly added: number;
}


const SCHEMA_SQL = `
SELECT coalesce(array_agg(line ORDER BY line), '{}') AS lines FROM (
  SELECT 'relation ' || c.oid::regclass::text || ' (' || c.relkind::text || ')' AS line
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE ${USER_NAMESPACE} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL
  SELECT 'column ' || c.oid::regclass::text || '.' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
         || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE ${USER_NAMESPACE} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE ${USER_NAMESPACE}
  UNION ALL
  SELECT 'constraint ' || quote_ident(con.conname) || ' on ' || con.conrelid::regclass::text || ' ' || pg_get_constraintdef(con.oid)
    FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
   WHERE ${USER_NAMESPACE}
  UNION ALL
  SELECT 'trigger ' || pg_get_triggerdef(t.oid)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE ${USER_NAMESPACE} AND NOT t.tgisinternal
  UNION ALL
  SELECT 'function ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE ${USER_NAMESPACE}
) AS objects`;

/** Reads every user table's rows and the schema's objects, on one connection. */
export async function readFacts(client: pg.Client): Promise<DatabaseFacts> {
  const { rows: tables } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_NAMESPACE} AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY 1`,
  );
  const rows = new Map<string, string[]>();
  for (const { name } of tables) {
    // The name comes from format('%I.%I'), so it is already quoted.
    const result = await client.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM ${name} t`);
    rows.set(name, result.rows.map((r) => r.row));
  }
  const { rows: schema } = await client.query<{ lines: string[] }>(SCHEMA_SQL);
  return { rows, schema: schema[0]?.lines ?? [] };
}

/**
 * Per table of the first reading, how many rows were lost and added by the second. A row is compared
 * on the columns it had in the first reading, so a migration that only adds a column loses nothing;
 * a table that is gone lost all its rows.
 */
export function compareRows(first: DatabaseFacts, second: DatabaseFacts): TableChange[] {
  return [...first.rows].map(([table, rows]) => {
    const columns = rows[0] ? Object.keys(JSON.parse(rows[0]) as object) : [];
    const project = (row: string) => {
      const parsed = JSON.parse(row) as Record<string, unknown>;
      return JSON.stringify(columns.map((c) => parsed[c] ?? null));
    };
    const remaining = countOf((second.rows.get(table) ?? []).map(project));
    let lost = 0;
    for (const row of rows.map(project)) {
      const left = remaining.get(row) ?? 0;
      if (left > 0) remaining.set(row, left - 1);
      else lost++;
    }
    const added = [...remaining.values()].reduce((n, left) => n + left, 0);
    return { table, before: rows.length, after: second.rows.get(table)?.length ?? 0, lost, added };
  });
}

/** Schema lines that one reading has and the other lacks ("+ index …", "- constraint …"). */
export function compareSchema(first: DatabaseFacts, second: DatabaseFacts): string[] {
  const had = new Set(first.schema);
  const has = new Set(second.schema);
  return [...second.schema.filter((line) => !had.has(line)).map((line) => `+ ${line}`), ...first.schema.filter((line) => !has.has(line)).map((line) => `- ${line}`)];
}

function countOf(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
