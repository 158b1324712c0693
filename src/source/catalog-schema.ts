import { USER_NAMESPACE } from '../catalog/catalog.ts';
import type pg from 'pg';

// Rebuilds a database's schema as SQL from its catalog, for when no pg_dump can read the server (pg_dump
// refuses servers newer than itself). Every query only reads, inside a READ ONLY transaction. It covers what
// ordinary application schemas hold: schemas, extensions, enum, range, domain and composite types, sequences,
// tables (columns, defaults, NOT NULL, identity, generated columns, partitioning, inheritance), constraints,
// indexes, functions and procedures, views, materialized views and triggers. Not copied: row-level security
// policies, rules, aggregates, operators, comments, grants.


/** True when no extension owns the object (extension members come with CREATE EXTENSION). */
const notInExtension = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${oid} AND e.deptype = 'e')`;

/** Tables, partitioned tables, views and materialized views the copy reproduces. */
const USER_RELATION = `${USER_NAMESPACE} AND ${notInExtension('pg_class', 'c.oid')}`;

const COLLATION_OF = (collation: string) =>
  `(SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = ${collation})`;

/** Statements in the order they can be applied; each query returns one `statement` per row. */
const STEPS: ReadonlyArray<{ readonly name: string; readonly sql: string }> = [
  {
    name: 'schemas',
    sql: `SELECT format('CREATE SCHEMA IF NOT EXISTS %I;', n.nspname) AS statement
            FROM pg_namespace n WHERE ${USER_NAMESPACE} AND n.nspname <> 'public' AND ${notInExtension('pg_namespace', 'n.oid')}
           ORDER BY n.nspname`,
  },
  {
    name: 'extensions',
    sql: `SELECT format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA %I;', x.extname, n.nspname) AS statement
            FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
           WHERE x.extname <> 'plpgsql' ORDER BY x.oid`,
  },
  {
    name: 'enum types',
    sql: `SELECT format('CREATE TYPE %s AS ENUM (%s);', t.oid::regtype,
                  coalesce((SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')) AS statement
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE t.typtype = 'e' AND ${USER_NAMESPACE} AND ${notInExtension('pg_type', 't.oid')} ORDER BY t.oid`,
  },
  {
    name: 'range types',
    sql: `SELECT format('CREATE TYPE %s AS RANGE (SUBTYPE = %s%s);', t.oid::regtype, format_type(r.rngsubtype, NULL),
                  CASE WHEN r.rngcollation <> 0 THEN ', COLLATION = ' || ${COLLATION_OF('r.rngcollation')} ELSE '' END) AS statement
            FROM pg_type t JOIN pg_range r ON r.rngtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE ${USER_NAMESPACE} AND ${notInExtension('pg_type', 't.oid')} ORDER BY t.oid`,
  },
  {
    name: 'domains',
    sql: `SELECT format('CREATE DOMAIN %s AS %s%s%s%s%s;', t.oid::regtype, format_type(t.typbasetype, t.typtypmod),
                  CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation THEN ' COLLATE ' || ${COLLATION_OF('t.typcollation')} ELSE '' END,
                  coalesce(' DEFAULT ' || t.typdefault, ''),
                  CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END,
                  coalesce((SELECT string_agg(format(' CONSTRAINT %I %s', k.conname, pg_get_constraintdef(k.oid)), '' ORDER BY k.conname)
                              FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'), '')) AS statement
            FROM pg_type t JOIN pg_type b ON b.oid = t.typbasetype JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE t.typtype = 'd' AND ${USER_NAMESPACE} AND ${notInExtension('pg_type', 't.oid')} ORDER BY t.oid`,
  },
  {
    name: 'composite types',
    sql: `SELECT format('CREATE TYPE %s AS (%s);', t.oid::regtype,
                  coalesce((SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
                              FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')) AS statement
            FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE t.typtype = 'c' AND c.relkind = 'c' AND ${USER_NAMESPACE} AND ${notInExtension('pg_type', 't.oid')} ORDER BY t.oid`,
  },
  {
    // Identity columns bring their own sequence.
    name: 'sequences',
    sql: `SELECT format('CREATE SEQUENCE %s AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s;', c.oid::regclass,
                  format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache, CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END) AS statement
            FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE ${USER_RELATION}
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
           ORDER BY c.oid`,
  },
  {
    // Parents before partitions and children; defaults come later, once the functions they may call exist.
    name: 'tables',
    sql: `SELECT CASE WHEN c.relispartition THEN
                   format('CREATE TABLE %s PARTITION OF %s %s%s;', c.oid::regclass, parent.inhparent::regclass, pg_get_expr(c.relpartbound, c.oid),
                          CASE WHEN c.relkind = 'p' THEN ' PARTITION BY ' || pg_get_partkeydef(c.oid) ELSE '' END)
                 ELSE
                   format('CREATE %sTABLE %s (%s)%s%s%s;', CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, c.oid::regclass,
                          coalesce((SELECT string_agg(format('%I %s%s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                                             CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation THEN ' COLLATE ' || ${COLLATION_OF('a.attcollation')} ELSE '' END,
                                             CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END
                                             || CASE a.attgenerated WHEN 's' THEN format(' GENERATED ALWAYS AS (%s) STORED', pg_get_expr(d.adbin, d.adrelid))
                                                                    WHEN 'v' THEN format(' GENERATED ALWAYS AS (%s) VIRTUAL', pg_get_expr(d.adbin, d.adrelid)) ELSE '' END,
                                             CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END), ', ' ORDER BY a.attnum)
                                      FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
                                      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attislocal), ''),
                          coalesce((SELECT ' INHERITS (' || string_agg(h.inhparent::regclass::text, ', ' ORDER BY h.inhseqno) || ')' FROM pg_inherits h WHERE h.inhrelid = c.oid), ''),
                          CASE WHEN c.relkind = 'p' THEN ' PARTITION BY ' || pg_get_partkeydef(c.oid) ELSE '' END,
                          CASE WHEN c.reloptions IS NOT NULL THEN ' WITH (' || array_to_string(c.reloptions, ', ') || ')' ELSE '' END)
                 END AS statement
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_inherits parent ON parent.inhrelid = c.oid AND c.relispartition
           WHERE c.relkind IN ('r', 'p') AND ${USER_RELATION}
           ORDER BY c.relispartition, c.oid`,
  },
  {
    // Bodies are not checked at creation (check_function_bodies is off), so functions may name tables and each other freely.
    name: 'functions',
    sql: `SELECT pg_get_functiondef(p.oid) || ';' AS statement
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE p.prokind IN ('f', 'p') AND ${USER_NAMESPACE} AND ${notInExtension('pg_proc', 'p.oid')}
             -- A range type's constructors come with CREATE TYPE.
             AND NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = 'pg_proc'::regclass AND i.objid = p.oid AND i.deptype = 'i')
           ORDER BY p.oid`,
  },
  {
    name: 'column defaults',
    sql: `SELECT format('ALTER TABLE ONLY %s ALTER COLUMN %I SET DEFAULT %s;', c.oid::regclass, a.attname, pg_get_expr(d.adbin, d.adrelid)) AS statement
            FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
            JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p') AND a.attgenerated = '' AND NOT a.attisdropped AND ${USER_RELATION}
           ORDER BY c.oid, a.attnum`,
  },
  {
    name: 'sequence owners',
    sql: `SELECT format('ALTER SEQUENCE %s OWNED BY %s.%I;', s.oid::regclass, t.oid::regclass, a.attname) AS statement
            FROM pg_depend d JOIN pg_class s ON s.oid = d.objid JOIN pg_namespace n ON n.oid = s.relnamespace
            JOIN pg_class t ON t.oid = d.refobjid JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
           WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' AND s.relkind = 'S'
             AND ${USER_NAMESPACE} AND ${notInExtension('pg_class', 's.oid')}
           ORDER BY s.oid`,
  },
  {
    // Inherited and partition-cloned constraints come from their parent; foreign keys wait for every unique index.
    name: 'constraints',
    sql: `SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s;', c.oid::regclass, k.conname, pg_get_constraintdef(k.oid)) AS statement
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE k.contype IN ('p', 'u', 'x', 'c') AND k.conislocal AND k.conparentid = 0 AND c.relkind IN ('r', 'p') AND ${USER_RELATION}
           ORDER BY CASE k.contype WHEN 'p' THEN 0 ELSE 1 END, c.oid, k.conname`,
  },
  {
    name: 'indexes',
    sql: indexesOf(`('r', 'p')`),
  },
  {
    name: 'foreign keys',
    sql: `SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s;', c.oid::regclass, k.conname, pg_get_constraintdef(k.oid)) AS statement
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE k.contype = 'f' AND k.conislocal AND k.conparentid = 0 AND c.relkind IN ('r', 'p') AND ${USER_RELATION}
           ORDER BY c.oid, k.conname`,
  },
];

/** Indexes that no constraint owns (those come with their constraint), on relations of these kinds. */
function indexesOf(relkinds: string): string {
  // An index of a partitioned table is created on every partition too: so ON, not ON ONLY.
  return `SELECT CASE WHEN c.relkind = 'p' THEN regexp_replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') ELSE pg_get_indexdef(i.indexrelid) END || ';' AS statement
            FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ${relkinds} AND ${USER_RELATION}
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
             AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
           ORDER BY i.indexrelid`;
}

/** Views and materialized views, each with the views it reads (so they are created in dependency order). */
const VIEWS_SQL = `
SELECT c.oid::int AS oid, c.relkind AS kind, c.oid::regclass::text AS name, pg_get_viewdef(c.oid) AS definition,
       array_to_string(c.reloptions, ', ') AS options,
       coalesce((SELECT array_agg(DISTINCT d.refobjid::int) FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                  WHERE r.ev_class = c.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid), '{}') AS reads
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('v', 'm') AND ${USER_RELATION}
 ORDER BY c.oid`;

const TRIGGERS_SQL = `
SELECT pg_get_triggerdef(t.oid) || ';' || CASE WHEN t.tgenabled = 'D' THEN format(' ALTER TABLE %s DISABLE TRIGGER %I;', c.oid::regclass, t.tgname) ELSE '' END AS statement
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND ${USER_RELATION}
 ORDER BY c.oid, t.tgname`;

/** The oldest server whose catalog this reconstruction reads (pg_trigger.tgparentid). */
export const CATALOG_COPY_MIN_VERSION = 130000;

/**
 * The schema of the database `client` is connected to, as SQL that builds it in an empty database.
 * Reads the catalog only, in a READ ONLY transaction that it always ends; names are schema-qualified.
 */
export async function schemaFromCatalog(client: pg.Client): Promise<string> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    // With an empty search_path, pg_get_*def and regclass qualify every name they print.
    await client.query(`SELECT pg_catalog.set_config('search_path', '', true)`);
    const statements: string[] = [];
    const take = async (sql: string) => {
      for (const row of (await client.query<{ statement: string }>(sql)).rows) statements.push(row.statement);
    };
    for (const step of STEPS) await take(step.sql);
    statements.push(...viewStatements((await client.query<ViewRow>(VIEWS_SQL)).rows));
    await take(indexesOf(`('m')`));
    await take(TRIGGERS_SQL);
    return [
      "SELECT pg_catalog.set_config('search_path', '', false);",
      'SET check_function_bodies = false;',
      'SET client_min_messages = warning;',
      '',
      ...statements,
      '',
    ].join('\n');
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

interface ViewRow {
  oid: number;
  kind: 'v' | 'm';
  name: string;
  definition: string;
  options: string | null;
  reads: number[];
}

/** CREATE VIEW statements, every view after the views it reads. */
function viewStatements(views: readonly ViewRow[]): string[] {
  const byOid = new Map(views.map((view) => [view.oid, view]));
  const done = new Set<number>();
  const statements: string[] = [];
  const emit = (view: ViewRow, path: Set<number>) => {
    if (done.has(view.oid) || path.has(view.oid)) return;
    path.add(view.oid);
    for (const read of view.reads) {
      const dependency = byOid.get(read);
      if (dependency) emit(dependency, path);
    }
    done.add(view.oid);
    const body = view.definition.trim().replace(/;$/, '');
    const options = view.options ? ` WITH (${view.options})` : '';
    statements.push(view.kind === 'm' ? `CREATE MATERIALIZED VIEW ${view.name}${options} AS ${body} WITH NO DATA;` : `CREATE VIEW ${view.name}${options} AS ${body};`);
  };
  for (const view of views) emit(view, new Set());
  return statements;
}
