import type { DatabaseProvider, StartedServer } from './provider.ts';
import { inspectServer } from './server-check.ts';
import { KitError } from '../errors/kit-error.ts';

/** The PostgreSQL image major version used when --pg-version is not given. Pinned here only. */
export const DEFAULT_CONTAINER_PG_VERSION = '16';

/** The image reference for a PostgreSQL major version (or a full image name). */
export function containerImage(version: string = DEFAULT_CONTAINER_PG_VERSION): string {
  if (version.includes('/') || version.includes(':')) return version;
  if (!/^\d+(\.\d+)?(-[a-z0-9.]+)?$/.test(version)) {
    throw new KitError('usage', `--pg-version "${version}" is not a PostgreSQL version`, { fix: 'e.g. --pg-version 16' });
  }
  return `postgres:${version}-alpine`;
}

/** A PostgreSQL server in a Docker container, through testcontainers' PostgreSQL module. */
export class ContainerProvider implements DatabaseProvider {
  readonly name = 'container' as const;
  readonly image: string;

  constructor(pgVersion?: string) {
    this.image = containerImage(pgVersion);
  }

  async start(): Promise<StartedServer> {
    const { PostgreSqlContainer } = await containerModule();
    let container;
    try {
      container = await new PostgreSqlContainer(this.image)
        .withDatabase('postgres')
        .withCommand(['postgres', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'])
        .start();
    } catch (error) {
      throw containerError(this.image, error);
    }
    const settings = {
      host: container.getHost(),
      port: container.getPort(),
      user: container.getUsername(),
      password: container.getPassword(),
      database: container.getDatabase(),
    };
    const facts = await inspectServer(settings);
    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= container.stop().then(() => undefined));
    return { provider: 'container', settings, serverVersion: facts.version, stop, [Symbol.asyncDispose]: stop };
  }
}

/** testcontainers is an optional peer dependency: only --docker needs it, and it is heavy. */
async function containerModule(): Promise<typeof import('@testcontainers/postgresql')> {
  try {
    return await import('@testcontainers/postgresql');
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new KitError('usage', '--docker needs the package @testcontainers/postgresql, which is not installed', {
      fix: 'npm install --save-dev @testcontainers/postgresql, or drop --docker to use the embedded server, or pass --url',
      cause: error,
    });
  }
}

/** One line for a container that could not start; names a missing Docker engine plainly. */
export function containerError(image: string, error: unknown): KitError {
  const message = error instanceof Error ? error.message : String(error);
  if (/container runtime strategy|docker\.sock|ENOENT|ECONNREFUSED|Cannot connect to the Docker daemon/i.test(message)) {
    return new KitError('infrastructure', 'no Docker engine answered, so --docker cannot start a PostgreSQL container', {
      fix: 'start Docker (or set DOCKER_HOST), or drop --docker to use the embedded server, or pass --url',
      cause: error,
    });
  }
  return new KitError('infrastructure', `the ${image} container did not start: ${message.split('\n')[0]}`, {
    fix: 'check the image name and that Docker can pull it',
    cause: error,
  });
}
