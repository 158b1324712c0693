import type pg from 'pg';
import type { ConnectionSettings } from './connection.ts';

/** Rows the schema itself put in a table (lookup rows seeded by a migration), as they were in the template. */
export interface SeededTable {
  /** Qualified and quoted, e.g. `public.languages`. */
  readonly name: string;
  /** The rows as an array literal of the table's row type (exact for every type: the server's own output). */
  readonly rows: string;
  readonly count: number;
  /** The columns a restore writes (generated columns are computed), quoted. */
  readonly columns: readonly string[];
  /** Column names and types: a table whose shape changed since (a migration applied to the clone) is not restored. */
  readonly shape: string;
}

/** A sequence's state in the template; a seed that inserted rows has advanced it. */
export interface SequenceState {
  /** Qualified and quoted. */
  readonly name: string;
  readonly lastValue: string;
  readonly isCalled: boolean;
}

/** What a database held when its schema was built: what the reset between test cases returns to. */
export interface TemplateContents {
  /** A transaction id taken after the schema was built: rows with a later xmin were written since (by test cases). */
  readonly builtBefore: string;
  /** Tables holding rows, by qualified name. */
  readonly tables: ReadonlyMap<string, SeededTable>;
  readonly sequences: readonly SequenceState[];
}

const QUALIFIED = `format('%I.%I', n.nspname, c.relname)`;
const USER_TABLE = `c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`;

/**
 * Reads the rows and sequence states of a database whose schema has just been built (a sandbox's
 * template, or a fresh clone of it). Catalog and table SELECTs only. Inheritance parents are read
 * without their children (ONLY): each child is a table of its own.
 */
export async function readTemplateContents(client: pg.ClientBase): Promise<TemplateContents> {
  const { rows: tables } = await client.query<{ name: string; only: boolean; shape: string; columns: string[] }>(
    `SELECT ${QUALIFIED} AS name, c.relkind = 'r' AS only,
            string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum) AS shape,
            coalesce(array_agg(quote_ident(a.attname) ORDER BY a.attnum) FILTER (WHERE a.attgenerated = ''), '{}') AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE ${USER_TABLE}
      GROUP BY n.nspname, c.relname, c.relkind ORDER BY 1`,
  );
  const seeded = new Map<string, SeededTable>();
  if (tables.length > 0) {
    const probe = tables.map((t, i) => `EXISTS (SELECT FROM ${t.only ? 'ONLY ' : ''}${t.name}) AS t${i}`).join(', ');
    const { rows: [found] } = await client.query<Record<string, boolean>>(`SELECT ${probe}`);
    for (const [i, table] of tables.entries()) {
      if (!found?.[`t${i}`]) continue;
      const { rows } = await client.query<{ rows: string; count: number }>(`SELECT array_agg(t)::text AS rows, count(*)::int AS count FROM ${table.only ? 'ONLY ' : ''}${table.name} t`);
      seeded.set(table.name, { name: table.name, rows: rows[0]!.rows, count: rows[0]!.count, columns: table.columns, shape: table.shape });
    }
  }
  return { builtBefore: await currentXid(client), tables: seeded, sequences: await sequenceStates(client) };
}

async function sequenceStates(client: pg.ClientBase): Promise<SequenceState[]> {
  const { rows: names } = await client.query<{ name: string }>(
    `SELECT ${QUALIFIED} AS name FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
  );
  if (names.length === 0) return [];
  const { rows } = await client.query<{ name: string; last: string; called: boolean }>(
    names.map((s) => `SELECT ${literal(s.name)} AS name, last_value::text AS last, is_called AS called FROM ${s.name}`).join(' UNION ALL '),
  );
  return rows.map((r) => ({ name: r.name, lastValue: r.last, isCalled: r.called }));
}

/** A transaction id later than every row written so far, as xid text (32 bits; compared with age(), which wraps). */
async function currentXid(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ xid: string }>(`SELECT (txid_current() % 4294967296)::text AS xid`);
  return rows[0]!.xid;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

// The contents of each database the kit created, read once from its template: a worker database
// is used by several rules in turn (diff, mutation), and what a rule left behind is not the schema's.
const known = new Map<string, TemplateContents>();

function keyOf(settings: ConnectionSettings): string {
  return `${settings.host}:${settings.port}/${settings.database}`;
}

/** Records what a database held when it was created. */
export function rememberContents(settings: ConnectionSettings, contents: TemplateContents): void {
  known.set(keyOf(settings), contents);
}

/** What a database held when it was created, if the kit created it and read its template. */
export function contentsOf(settings: ConnectionSettings): TemplateContents | undefined {
  return known.get(keyOf(settings));
}

/** Forgets a database that was dropped. */
export function forgetContents(settings: ConnectionSettings): void {
  known.delete(keyOf(settings));
}
