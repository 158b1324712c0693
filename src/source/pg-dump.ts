import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { redactUrl, type ConnectionSettings } from '../db/connection.ts';

const run = promisify(execFile);

/** A pg_dump program and the PostgreSQL major version it belongs to. */
export interface PgDump {
  readonly path: string;
  readonly major: number;
  /** Its full version, e.g. "15.20". */
  readonly version: string;
}

/** Folders where distributions install one pg_dump per PostgreSQL major version, besides PATH. */
const VERSIONED_BIN_DIRS: ReadonlyArray<{ parent: string; bin: (entry: string) => string }> = [
  { parent: '/usr/lib/postgresql', bin: (v) => join('/usr/lib/postgresql', v, 'bin') }, // Debian, Ubuntu
  { parent: '/usr', bin: (v) => join('/usr', v, 'bin') }, // RHEL: /usr/pgsql-16/bin
  { parent: '/opt/homebrew/opt', bin: (v) => join('/opt/homebrew/opt', v, 'bin') }, // Homebrew: postgresql@16
  { parent: '/usr/local/opt', bin: (v) => join('/usr/local/opt', v, 'bin') },
];

/** The version of a pg_dump program, or undefined when it does not run. */
export async function pgDumpVersion(path: string): Promise<PgDump | undefined> {
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 10_000 });
    const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(stdout);
    return match ? { path, major: Number(match[1]), version: match[2] ? `${match[1]}.${match[2]}` : match[1]! } : undefined;
  } catch {
    return undefined;
  }
}

/** Every pg_dump installed here (PATH first, then the versioned folders), newest first. */
export async function installedPgDumps(): Promise<PgDump[]> {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'pg_dump'));
  const paths = onPath.filter((path) => existsSync(path)).slice(0, 1);
  for (const { parent, bin } of VERSIONED_BIN_DIRS) {
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent)) {
      if (!/^(\d+|pgsql-\d+|postgresql@\d+)$/.test(entry) || (parent === '/usr' && !entry.startsWith('pgsql-'))) continue;
      const path = join(bin(entry), 'pg_dump');
      if (existsSync(path)) paths.push(path);
    }
  }
  const found = (await Promise.all(paths.map(pgDumpVersion))).filter((dump): dump is PgDump => dump !== undefined);
  return found.sort((a, b) => b.major - a.major);
}

/** The outcome of one pg_dump call: the SQL, or why it could not dump. */
export type PgDumpResult = { readonly sql: string } | { readonly failure: string };

/**
 * The schema of a database as pg_dump writes it (--schema-only --no-owner --no-privileges), made
 * applicable by a plain connection: psql meta-commands and session timeouts (which an older server may
 * not know) are removed. pg_dump only reads; the password travels in its environment, never in its arguments.
 */
export async function dumpSchema(dump: PgDump, settings: ConnectionSettings): Promise<PgDumpResult> {
  const args = [
    '--schema-only',
    '--no-owner',
    '--no-privileges',
    '--no-tablespaces',
    '--no-publications',
    '--no-subscriptions',
    '--no-security-labels',
    '--lock-wait-timeout=10000',
    '--host', settings.host,
    '--port', String(settings.port),
    '--username', settings.user,
    '--dbname', settings.database,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, PGAPPNAME: 'pgconform-schema-from', PGCONNECT_TIMEOUT: '10' };
  delete env.PGPASSWORD;
  if (settings.password) env.PGPASSWORD = settings.password;
  try {
    const { stdout } = await run(dump.path, args, { env, timeout: 5 * 60 * 1000, maxBuffer: 256 * 1024 * 1024 });
    return { sql: applicableDump(stdout) };
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    const line = stderr.split('\n').find((l) => /error/i.test(l)) ?? stderr.split('\n')[0] ?? (error as Error).message;
    return { failure: redactUrl(line.replace(/^pg_dump:\s*(error:\s*)?/, '')) };
  }
}

/** Session settings a dump sets that are not needed to build a schema, and that older servers may not know. */
const DROPPED_SETTINGS = /^SET (statement_timeout|lock_timeout|idle_in_transaction_session_timeout|transaction_timeout) = [^;]*;$/;

/** A plain-format dump without psql meta-commands (\restrict, \connect) and session timeouts. */
export function applicableDump(sql: string): string {
  return sql
    .split('\n')
    .filter((line) => !/^\\(restrict|unrestrict|connect)\b/.test(line) && !DROPPED_SETTINGS.test(line))
    .join('\n');
}
