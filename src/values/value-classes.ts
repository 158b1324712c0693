import type pg from 'pg';
import { connect, quoteIdent, quoteQualified, type ConnectionSettings } from '../db/connection.ts';
import { isServerError, toSqlFailure, type SqlFailure } from '../db/sql-failure.ts';
import { isKitError, KitError } from '../errors/kit-error.ts';
import type { Rule, Value } from '../rules/rule.ts';
import { CanonicalValues, type ColumnClasses } from './canonical-values.ts';

/** A column a rule writes values into, with the configuration key that brought each value. */
interface WrittenColumn {
  readonly table: string;
  readonly column: string;
  readonly values: Value[];
  readonly keys: string[];
}

/**
 * Where the round trip keeps column c's values: a temporary table of its own (a NOT NULL domain never sees a
 * filler NULL), dropped with the transaction that made it.
 */
const scratch = (c: number) => `pg_temp.pgconform_values_${c}`;

/** Session settings that make the server's text of a value read back the same under any other session's settings. */
const STABLE_TEXT = "SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3";

/**
 * Sends every value a rule writes through the server once, as its column's type, exactly as an insert
 * would (a parameter assigned to a column of that type: typmods, domains, collations), and groups the
 * values by the type's equality. A value the type refuses is the configuration's error, found before the
 * first scenario: one line with the rule, the key, the column, its type, the value, the server's words and
 * a fix (exit 2). Writes nothing: the scratch table lives in a transaction that is rolled back.
 */
export async function readValueClasses(client: pg.ClientBase, rule: Rule, where?: string): Promise<CanonicalValues> {
  const columns = writtenColumns(rule);
  if (columns.length === 0) return CanonicalValues.none;
  const refused = new Set<string>();
  for (;;) {
    try {
      return new CanonicalValues(await roundTrip(client, columns, refused));
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (isServerError(error) && /^(42|0A)/.test(error.code)) {
        throw new KitError('schema', `rule ${rule.id}: its values could not be read as its columns' types: ${error.message}`, {
          where,
          fix: 'check that the schema has the tables and columns the rule names',
          cause: error,
        });
      }
      if (!isServerError(error) || !/^2[23]/.test(error.code) || refused.size > 0) throw error;
      // Some value was refused: find which (only on this path).
      const found = await findRefused(client, columns);
      const wrongType = found.find((r) => !r.failure.code.startsWith('23'));
      if (wrongType) throw valueError(rule, wrongType, where);
      if (found.length === 0) throw error;
      // A constraint of the type itself (a domain CHECK) may be what the rule probes: such a value is never stored.
      for (const r of found) refused.add(slot(r.column, r.index));
    }
  }
}

/**
 * Every rule's values as the server sees them, read on one connection to `database` (a sandbox's template)
 * before any scenario. Errors are values: a rule whose values its columns refuse gets its KitError, so that
 * one rule's bad configuration is that rule's error while the others run. Infrastructure failures throw.
 */
