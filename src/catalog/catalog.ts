import type pg from 'pg';

/** One column of a user table, as the catalog describes it. */
export interface CatalogColumn {
  readonly name: string;
  /** format_type(), e.g. "uuid", "text", "timestamp with time zone", "care_role" (an enum). */
  readonly type: string;
  readonly notNull: boolean;
  /** The default expression (pg_get_expr), if any. */
  readonly default: string | null;
  /** True for identity and serial columns and stored generated columns: the server fills them in. */
  readonly generated: boolean;
  /** For a stored generated column (GENERATED ALWAYS AS (…) STORED): its expression, which `default` holds too. */
  readonly generatedAs?: string;
  /** The labels of an enum column, in order. */
  readonly enumLabels?: readonly string[];
  /** For a column of a domain: the domain's base type (format_type) and its CHECK constraints. */
  readonly domain?: { readonly baseType: string; readonly checks: readonly string[] };
}

/** A user table with its columns (schema-qualified name in `qualified`, quoted where needed). */
export interface CatalogTable {
  readonly schema: string;
  readonly name: string;
  /** `schema.name` as regclass prints it (quoted where needed, schema omitted on the search path). */
  readonly qualified: string;
  readonly columns: readonly CatalogColumn[];
  /** Primary key columns, in key order. */
  readonly primaryKey: readonly string[];
}

/** An index: unique or not, its key (column names, or expressions), and its partial predicate. */
export interface CatalogIndex {
  readonly name: string;
  readonly table: string;
  readonly unique: boolean;
  readonly primary: boolean;
  /** Key parts: a column name, or the expression's text for an expression index (e.g. "lower(email)"). */
  readonly keys: readonly string[];
  /** Key parts that are plain columns (an expression part gives its referenced columns). */
  readonly keyColumns: readonly string[];
  /** The WHERE of a partial index (pg_get_expr), or null. */
  readonly predicate: string | null;
  /** CREATE INDEX … as pg_get_indexdef prints it. */
  readonly definition: string;
  /** The constraint the index backs (a UNIQUE, PRIMARY KEY or EXCLUDE constraint), or null for a plain index. */
  readonly constraint: string | null;
}

/** A constraint: c check, u unique, p primary key, f foreign key, x exclusion, t constraint trigger. */
export interface CatalogConstraint {
  readonly name: string;
  readonly table: string;
  readonly type: 'c' | 'u' | 'p' | 'f' | 'x' | 't';
  readonly columns: readonly string[];
  /** pg_get_constraintdef, e.g. "CHECK ((is_super_admin OR (tenant_id IS NOT NULL)))". */
  readonly definition: string;
  readonly deferrable: boolean;
  readonly deferred: boolean;
  /** Foreign keys: the referenced table and columns. */
  readonly references?: { readonly table: string; readonly columns: readonly string[]; readonly onDelete: string };
}

/** A user trigger and the function it runs. */
export interface CatalogTrigger {
  readonly name: string;
  readonly table: string;
  /** CREATE TRIGGER … as pg_get_triggerdef prints it. */
  readonly definition: string;
  readonly timing: 'BEFORE' | 'AFTER' | 'INSTEAD OF';
  readonly events: readonly ('INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE')[];
  readonly forEachRow: boolean;
  /** A constraint trigger (CREATE CONSTRAINT TRIGGER), deferrable or not. */
  readonly isConstraint: boolean;
  readonly enabled: boolean;
  /** The function, schema-qualified where needed, and its full CREATE FUNCTION text (pg_get_functiondef). */
  readonly function: string;
  readonly functionDefinition: string;
  /** Only the body (prosrc), for reading what the trigger does. */
  readonly functionBody: string;
}

/** What the kit needs to know about a database's user objects: the input of init, explain, mutate and validation. */
export interface Catalog {
  readonly tables: readonly CatalogTable[];
  readonly indexes: readonly CatalogIndex[];
  readonly constraints: readonly CatalogConstraint[];
  readonly triggers: readonly CatalogTrigger[];
}

