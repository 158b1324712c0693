import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { connect, quoteIdent, withDatabase, type ConnectionSettings } from './connection.ts';
import type { StartedServer } from './provider.ts';
import { applySchema, type SchemaFile } from './schema-source.ts';
import { isServerError } from './sql-failure.ts';
import { KitError } from '../errors/kit-error.ts';

/** Prefix of every database the kit creates; nothing else is ever written to. */
export const DATABASE_PREFIX = 'pgconform_';

const live = new Set<Sandbox>();

/** Sandboxes not yet disposed (so an interrupt can drop their databases). */
export function liveSandboxes(): readonly Sandbox[] {
  return [...live];
}

/**
 * A schema applied once to a template database, cloned into one database per worker.
 * Holds nothing worth keeping; dispose() drops every database it created.
 */
export class Sandbox implements AsyncDisposable {
  readonly id: string;
  readonly template: string;
  private readonly created: string[] = [];
  private workerCount = 0;
  private disposed = false;

  private constructor(
    readonly server: StartedServer,
    readonly schema: readonly SchemaFile[],
  ) {
    this.id = randomBytes(5).toString('hex');
    this.template = `${DATABASE_PREFIX}${this.id}_template`;
  }

  /** Creates the template database and applies the schema to it; on failure nothing is left behind. */
  static async create(server: StartedServer, schema: readonly SchemaFile[]): Promise<Sandbox> {
    const sandbox = new Sandbox(server, schema);
    live.add(sandbox);
    try {
      await sandbox.createDatabase(sandbox.template, 'template0');
      const client = await connect(sandbox.settingsFor(sandbox.template), { applicationName: 'pgconform-schema' });
      try {
        await applySchema(client, schema);
      } finally {
        await client.end().catch(() => undefined);
      }
    } catch (error) {
      await sandbox.dispose();
      throw error;
    }
    return sandbox;
  }

  /** Connection settings for one of this sandbox's databases. */
  settingsFor(database: string): ConnectionSettings {
    return withDatabase(this.server.settings, database);
  }

  /** A fresh database cloned from the template, for one worker. */
  async createWorkerDatabase(): Promise<ConnectionSettings> {
    const name = `${DATABASE_PREFIX}${this.id}_w${this.workerCount++}`;
    await this.createDatabase(name, this.template);
    return this.settingsFor(name);
  }

  /** Drops every database this sandbox created. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    live.delete(this);
    if (this.created.length === 0) return;
    const admin = await connect(this.server.settings, { applicationName: 'pgconform-admin' }).catch(() => undefined);
    if (!admin) return;
    try {
      for (const name of [...this.created].reverse()) await dropDatabase(admin, name, this.server.serverVersion);
    } finally {
      await admin.end().catch(() => undefined);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private async createDatabase(name: string, template: string): Promise<void> {
    const admin = await connect(this.server.settings, { applicationName: 'pgconform-admin' });
    try {
      // Record first: a CREATE that fails half way must still be cleaned up.
      this.created.push(name);
      await createDatabaseRetrying(admin, name, template);
    } catch (error) {
      if (isServerError(error) && error.code === '42501') {
        throw new KitError('infrastructure', `role "${this.server.settings.user}" may not create databases`, {
          fix: 'grant CREATEDB to the role, or use another one',
          cause: error,
        });
      }
      throw error;
    } finally {
      await admin.end().catch(() => undefined);
    }
  }
}

/** CREATE DATABASE … TEMPLATE fails while another session is still leaving the template; retry briefly. */
async function createDatabaseRetrying(admin: pg.Client, name: string, template: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
      return;
    } catch (error) {
      const busy = isServerError(error) && error.code === '55006';
      if (!busy || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Drops a database the kit created, ending any session still in it. */
export async function dropDatabase(admin: pg.Client, name: string, serverVersion: number): Promise<void> {
  if (!name.startsWith(DATABASE_PREFIX)) throw new Error(`refusing to drop ${name}: not a pgconform database`);
  const force = serverVersion >= 130000 ? ' WITH (FORCE)' : '';
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}${force}`).catch(() => undefined);
}
