import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { connect, quoteIdent, withDatabase, type ConnectionSettings } from './connection.ts';
import type { StartedServer } from './provider.ts';
import type { SchemaFile } from './schema-source.ts';
import { isServerError } from './sql-failure.ts';
import { forgetContents, readTemplateContents, rememberContents, type TemplateContents } from './template-contents.ts';
import { KitError } from '../errors/kit-error.ts';
import { schemaFiles, type SchemaSource } from '../source/schema-source.ts';

/** Prefix of every database the kit creates; nothing else is ever written to. */
export const DATABASE_PREFIX = 'pgconform_';

const live = new Set<Sandbox>();

/**
 * Statement timeout of the admin connection that creates and drops databases. DROP DATABASE waits for a
 * checkpoint (and CREATE … TEMPLATE copies every file): after a long run on a large schema that can take
 * longer than the sandbox's usual 10 s, and a cancelled DROP leaves the database behind.
 */
const ADMIN_TIMEOUT_MS = 300_000;

/** A database the kit created and could not drop, and why. */
export interface LeftoverDatabase {
  readonly name: string;
  readonly reason: string;
}

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
  /** Databases dispose() could not drop (empty when it dropped them all). */
  readonly leftovers: LeftoverDatabase[] = [];
  private applied: readonly SchemaFile[] = [];
  /** What the schema put in the template (seeded rows, sequence states), read before the first clone. */
  private contents: TemplateContents | undefined;

  private constructor(
    readonly server: StartedServer,
    /** Where the schema came from; its labels name the schema in reports. */
    readonly source: SchemaSource,
  ) {
    this.id = randomBytes(5).toString('hex');
    this.template = `${DATABASE_PREFIX}${this.id}_template`;
  }

  /** The SQL files applied to the template (none when a migration tool built the schema). */
  get schema(): readonly SchemaFile[] {
    return this.applied;
  }

  /**
   * Creates the template database and builds the schema in it: SQL files applied in order, or any
   * SchemaSource (a migration command, a copied live schema). On failure nothing is left behind.
   * With `from`, the template starts as a copy of another sandbox's template and the schema is built on
   * top of it (a mutant's one statement on the original schema, which is then never built again).
   */
  static async create(server: StartedServer, schema: readonly SchemaFile[] | SchemaSource, options: { from?: Sandbox } = {}): Promise<Sandbox> {
    const sandbox = new Sandbox(server, isFileList(schema) ? schemaFiles(schema) : schema);
    live.add(sandbox);
    try {
      await sandbox.createDatabase(sandbox.template, options.from?.template ?? 'template0');
      const settings = sandbox.settingsFor(sandbox.template);
      const client = await connect(settings, { applicationName: 'pgconform-schema' });
      try {
        sandbox.applied = await sandbox.source.build({ settings, client });
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

  /** A fresh database cloned from the template, for one worker; its reset returns to the template's contents. */
  async createWorkerDatabase(): Promise<ConnectionSettings> {
    if (this.disposed) throw new Error('the sandbox was disposed: no more worker databases');
    const contents = (this.contents ??= await this.readContents());
    const name = `${DATABASE_PREFIX}${this.id}_w${this.workerCount++}`;
    await this.createDatabase(name, this.template);
    // Disposed while the CREATE ran (an interrupt): the drop may have missed it, so drop it now.
    if (this.disposed) {
      await this.dropCreated([name]);
      throw new Error('the sandbox was disposed: no more worker databases');
    }
    const settings = this.settingsFor(name);
    rememberContents(settings, contents);
    return settings;
  }

  private async readContents(): Promise<TemplateContents> {
    const client = await connect(this.settingsFor(this.template), { applicationName: 'pgconform-schema' });
    try {
      return await readTemplateContents(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Drops every database this sandbox created; those it cannot drop are listed in `leftovers`. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    live.delete(this);
    for (const name of this.created) forgetContents(this.settingsFor(name));
    await this.dropCreated([...this.created].reverse());
  }

  private async dropCreated(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    let admin: pg.Client;
    try {
      admin = await connectRetrying(this.server.settings);
    } catch (error) {
      for (const name of names) this.leftovers.push({ name, reason: (error as Error).message });
      return;
    }
    try {
      for (const name of names) {
        try {
          await dropDatabase(admin, name, this.server.serverVersion);
        } catch (error) {
          this.leftovers.push({ name, reason: (error as Error).message });
        }
      }
    } finally {
      await admin.end().catch(() => undefined);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private async createDatabase(name: string, template: string): Promise<void> {
    const admin = await connect(this.server.settings, { applicationName: 'pgconform-admin', statementTimeoutMs: ADMIN_TIMEOUT_MS });
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

function isFileList(schema: readonly SchemaFile[] | SchemaSource): schema is readonly SchemaFile[] {
  return Array.isArray(schema);
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

/** The admin connection of a drop: retried while the server is out of connection slots (ours are still closing). */
async function connectRetrying(settings: ConnectionSettings): Promise<pg.Client> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connect(settings, { applicationName: 'pgconform-admin', statementTimeoutMs: ADMIN_TIMEOUT_MS });
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Drops a database the kit created, ending any session still in it. A database still in use (a session
 * that outlived FORCE) is retried briefly; any other failure is thrown, never swallowed: a database
 * silently left behind is the one thing the kit promises never to do.
 */
export async function dropDatabase(admin: pg.Client, name: string, serverVersion: number): Promise<void> {
  if (!name.startsWith(DATABASE_PREFIX)) throw new Error(`refusing to drop ${name}: not a pgconform database`);
  const force = serverVersion >= 130000 ? ' WITH (FORCE)' : '';
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}${force}`);
      return;
    } catch (error) {
      const inUse = isServerError(error) && error.code === '55006';
      if (!inUse || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
