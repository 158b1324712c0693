import { quoteQualified } from '../db/connection.ts';

// A rule about changes judges each committed row change, not a state. The engine logs every change of the
// rule's tables (old and new row as jsonb) from an AFTER ROW trigger it adds to its own worker database; a
// statement the schema refuses, or a transaction rolled back, leaves no entry, so after every commit the
// log holds exactly the committed changes and the rule's invariant reads it like any other table.

/** The kit's own schema in a worker database: never part of the user's schema, never mapped or mutated. */
export const KIT_SCHEMA = 'pgconform_kit';

/** The log table: one row per row change of a logged table. */
export const CHANGE_LOG = `${KIT_SCHEMA}.row_changes`;

/** The trigger the engine adds to each logged table (its name tells a reader of the worker database whose it is). */
export const CHANGE_TRIGGER = 'pgconform_log_row_change';

/** SQL creating the log and its trigger on each table (idempotent). */
export function installChangeLog(tables: readonly string[]): string {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${KIT_SCHEMA};`,
    `CREATE TABLE IF NOT EXISTS ${CHANGE_LOG} (seq bigserial PRIMARY KEY, table_name text NOT NULL, op text NOT NULL, old jsonb, new jsonb);`,
    `CREATE OR REPLACE FUNCTION ${KIT_SCHEMA}.log_row_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ${CHANGE_LOG} (table_name, op, old, new)
  VALUES (TG_ARGV[0], TG_OP, CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END, CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
  RETURN NULL;
END $$;`,
    ...tables.map(
      (table) =>
        `DROP TRIGGER IF EXISTS ${CHANGE_TRIGGER} ON ${quoteQualified(table)};\n` +
        `CREATE TRIGGER ${CHANGE_TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON ${quoteQualified(table)} FOR EACH ROW EXECUTE FUNCTION ${KIT_SCHEMA}.log_row_change('${table.replace(/'/g, "''")}');`,
    ),
  ].join('\n');
}

/** Empties the log (part of every reset). */
export const CLEAR_CHANGE_LOG = `TRUNCATE ${CHANGE_LOG};`;

/** A transition rule: which changes of a table are allowed, as an SQL condition. */
export interface TransitionCheck {
  readonly table: string;
  /**
   * SQL condition over `old` and `new` (rows of the table; all columns NULL for the side an INSERT or
   * DELETE lacks) and `change.op` ('INSERT', 'UPDATE', 'DELETE'): true when the change is allowed.
   */
  readonly allowed: string;
}

/** The invariant of a transition rule: every committed change its condition does not allow, with the rows before and after. */
export function transitionInvariant(check: TransitionCheck): string {
  const type = quoteQualified(check.table);
  return (
    `SELECT change.op AS change, change.old AS before, change.new AS after FROM ${CHANGE_LOG} AS change ` +
    `CROSS JOIN LATERAL jsonb_populate_record(NULL::${type}, change.old) AS old ` +
    `CROSS JOIN LATERAL jsonb_populate_record(NULL::${type}, change.new) AS new ` +
    `WHERE change.table_name = '${check.table.replace(/'/g, "''")}' AND (${check.allowed}) IS NOT TRUE ORDER BY change.seq`
  );
}

/** A rule's setup as a replay outside the engine needs it (psql, isolationtester, a vitest file): the change log first when the rule reads one. */
export function replaySetup(rule: { readonly setup: string; readonly transitions?: readonly string[] }): string {
  if (!rule.transitions?.length) return rule.setup;
  return [installChangeLog(rule.transitions), rule.setup, CLEAR_CHANGE_LOG].filter((sql) => sql.trim() !== '').join('\n');
}
