// Providers on real servers: what a user sees when the role, the server or Docker is not right.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { settingsFromUrl, settingsToUrl } from '../../src/db/connection.ts';
import { ContainerProvider, containerError, containerImage } from '../../src/db/container-provider.ts';
import { chooseProvider } from '../../src/db/provider-choice.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { isKitError } from '../../src/errors/kit-error.ts';

describe('url provider', () => {
  const role = `pgconform_nocreatedb_${process.pid}`;
  let admin: pg.Client;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: inject('embeddedUrl') });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw' NOCREATEDB`);
  });
  afterAll(async () => {
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('refuses a role without CREATEDB with one line that says so (exit 3)', async () => {
    const url = settingsToUrl({ ...settingsFromUrl(inject('embeddedUrl')), user: role, password: 'pw' });
    const error = await new UrlProvider(url).start().catch((e: unknown) => e);
    expect(isKitError(error)).toBe(true);
    if (!isKitError(error)) return;
    expect(error.exitCode).toBe(3);
    expect(error.toLine()).toMatch(new RegExp(`role "${role}" may not create databases.*CREATEDB`));
    expect(error.toLine()).not.toContain(':pw@');
  });

  it('refuses a wrong password (exit 3) without printing it', async () => {
    const url = settingsToUrl({ ...settingsFromUrl(inject('embeddedUrl')), password: 'wrong-secret' });
    const error = await new UrlProvider(url).start().catch((e: unknown) => e);
    expect(isKitError(error) && error.exitCode).toBe(3);
    expect(isKitError(error) && error.toLine()).toMatch(/refused the login/);
    expect(String(isKitError(error) && error.toLine())).not.toContain('wrong-secret');
  });
});

describe('container provider', () => {
  it('pins the image in one place and takes --pg-version', () => {
    expect(containerImage()).toMatch(/^postgres:\d+-alpine$/);
    expect(containerImage('15')).toBe('postgres:15-alpine');
    expect(new ContainerProvider('14').image).toBe('postgres:14-alpine');
    expect(() => containerImage('fifteen')).toThrow(/not a PostgreSQL version/);
  });

  it('says plainly that Docker is missing when no engine answers', async () => {
    const previous = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    try {
      const error = await new ContainerProvider('16').start().catch((e: unknown) => e);
      expect(isKitError(error) && error.exitCode).toBe(3);
      expect(isKitError(error) && error.toLine()).toMatch(/no Docker engine answered/);
    } finally {
      if (previous === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = previous;
    }
  });

  it('names other container failures with the image', () => {
    expect(containerError('postgres:16-alpine', new Error('pull access denied')).toLine()).toMatch(/postgres:16-alpine container did not start/);
  });
});

describe('provider choice', () => {
  it('url from --url or DATABASE_URL, container from --docker, embedded otherwise', () => {
    expect(chooseProvider({ url: 'postgresql://u@h/db' }, {}).name).toBe('url');
    expect(chooseProvider({}, { DATABASE_URL: 'postgresql://u@h/db' }).name).toBe('url');
    expect(chooseProvider({ docker: true }, {}).name).toBe('container');
    expect(chooseProvider({}, {}).name).toBe('embedded');
    expect(() => chooseProvider({ url: 'postgresql://u@h/db', docker: true }, {})).toThrow(/exclude each other/);
  });
});
