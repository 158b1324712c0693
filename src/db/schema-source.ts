import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type pg from 'pg';
import { isServerError, toSqlFailure, type SqlFailure } from './sql-failure.ts';
import { splitStatements, type ScriptStatement } from './sql-statements.ts';
import { KitError } from '../errors/kit-error.ts';

/** One SQL file of a schema, read into memory. */
export interface SchemaFile {
  path: string;
  sql: string;
}

/** Reads schema files in the given order; a missing file is a usage error naming it. */
export async function readSchemaFiles(paths: readonly string[]): Promise<SchemaFile[]> {
  return Promise.all(
    paths.map(async (path) => {
      try {
        return { path, sql: await readFile(path, 'utf8') };
      } catch (error) {
        throw new KitError('schema', `cannot read schema file: ${(error as Error).message}`, {
          where: displayPath(path),
          fix: 'check the path given to --schema',
        });
      }
    }),
  );
}

/** Applies schema files in order over one connection; a failure names the file, line and server message. */
export async function applySchema(client: pg.Client, files: readonly SchemaFile[]): Promise<void> {
  for (const file of files) {
    try {
      await client.query(file.sql);
    } catch (error) {
      if (!isServerError(error)) throw error;
      const failure = toSqlFailure(error);
      // A syntax error has a position in the file; an error raised while a statement ran has none: find the statement.
      const line = failure.position ? lineAt(file.sql, failure.position) : await failingLine(client, file.sql, failure);
      const where = `${displayPath(file.path)}${line ? `:${line}` : ''}`;
      const extension = failure.code === '0A000' ? /^extension "([^"]+)" is not available/.exec(failure.message)?.[1] : undefined;
      throw new KitError('schema', `the schema does not apply: ${failure.message} (SQLSTATE ${failure.code})`, {
        where,
        fix: extension
          ? `the server lacks the extension ${extension}: install it there, or give a server that has it (--url, --docker); the embedded server ships PostgreSQL's contrib modules`
          : 'fix the SQL so that it runs on an empty database',
        cause: error,
      });
    }
  }
}

/** Transaction control in a script: left out when its statements are run one by one inside one transaction. */
const TRANSACTION_CONTROL = /^(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT)\b/i;

/**
 * The line of the statement of `sql` the server refused with `failure` (see refusedStatement); undefined
 * when it cannot be told, and the error names the file alone.
 */
async function failingLine(client: pg.Client, sql: string, failure: SqlFailure): Promise<number | undefined> {
  const statements = splitStatements(sql).filter((statement) => !TRANSACTION_CONTROL.test(statement.text));
  if (statements.length < 2) return statements[0]?.line;
  const refused = await refusedStatement(client, statements, failure);
  return refused && refused.statement.line + (refused.position ? lineAt(refused.statement.text, refused.position) - 1 : 0);
}

/**
 * Which of a script's statements the server refused with `failure`, found by running them again one by one
 * in a transaction that is rolled back (the refused run left nothing behind). Only a refusal identical to the
 * first one counts; undefined otherwise.
 */
export async function refusedStatement(
  client: pg.Client,
  statements: readonly ScriptStatement[],
  failure: SqlFailure,
): Promise<{ index: number; statement: ScriptStatement; position?: number } | undefined> {
  try {
    // A file that opened its own transaction and failed in it leaves that transaction aborted: end it first.
    await client.query('ROLLBACK');
    await client.query('BEGIN');
    for (const [index, statement] of statements.entries()) {
      if (TRANSACTION_CONTROL.test(statement.text)) continue;
      try {
        await client.query(statement.text);
      } catch (error) {
        if (!isServerError(error) || error.code !== failure.code || error.message !== failure.message) return undefined;
        return { index, statement, position: toSqlFailure(error).position };
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** The 1-based line holding the 1-based character `position` of `text`. */
export function lineAt(text: string, position: number): number {
  let line = 1;
  const end = Math.min(position - 1, text.length);
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}
