import { refusedStatement, type SchemaFile } from '../db/schema-source.ts';
import { isServerError, toSqlFailure } from '../db/sql-failure.ts';
import { splitStatements, type ScriptStatement } from '../db/sql-statements.ts';
import { KitError } from '../errors/kit-error.ts';
import { displayPath } from '../spec/loader.ts';
import type { SchemaSource } from './schema-source.ts';

// --without-extension NAME: a vendor's dump that creates an extension the server lacks (pg_partman, pg_cron,
// PostGIS) is applied without it. Its CREATE EXTENSION is left out, and each statement that then fails (a
// partitioning call, a column of the extension's type) is left out too and named, instead of the build
// stopping at the first. Every other failure still stops it, with file and line.

/** SQL files applied in order, without the named extensions; `onSkipped` hears one line per statement left out. */
export function schemaWithoutExtensions(files: readonly SchemaFile[], extensions: readonly string[], onSkipped: (line: string) => void): SchemaSource {
  return {
    labels: files.map((file) => file.path),
    async build({ client }) {
      const built: SchemaFile[] = [];
      for (const file of files) built.push(await applyWithout(client, file, extensions, onSkipped));
      return built;
    },
  };
}

async function applyWithout(client: Parameters<SchemaSource['build']>[0]['client'], file: SchemaFile, extensions: readonly string[], onSkipped: (line: string) => void): Promise<SchemaFile> {
  const where = (statement: ScriptStatement) => `${displayPath(file.path)}:${statement.line}`;
  const statements: ScriptStatement[] = [];
  for (const statement of splitStatements(file.sql)) {
    const extension = createdExtension(statement.text);
    if (extension && extensions.includes(extension)) onSkipped(`${where(statement)}: CREATE EXTENSION ${extension} left out (--without-extension)`);
    else statements.push(statement);
  }
  // Each refusal takes one statement out; a file of n statements is tried at most n + 1 times.
  for (let attempt = 0; attempt <= statements.length; attempt++) {
    const sql = statements.map((statement) => statement.text).join('\n');
    try {
      await client.query(sql);
      return { path: file.path, sql };
    } catch (error) {
      if (!isServerError(error)) throw error;
      const failure = toSqlFailure(error);
      const refused = await refusedStatement(client, statements, failure);
      if (!refused) {
        throw new KitError('schema', `the schema does not apply without ${extensions.join(', ')}: ${failure.message} (SQLSTATE ${failure.code})`, {
          where: displayPath(file.path),
          fix: 'fix the SQL, or leave out another extension with --without-extension',
          cause: error,
        });
      }
      onSkipped(`${where(refused.statement)}: ${objectOf(refused.statement.text)} not built: ${failure.message}`);
      statements.splice(refused.index, 1);
    }
  }
  throw new KitError('schema', `the schema does not apply without ${extensions.join(', ')}`, { where: displayPath(file.path) });
}

/** The extension a CREATE EXTENSION statement creates, as the server folds its name. */
function createdExtension(text: string): string | undefined {
  const match = /^CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:"([^"]+)"|([\w-]+))/i.exec(text);
  return match ? (match[1] ?? match[2]!.toLowerCase()) : undefined;
}

/** What a statement makes, for the line that says it was not built: "table app.events", "index x", or its start. */
function objectOf(text: string): string {
  const created = /^CREATE\s+(?:OR\s+REPLACE\s+)?(?:UNIQUE\s+)?(?:UNLOGGED\s+)?(TABLE|INDEX|VIEW|MATERIALIZED\s+VIEW|FUNCTION|PROCEDURE|TRIGGER|TYPE|DOMAIN|SEQUENCE|SCHEMA)\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?([\w."$]+)/i.exec(text);
  if (created) return `${created[1]!.toLowerCase().replace(/\s+/g, ' ')} ${created[2]}`;
  const constraint = /^ALTER\s+TABLE\s+(?:ONLY\s+)?([\w."$]+)\s+ADD\s+CONSTRAINT\s+([\w."$]+)/i.exec(text);
  if (constraint) return `constraint ${constraint[2]} on ${constraint[1]}`;
  const flat = text.replace(/\s+/g, ' ');
  return `"${flat.length > 60 ? `${flat.slice(0, 57)}...` : flat}"`;
}