/** SQL condition on a pg_namespace aliased `n`: the user's schemas (not the system's, not temporary or toast). */
export const USER_NAMESPACE = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`;

/** Reads the user objects of the connected database; read-only (only catalog SELECTs). */
export async function readCatalog(client: pg.ClientBase): Promise<Catalog> {
  const tables = await client.query<{ schema: string; name: string; qualified: string; columns: CatalogColumn[]; primary_key: string[] | null }>(`
    SELECT n.nspname AS schema, c.relname AS name, c.oid::regclass::text AS qualified,
           coalesce((SELECT json_agg(json_build_object(
                       'name', a.attname,
                       'type', format_type(a.atttypid, a.atttypmod),
                       'notNull', a.attnotnull,
                       'default', pg_get_expr(d.adbin, d.adrelid),
                       'generated', a.attidentity <> '' OR a.attgenerated <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false),
                       'generatedAs', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
                       'enumLabels', (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = a.atttypid),
                       'domain', (SELECT json_build_object('baseType', format_type(t.typbasetype, t.typtypmod),
                                    'checks', coalesce((SELECT json_agg(pg_get_constraintdef(dc.oid)) FROM pg_constraint dc WHERE dc.contypid = t.oid), '[]'))
                                    FROM pg_type t WHERE t.oid = a.atttypid AND t.typtype = 'd')
                     ) ORDER BY a.attnum)
                       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]') AS columns,
           (SELECT array_agg(a.attname::text ORDER BY k.ord)
              FROM pg_constraint pk CROSS JOIN unnest(pk.conkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             WHERE pk.conrelid = c.oid AND pk.contype = 'p') AS primary_key
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_NAMESPACE} AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     ORDER BY n.nspname, c.relname`);

  const indexes = await client.query<{
    name: string; table: string; unique: boolean; primary: boolean; keys: string[]; key_columns: string[] | null;
    predicate: string | null; definition: string; constraint: string | null;
  }>(`
    SELECT ic.relname AS name, i.indrelid::regclass::text AS "table", i.indisunique AS unique, i.indisprimary AS primary,
           (SELECT array_agg(pg_get_indexdef(i.indexrelid, k.ord::int, true) ORDER BY k.ord)
              FROM generate_series(1, i.indnkeyatts) AS k(ord)) AS keys,
           (SELECT array_agg(DISTINCT a.attname::text) FROM pg_attribute a
             WHERE a.attrelid = i.indrelid AND a.attnum > 0 AND NOT a.attisdropped
               AND (a.attnum = ANY (i.indkey::int2[]) OR
                    (i.indexprs IS NOT NULL AND pg_get_expr(i.indexprs, i.indrelid) ~ ('\\m' || a.attname || '\\M')))) AS key_columns,
           pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
           pg_get_indexdef(i.indexrelid) AS definition,
           (SELECT con.conname::text FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype IN ('u', 'p', 'x') LIMIT 1) AS constraint
      FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_NAMESPACE} AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     ORDER BY 2, 1`);

  const constraints = await client.query<{
    name: string; table: string; type: CatalogConstraint['type']; columns: string[] | null; definition: string;
    deferrable: boolean; deferred: boolean; ref_table: string | null; ref_columns: string[] | null; on_delete: string;
  }>(`
    SELECT con.conname AS name, con.conrelid::regclass::text AS "table", con.contype::text AS type,
           (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
           pg_get_constraintdef(con.oid, true) AS definition, con.condeferrable AS deferrable, con.condeferred AS deferred,
           CASE WHEN con.contype = 'f' THEN con.confrelid::regclass::text END AS ref_table,
           (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_columns,
           CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
                                WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS on_delete
      FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
     WHERE ${USER_NAMESPACE} AND con.conrelid <> 0
       AND NOT EXISTS (SELECT FROM pg_class p WHERE p.oid = con.conrelid AND p.relispartition)
     ORDER BY 2, 1`);

  const triggers = await client.query<{
    name: string; table: string; definition: string; type: number; is_constraint: boolean; enabled: boolean;
    function: string; function_definition: string; function_body: string;
  }>(`
    SELECT t.tgname AS name, t.tgrelid::regclass::text AS "table", pg_get_triggerdef(t.oid, true) AS definition,
           t.tgtype::int AS type, t.tgconstraint <> 0 AS is_constraint, t.tgenabled <> 'D' AS enabled,
           t.tgfoid::regproc::text AS function, pg_get_functiondef(t.tgfoid) AS function_definition, p.prosrc AS function_body
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_proc p ON p.oid = t.tgfoid
     WHERE ${USER_NAMESPACE} AND NOT t.tgisinternal AND NOT c.relispartition
     ORDER BY 2, 1`);

  return {
    tables: tables.rows.map((row) => ({
      schema: row.schema,
      name: row.name,
      qualified: row.qualified,
      columns: row.columns.map((column) => ({ ...column, enumLabels: column.enumLabels ?? undefined, domain: column.domain ?? undefined, generatedAs: column.generatedAs ?? undefined })),
      primaryKey: row.primary_key ?? [],
    })),
    indexes: indexes.rows.map((row) => ({
      name: row.name,
      table: row.table,
      unique: row.unique,
      primary: row.primary,
      keys: row.keys,
      keyColumns: row.key_columns ?? [],
      predicate: row.predicate,
      definition: row.definition,
      constraint: row.constraint,
    })),
    constraints: constraints.rows.map((row) => ({
      name: row.name,
      table: row.table,
      type: row.type,
      columns: row.columns ?? [],
      definition: row.definition,
      deferrable: row.deferrable,
      deferred: row.deferred,
      ...(row.type === 'f' && row.ref_table ? { references: { table: row.ref_table, columns: row.ref_columns ?? [], onDelete: row.on_delete } } : {}),
    })),
    triggers: triggers.rows.map((row) => ({
      name: row.name,
      table: row.table,
      definition: row.definition,
      timing: row.type & 64 ? 'INSTEAD OF' : row.type & 2 ? 'BEFORE' : 'AFTER',
      events: (
        [
          [4, 'INSERT'],
          [8, 'DELETE'],
          [16, 'UPDATE'],
          [32, 'TRUNCATE'],
        ] as const
      )
        .filter(([bit]) => row.type & bit)
        .map(([, event]) => event),
      forEachRow: (row.type & 1) === 1,
      isConstraint: row.is_constraint,
      enabled: row.enabled,
      function: row.function,
      functionDefinition: row.function_definition,
      functionBody: row.function_body,
    })),
  };
}

/**
 * The table a rule's name refers to. Rules name tables unquoted, as quoteQualified reads them: `name` or
 * `schema.name`; regclass's quoted form is accepted too.
 */
export function findTable(catalog: Catalog, name: string): CatalogTable | undefined {
  // regclass's own text first (unique); a bare name is the table on the search path before one of another
  // schema (public.users before auth.users), as PostgreSQL resolves it.
  const bare = catalog.tables.filter((t) => t.name === name);
  return (
    catalog.tables.find((t) => t.qualified === name) ??
    catalog.tables.find((t) => `${t.schema}.${t.name}` === name) ??
    bare.find((t) => !t.qualified.includes('.')) ??
    bare[0]
  );
}

/** The candidate nearest to `name` by edit distance, when it is near enough to be a likely typo or rename. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    // Sharing a word (archived_at ~ removed_at) also counts as near: users rename, not only mistype.
    const sharesWord = name.split(/[_.]/).some((part) => part.length > 2 && candidate.split(/[_.]/).includes(part));
    const score = sharesWord ? Math.min(distance, Math.ceil(name.length / 2)) : distance;
    if (score < bestDistance) {
      best = candidate;
      bestDistance = score;
    }
  }
  return best !== undefined && bestDistance <= Math.max(3, Math.ceil(name.length / 2)) ? best : undefined;
}

/** Levenshtein distance, two rows at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
