import { connect, describeSettings, type ConnectionSettings } from './connection.ts';
import { MIN_SERVER_VERSION } from './provider.ts';
import { KitError } from '../errors/kit-error.ts';

/** What the kit needs to know about a server before it creates anything on it. */
export interface ServerFacts {
  version: number;
  canCreateDatabases: boolean;
  isSuperuser: boolean;
}

/** Connects once and reads the facts; refuses servers older than the kit supports. */
export async function inspectServer(settings: ConnectionSettings): Promise<ServerFacts> {
  const client = await connect(settings, { applicationName: 'pgconform-inspect' });
  try {
    const { rows } = await client.query<{ version: string; createdb: boolean; superuser: boolean }>(
      `SELECT current_setting('server_version_num') AS version,
              r.rolcreatedb OR r.rolsuper AS createdb, r.rolsuper AS superuser
         FROM pg_roles r WHERE r.rolname = current_user`,
    );
    const row = rows[0];
    const facts: ServerFacts = {
      version: Number(row?.version ?? 0),
      canCreateDatabases: row?.createdb === true,
      isSuperuser: row?.superuser === true,
    };
    if (facts.version < MIN_SERVER_VERSION) {
      throw new KitError('infrastructure', `server version ${facts.version} is older than the kit supports (13)`, {
        where: describeSettings(settings),
        fix: 'use PostgreSQL 13 or newer',
      });
    }
    return facts;
  } finally {
    await client.end().catch(() => undefined);
  }
}