export async function readRuleValues(
  database: ConnectionSettings,
  rules: ReadonlyArray<{ readonly rule: Rule; readonly where?: string }>,
): Promise<Map<Rule, CanonicalValues | KitError>> {
  const found = new Map<Rule, CanonicalValues | KitError>();
  const client = await connect(database, { applicationName: 'pgconform-values' });
  try {
    for (const { rule, where } of rules) {
      found.set(rule, await readValueClasses(client, rule, where).catch((error: unknown) => {
        if (isKitError(error)) return error;
        throw error;
      }));
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return found;
}

/** The columns a rule writes values into, each once, with their distinct non-NULL values in the rule's order. */
function writtenColumns(rule: Rule): WrittenColumn[] {
  const byColumn = new Map<string, WrittenColumn>();
  for (const reference of rule.references ?? []) {
    if (reference.column === undefined || !reference.values) continue;
    const id = JSON.stringify([reference.table, reference.column]);
    const column = byColumn.get(id) ?? { table: reference.table, column: reference.column, values: [], keys: [] };
    byColumn.set(id, column);
    for (const value of reference.values) {
      if (value === null || column.values.some((v) => JSON.stringify(v) === JSON.stringify(value))) continue;
      column.values.push(value);
      column.keys.push(reference.key);
    }
  }
  return [...byColumn.values()].filter((c) => c.values.length > 0);
}

/** The round trip: three queries on the happy path, whatever the number of columns and values. */
async function roundTrip(client: pg.ClientBase, columns: readonly WrittenColumn[], refused: ReadonlySet<string>): Promise<ColumnClasses[]> {
  const types = await createScratch(client, columns);
  const rows = columns.flatMap((column, c) => column.values.map((value, index) => ({ c, index, value }))).filter((r) => !refused.has(slot(r.c, r.index)));
  if (rows.length === 0) {
    await client.query('ROLLBACK');
    return columns.map((column, c): ColumnClasses => ({ table: column.table, column: column.column, type: types[c]!, equality: 'text', values: column.values, texts: column.values.map(() => null), classOf: column.values.map((_, i) => i) }));
  }
  // One statement: an INSERT per column, each a data-modifying CTE; parameters take their column's type.
  const inserts = columns.flatMap((_, c) => {
    const own = rows.flatMap((row, i) => (row.c === c ? [`(${i}, $${i + 1})`] : []));
    return own.length === 0 ? [] : [`s${c} AS (INSERT INTO ${scratch(c)} (i, v) VALUES ${own.join(', ')} RETURNING i, v::text AS text)`];
  });
  const inserted = await client.query<{ i: number; text: string }>({
    text: `WITH ${inserts.join(', ')} ${inserts.map((cte) => `SELECT i, text FROM ${cte.split(' ')[0]}`).join(' UNION ALL ')}`,
    values: rows.map((row) => row.value),
  });
  const texts = new Map(inserted.rows.map((r) => [r.i, r.text]));
  const equal = await equalitiesThenRollback(client, columns);
  return columns.map((column, c): ColumnClasses => {
    const own = rows.map((row, i) => ({ ...row, i })).filter((row) => row.c === c);
    const textOf = (index: number) => texts.get(own.find((row) => row.index === index)?.i ?? -1) ?? null;
    const columnTexts = column.values.map((_, index) => textOf(index));
    const sameAs = equal.get(c);
    const classOf = column.values.map((_, index) => {
      const text = columnTexts[index];
      if (text === null) return index;
      const row = own.find((r) => r.index === index)!;
      // By the type's `=` when it has one; otherwise by the text.
      const representative = sameAs ? sameAs.get(row.i) : own.find((r) => textOf(r.index) === text)?.i;
      return own.find((r) => r.i === representative)?.index ?? index;
    });
    return { table: column.table, column: column.column, type: types[c]!, equality: sameAs ? 'type' : 'text', values: column.values, texts: columnTexts, classOf };
  });
}

/** Opens the transaction and creates a scratch table per written column, its value column of the column's exact type; returns the types. */
async function createScratch(client: pg.ClientBase, columns: readonly WrittenColumn[]): Promise<string[]> {
  const creates = columns.map(
    (column, c) =>
      `CREATE TEMPORARY TABLE ${scratch(c).split('.')[1]} ON COMMIT DROP AS SELECT 0 AS i, (NULL::${quoteQualified(column.table)}).${quoteIdent(column.column)} AS v WITH NO DATA`,
  );
  const types = columns.map((_, c) => `SELECT ${c} AS c, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = '${scratch(c)}'::regclass AND attname = 'v'`);
  const results = (await client.query(`BEGIN; ${STABLE_TEXT}; ${creates.join('; ')}; SELECT type FROM (${types.join(' UNION ALL ')}) AS t ORDER BY c`)) as unknown as pg.QueryResult<{ type: string }>[];
  return results[results.length - 1]!.rows.map((r) => r.type);
}

/**
 * For each column, the representative (lowest row number) of each row under the type's `=`; then ends the
 * transaction. A column whose type has no `=` (json, point, xml) is left out and compared by text.
 */
async function equalitiesThenRollback(client: pg.ClientBase, columns: readonly WrittenColumn[]): Promise<Map<number, Map<number, number>>> {
  const query = (c: number) => `SELECT ${c} AS c, a.i, min(b.i) AS representative FROM ${scratch(c)} a JOIN ${scratch(c)} b ON a.v = b.v GROUP BY a.i`;
  type Equal = { c: number; i: number; representative: number };
  const collect = (rows: Equal[], into = new Map<number, Map<number, number>>()) => {
    for (const row of rows) into.set(row.c, (into.get(row.c) ?? new Map()).set(row.i, row.representative));
    return into;
  };
  try {
    // A failing SELECT skips the ROLLBACK after it, and leaves the savepoint to return to.
    const results = (await client.query(`SAVEPOINT pgconform_equality; ${columns.map((_, c) => query(c)).join(' UNION ALL ')}; ROLLBACK`)) as unknown as pg.QueryResult<Equal>[];
    return collect(results[1]!.rows);
  } catch (error) {
    if (!isServerError(error) || !error.code.startsWith('42')) throw error;
    await client.query('ROLLBACK TO SAVEPOINT pgconform_equality');
  }
  const found = new Map<number, Map<number, number>>();
  for (const [c] of columns.entries()) {
    try {
      collect((await client.query<Equal>(query(c))).rows, found);
      await client.query('RELEASE SAVEPOINT pgconform_equality; SAVEPOINT pgconform_equality');
    } catch (error) {
      if (!isServerError(error) || !error.code.startsWith('42')) throw error;
      await client.query('ROLLBACK TO SAVEPOINT pgconform_equality');
    }
  }
  await client.query('ROLLBACK');
  return found;
}

/** Every value the columns' types refuse, each with the server's error: one scratch transaction, a savepoint per value. */
async function findRefused(client: pg.ClientBase, columns: readonly WrittenColumn[]): Promise<Refusal[]> {
  const refusals: Refusal[] = [];
  try {
    const types = await createScratch(client, columns);
    for (const [c, column] of columns.entries()) {
      for (const [index, value] of column.values.entries()) {
        await client.query('SAVEPOINT pgconform_probe');
        try {
          await client.query({ text: `INSERT INTO ${scratch(c)} (i, v) VALUES (0, $1)`, values: [value] });
        } catch (error) {
          if (!isServerError(error)) throw error;
          refusals.push({ column: c, index, failure: toSqlFailure(error), type: types[c]! });
          await client.query('ROLLBACK TO SAVEPOINT pgconform_probe');
        }
      }
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
  return refusals;
}

/** A value a column's type refused. */
interface Refusal {
  readonly column: number;
  readonly index: number;
  readonly failure: SqlFailure;
  readonly type: string;
}

function slot(column: number, index: number): string {
  return `${column}:${index}`;
}

/** One line: rule, key, column, type, value, the server's words, and what to write instead. */
function valueError(rule: Rule, found: Refusal, where: string | undefined): KitError {
  const column = writtenColumns(rule)[found.column]!;
  const value = column.values[found.index]!;
  return new KitError(
    'config',
    `rule ${rule.id}, key ${column.keys[found.index]}: the value ${JSON.stringify(value)} does not suit column ${column.table}.${column.column} of type ${found.type}: ${found.failure.message}`,
    { where, fix: fixFor(found.type, found.failure) },
  );
}

function fixFor(type: string, failure: SqlFailure): string {
  const length = /\((\d+)\)$/.exec(type)?.[1];
  if (failure.code === '22001' && length) return `give values of at most ${length} characters`;
  if (type.endsWith('[]')) return `write an array as PostgreSQL reads it, e.g. "{a,b}"`;
  if (failure.code === '22003') return `give values that fit ${type}`;
  if (/^(smallint|integer|bigint)$/.test(type)) return 'integer keys: give the pool "type": "bigint"';
  if (/^(timestamp|date|time)/.test(type)) return 'write dates and times as ISO 8601, e.g. "2025-01-01T00:00:00Z"';
  return `give values of type ${type}, spelled as PostgreSQL reads them`;
}
