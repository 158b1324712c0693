import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type pg from 'pg';
import { isServerError, toSqlFailure } from './sql-failure.ts';
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
      const line = failure.position ? lineAt(file.sql, failure.position) : undefined;
      const where = `${displayPath(file.path)}${line ? `:${line}` : ''}`;
      throw new KitError('schema', `the schema does not apply: ${failure.message} (SQLSTATE ${failure.code})`, {
        where,
        fix: 'fix the SQL so that it runs on an empty database',
        cause: error,
      });
    }
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
