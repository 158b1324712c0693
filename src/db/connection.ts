import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { KitError } from '../errors/kit-error.ts';

/** Where and as whom to connect. */
export interface ConnectionSettings {
  host: string;
  port: number;
  user: string;
  password?: string | undefined;
  database: string;
}

/** Parses a postgres:// URL into connection settings; PGPASSWORD fills a missing password. */
export function settingsFromUrl(url: string): ConnectionSettings {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new KitError('usage', `--url must be a postgresql:// URL, got "${redactUrl(url)}"`, {
      fix: 'e.g. --url postgresql://postgres@127.0.0.1:5432/postgres',
    });
  }
  const parsed = parseConnectionString(url);
  return {
    host: parsed.host || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 5432,
    user: parsed.user || process.env.PGUSER || 'postgres',
    password: parsed.password || process.env.PGPASSWORD || undefined,
    database: parsed.database || 'postgres',
  };
}

/** The same settings pointed at another database. */
export function withDatabase(settings: ConnectionSettings, database: string): ConnectionSettings {
  return { ...settings, database };
}

/** A URL for these settings, safe to print: the password is never included. */
export function describeSettings(settings: ConnectionSettings): string {
  return `postgresql://${encodeURIComponent(settings.user)}@${settings.host}:${settings.port}/${encodeURIComponent(settings.database)}`;
}

/** A URL for these settings with the password, for child processes only (never print it). */
export function settingsToUrl(settings: ConnectionSettings): string {
  const password = settings.password ? `:${encodeURIComponent(settings.password)}` : '';
  return `postgresql://${encodeURIComponent(settings.user)}${password}@${settings.host}:${settings.port}/${encodeURIComponent(settings.database)}`;
}

/** Removes the password from any postgres URL inside `text`. */
export function redactUrl(text: string): string {
  return text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]+):[^@\s]*@/g, '$1:***@');
}

/** Session settings every sandbox connection gets: a sandbox holds nothing worth keeping. */
const SANDBOX_SESSION = {
  statement_timeout: 10_000,
  lock_timeout: 0,
  idle_in_transaction_session_timeout: 60_000,
};

/** Opens one node-postgres client with sandbox session settings. */
export async function connect(
  settings: ConnectionSettings,
  options: { applicationName?: string; statementTimeoutMs?: number } = {},
): Promise<pg.Client> {
  const client = new pg.Client({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    application_name: options.applicationName ?? 'pgconform',
    statement_timeout: options.statementTimeoutMs ?? SANDBOX_SESSION.statement_timeout,
    idle_in_transaction_session_timeout: SANDBOX_SESSION.idle_in_transaction_session_timeout,
    connectionTimeoutMillis: 10_000,
  });
  // A dropped connection must surface as a failed query, not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw connectionError(settings, error);
  }
  await client.query('SET synchronous_commit = off');
  return client;
}

/** Turns a failure to connect into one line that says what to check. */
export function connectionError(settings: ConnectionSettings, error: unknown): KitError {
  const where = describeSettings(settings);
  const code = (error as { code?: string }).code;
  const message = redactUrl(error instanceof Error ? error.message : String(error));
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') {
    return new KitError('infrastructure', `cannot reach the PostgreSQL server (${code})`, {
      where,
      fix: 'check the host and port, and that the server is running',
      cause: error,
    });
  }
  if (code === '28P01' || code === '28000') {
    return new KitError('infrastructure', `the server refused the login: ${message}`, {
      where,
      fix: 'check the user and password (PGPASSWORD or the URL)',
      cause: error,
    });
  }
  if (code === '3D000') {
    return new KitError('infrastructure', `the database does not exist: ${message}`, { where, cause: error });
  }
  return new KitError('infrastructure', `cannot connect: ${message}`, { where, cause: error });
}

/** Quotes an identifier for SQL (always, whatever it looks like). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a possibly schema-qualified name, every part: `a.b` → `"a"."b"`, `my "t"` → `"my ""t"""`. */
export function quoteQualified(name: string): string {
  return name.split('.').map(quoteIdent).join('.');
}
