import type pg from 'pg';
import { connect, redactUrl, settingsFromUrl, type ConnectionSettings } from '../db/connection.ts';
import type { SchemaFile } from '../db/schema-source.ts';
import { isKitError, KitError } from '../errors/kit-error.ts';
import { CATALOG_COPY_MIN_VERSION, schemaFromCatalog } from './catalog-schema.ts';
import { dumpSchema, installedPgDumps, pgDumpVersion, type PgDump } from './pg-dump.ts';
import { schemaFiles, type SchemaSource } from './schema-source.ts';

/** How to copy the schema of a live database. */
export interface LiveSchemaOptions {
  /** The pg_dump to use (a path), or false for the catalog reconstruction; default: the newest installed one that can dump the server. */
  readonly pgDump?: string | false;
}

/** The schema of a live database, as SQL, and how it was obtained. */
export interface LiveSchema {
  /** The SQL, named `copy of user@host:port/database` (never with the password). */
  readonly file: SchemaFile;
  readonly method: 'pg_dump' | 'catalog';
  /** One sentence saying which method was used and why, for the user. */
  readonly note: string;
  /** server_version_num of the source server. */
  readonly serverVersion: number;
}

/**
 * Reads the schema of the database at `url` without writing to it: with pg_dump (--schema-only
 * --no-owner --no-privileges) where an installed one is at least as new as the server, else by a
 * reconstruction from the catalog in a READ ONLY transaction. An unreachable source is an infrastructure error.
 */
export async function readLiveSchema(url: string, options: LiveSchemaOptions = {}): Promise<LiveSchema> {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new KitError('usage', `--schema-from must be a postgresql:// URL, got "${redactUrl(url)}"`, { fix: 'e.g. --schema-from postgresql://app@db.example:5432/app' });
  }
  const settings = settingsFromUrl(url);
  const label = `copy of ${sourceName(settings)}`;
  const client = await connect(settings, { applicationName: 'pgconform-schema-from', statementTimeoutMs: 60_000 }).catch((error: unknown) => {
    throw isKitError(error) ? new KitError(error.kind, `cannot read the schema to copy: ${error.message}`, { where: `--schema-from ${sourceName(settings)}`, fix: error.fix, cause: error }) : error;
  });
  try {
    await client.query('SET default_transaction_read_only = on');
    const serverVersion = Number((await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]!.v);
    const major = Math.floor(serverVersion / 10000);
    const dump = await choosePgDump(options.pgDump, major);
    let why: string;
    if (dump && dump.major >= major) {
      const result = await dumpSchema(dump, settings);
      if ('sql' in result) {
        return { file: { path: label, sql: result.sql }, method: 'pg_dump', serverVersion, note: `copied the schema of ${sourceName(settings)} with pg_dump ${dump.version} (${dump.path})` };
      }
      why = `pg_dump failed: ${result.failure}`;
    } else {
      why = options.pgDump === false ? 'pg_dump not used' : dump ? `pg_dump ${dump.major} cannot dump a PostgreSQL ${major} server` : 'no pg_dump installed';
    }
    const sql = await catalogCopy(client, serverVersion, settings, why);
    return { file: { path: label, sql }, method: 'catalog', serverVersion, note: `copied the schema of ${sourceName(settings)} from its catalog (${why})` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A schema source that builds the copied schema; a copy that does not apply names the method and the statement. */
export function liveSchemaSource(live: LiveSchema): SchemaSource {
  const files = schemaFiles([live.file]);
  return {
    labels: files.labels,
    async build(target) {
      try {
        return await files.build(target);
      } catch (error) {
        if (!isKitError(error) || error.kind !== 'schema') throw error;
        const line = Number(/:(\d+)$/.exec(error.where ?? '')?.[1]);
        const statement = line ? (live.file.sql.split('\n')[line - 1] ?? '').trim().slice(0, 120) : '';
        throw new KitError('schema', `the copy made ${live.method === 'pg_dump' ? 'by pg_dump' : 'from the catalog'} does not apply to the sandbox server: ${error.message}`, {
          where: error.where,
          fix: `${statement ? `at "${statement}"; ` : ''}${
            live.method === 'catalog' ? 'a pg_dump as new as the source server makes an exact copy' : 'the sandbox server may be older than the source, or lack an extension it uses'
          }`,
          cause: error,
        });
      }
    },
  };
}

/** user@host:port/database: where the schema came from, safe to print. */
function sourceName(settings: ConnectionSettings): string {
  return `${settings.user}@${settings.host}:${settings.port}/${settings.database}`;
}

async function choosePgDump(choice: LiveSchemaOptions['pgDump'], serverMajor: number): Promise<PgDump | undefined> {
  if (choice === false) return undefined;
  if (choice !== undefined) {
    const dump = await pgDumpVersion(choice);
    if (!dump) throw new KitError('usage', `no pg_dump runs at ${choice}`, { fix: 'give the path of a pg_dump program' });
    return dump;
  }
  const installed = await installedPgDumps();
  return installed.find((dump) => dump.major >= serverMajor) ?? installed[0];
}

async function catalogCopy(client: pg.Client, serverVersion: number, settings: ConnectionSettings, why: string): Promise<string> {
  if (serverVersion < CATALOG_COPY_MIN_VERSION) {
    throw new KitError('infrastructure', `cannot copy the schema of a PostgreSQL ${Math.floor(serverVersion / 10000)} server from its catalog (${why})`, {
      where: `--schema-from ${sourceName(settings)}`,
      fix: 'install a pg_dump at least as new as the server, or use --schema with a dump',
    });
  }
  return schemaFromCatalog(client);
}
