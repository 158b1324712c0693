// Issue 8: bad input, faults and interrupts, nothing written outside the sandbox, no secrets in output.
// Every case is provoked for real: a real CLI process, real servers, real signals.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { settingsFromUrl, settingsToUrl } from '../src/db/connection.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'pgconform.js');
// Spec files must live inside the package so that `import … from 'pgconform'` resolves, as in a user's project.
const SPECS = mkdtempSync(join(ROOT, 'test', '.tmp-specs-'));
afterAll(() => rmSync(SPECS, { recursive: true, force: true }));

function pgconform(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATABASE_URL: '', ...env }, timeout: 180_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'pgconform-hardening-'));
}

function schemaFile(sql: string): string {
  const file = join(tempDir(), 'schema.sql');
  writeFileSync(file, sql);
  return file;
}

const ACCESS_REQUESTS = `CREATE TABLE access_requests (
  id uuid PRIMARY KEY, organization_id uuid NOT NULL, user_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'DENIED')),
  created_at timestamptz NOT NULL DEFAULT now(), resolved_at timestamptz);
CREATE UNIQUE INDEX ON access_requests (organization_id, user_id) WHERE status = 'PENDING';`;

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

const kitDatabases = async (url: string) => (await query<{ datname: string }>(url, "SELECT datname FROM pg_database WHERE datname LIKE 'pgconform\\_%'")).map((r) => r.datname);
const embeddedLeftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith('pgconform-pg-')).sort();
const serverProcesses = () => spawnSync('pgrep', ['-f', 'pgconform-pg-'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).sort();

describe('bad input: one line, exit 2, no stack trace', () => {
  it('a spec that does not compile', () => {
    const file = join(SPECS, 'broken-syntax.ts');
    writeFileSync(file, "import { scopedUnique } from 'pgconform';\nexport default scopedUnique({ id: 'x', \n");
    const run = pgconform(['run', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/broken-syntax\.ts: the spec does not load: .*\(fix the spec file/);
    expect(run.stderr.trim().split('\n').filter((l) => l.startsWith('pgconform:'))).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a spec that exports no rule', () => {
    const file = join(SPECS, 'no-rule.ts');
    writeFileSync(file, 'export const nothing = 1;\n');
    const run = pgconform(['run', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no-rule\.ts: the spec exports no rule \(export default a rule built with a template/);
  });

  it('a stack trace only with --debug', () => {
    const file = join(SPECS, 'throws.ts');
    writeFileSync(file, "throw new Error('spec blew up');\n");
    expect(pgconform(['run', file]).stderr).not.toMatch(/\n\s+at /);
    expect(pgconform(['run', file, '--debug']).stderr).toMatch(/\n\s+at /);
  });
});

describe('a reader that stops early', () => {
  it('pgconform list | head: the closed pipe ends the output quietly, exit 0, no stack trace', async () => {
    const child = spawn(process.execPath, [BIN, 'list'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: '' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Read nothing: close our end at once, as head does after its lines.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
    expect(code).toBe(0);
  }, 120_000);
});

describe('faults during a run: an infrastructure error (exit 3), never a verdict; partial report; nothing left behind', () => {
  it('the embedded server killed mid-run', async () => {
    const dirs = embeddedLeftovers();
    const before = serverProcesses();
    const reportDir = tempDir();
    const child = spawn(process.execPath, [BIN, 'run', 'one-pending-request', '--schema', 'fixtures/one-pending-request/reference.sql', '--runs', '1000000', '--seed', '1', '--report-dir', reportDir, '--quiet'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: '' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // Wait until the run's own server is up and working, then kill its postmaster.
    let postmaster: string | undefined;
    for (let i = 0; i < 100 && !postmaster; i++) {
      await new Promise((r) => setTimeout(r, 100));
      postmaster = spawnSync('pgrep', ['-f', 'postgres -D /tmp/pgconform-pg-'], { encoding: 'utf8' }).stdout.trim().split('\n').find((pid) => pid && !before.includes(pid));
    }
    if (!postmaster) child.kill('SIGKILL');
    expect(postmaster).toBeDefined();
    await new Promise((r) => setTimeout(r, 2_000));
    process.kill(Number(postmaster), 'SIGKILL');
    // Never leave the run behind, even when an assertion below fails.
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(guard);
    expect(code, stderr).toBe(3);
    const report = JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8'));
    expect(report.rules[0].verdict).toBe('error');
    expect(report.exitCode).toBe(3);
    await new Promise((r) => setTimeout(r, 500));
    expect(embeddedLeftovers()).toEqual(dirs);
    expect(serverProcesses()).toEqual(before);
  });

  it('a connection reset under a session', () => {
    const url = inject('embeddedUrl');
    const schema = schemaFile(`${ACCESS_REQUESTS}
      CREATE FUNCTION reset_me() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$;
      CREATE TRIGGER reset_me BEFORE INSERT ON access_requests FOR EACH ROW EXECUTE FUNCTION reset_me();`);
    const reportDir = tempDir();
    const run = pgconform(['run', 'one-pending-request', '--url', url, '--schema', schema, '--seed', '1', '--report-dir', reportDir]);
    expect(run.code, run.stderr).toBe(3);
    const report = JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8'));
    expect(report.rules[0].verdict).toBe('error');
    expect(report.rules[0].checks[0].error).toMatch(/57P01|terminat|connection/i);
  });

  it('a statement that hits its timeout', async () => {
    const url = inject('embeddedUrl');
    const before = await kitDatabases(url);
    const schema = schemaFile(`${ACCESS_REQUESTS}
      CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(2); RETURN NEW; END $$;
      CREATE TRIGGER slow BEFORE INSERT ON access_requests FOR EACH ROW EXECUTE FUNCTION slow();`);
    const reportDir = tempDir();
    const run = pgconform(['run', 'one-pending-request', '--url', url, '--schema', schema, '--statement-timeout', '200', '--report-dir', reportDir]);
    expect(run.code, run.stderr).toBe(3);
    const report = JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8'));
    expect(report.rules[0].checks[0].error).toMatch(/57014|statement timeout/);
    expect(await kitDatabases(url)).toEqual(before);
  });
});

describe('interrupts: stop within five seconds, drop every database, stop the server, write the partial report', () => {
  const interrupt = async (signal: NodeJS.Signals, args: string[]) => {
    const reportDir = tempDir();
    const child = spawn(process.execPath, [BIN, 'run', ...args, '--runs', '1000000', '--report-dir', reportDir, '--quiet'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: '' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise((r) => setTimeout(r, 5_000));
    const sent = performance.now();
    child.kill(signal);
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(guard);
    return { code, seconds: (performance.now() - sent) / 1000, stderr, reportDir };
  };

  it('SIGINT on a url run: the kit drops the databases it created', async () => {
    const url = inject('localUrl') || inject('embeddedUrl');
    const before = await kitDatabases(url);
    const result = await interrupt('SIGINT', ['one-pending-request', '--url', url, '--schema', 'fixtures/one-pending-request/reference.sql']);
    expect(result.seconds).toBeLessThan(5);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/SIGINT received/);
    expect(await kitDatabases(url)).toEqual(before);
    const report = JSON.parse(readFileSync(join(result.reportDir, 'report.json'), 'utf8'));
    expect(report.error).toMatch(/interrupted: SIGINT/);
  });

  it('SIGTERM on the embedded default: the server stops and its directory goes', async () => {
    const dirs = embeddedLeftovers();
    const before = serverProcesses();
    const result = await interrupt('SIGTERM', ['one-pending-request', '--schema', 'fixtures/one-pending-request/reference.sql']);
    expect(result.seconds).toBeLessThan(5);
    expect(result.code, result.stderr).toBe(3);
    expect(existsSync(join(result.reportDir, 'report.json'))).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(embeddedLeftovers()).toEqual(dirs);
    expect(serverProcesses()).toEqual(before);
  });
});

describe('nothing written outside the sandbox', () => {
  it('the database in --url keeps every table checksum and every object', async () => {
    const server = inject('localUrl') || inject('embeddedUrl');
    const name = `guarded_${process.pid}`;
    await query(server, `CREATE DATABASE ${name}`);
    const url = settingsToUrl({ ...settingsFromUrl(server), database: name });
    try {
      await query(url, `${ACCESS_REQUESTS}
        INSERT INTO access_requests (id, organization_id, user_id, status)
        SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'APPROVED' FROM generate_series(1, 50);
        CREATE TABLE tenants (id uuid PRIMARY KEY, name text NOT NULL); INSERT INTO tenants VALUES (gen_random_uuid(), 'kept');`);
      const fingerprint = async () => ({
        objects: await query(url, "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1"),
        functions: await query(url, "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1"),
        checksums: await query(url, "SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM access_requests t) AS a, (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM tenants t) AS b"),
      });
      const before = await fingerprint();
      const run = pgconform(['run', 'one-pending-request', 'one-primary-provider', '--url', url, '--seed', '1', '--runs', '50', '--report-dir', tempDir()]);
      expect(run.code, run.stderr).toBe(1);
      expect(await fingerprint()).toEqual(before);
    } finally {
      await query(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  });

  it('quotes identifiers: a table whose name has a quote and a space', () => {
    const file = join(SPECS, 'quoted.ts');
    writeFileSync(file, `import { eq, idPool, scopedUnique, valuePool } from 'pgconform';
export default scopedUnique({
  id: 'quoted-table',
  title: 'one pending request, in a table with an awkward name',
  source: 'test',
  table: 'access "requests" log',
  primaryKey: { column: 'request id', pool: idPool('request', 4) },
  columns: { organization_id: idPool('org', 2), user_id: idPool('user', 2), "status's": valuePool('status', ['PENDING', 'APPROVED']) },
  unique: [{ key: ['organization_id', 'user_id'], where: eq("status's", 'PENDING') }],
});
`);
    const good = schemaFile(`CREATE TABLE "access ""requests"" log" ("request id" uuid PRIMARY KEY, organization_id uuid NOT NULL, user_id uuid NOT NULL, "status's" text NOT NULL);
      CREATE UNIQUE INDEX ON "access ""requests"" log" (organization_id, user_id) WHERE "status's" = 'PENDING';`);
    const bad = schemaFile(`CREATE TABLE "access ""requests"" log" ("request id" uuid PRIMARY KEY, organization_id uuid NOT NULL, user_id uuid NOT NULL, "status's" text NOT NULL);`);
    const url = inject('embeddedUrl');
    expect(pgconform(['run', file, '--url', url, '--schema', good, '--seed', '1', '--runs', '50', '--report-dir', tempDir()]).code).toBe(0);
    expect(pgconform(['run', file, '--url', url, '--schema', bad, '--seed', '1', '--runs', '50', '--report-dir', tempDir()]).code).toBe(1);
  });
});

describe('no secrets in output', () => {
  it('a password in the URL or in PGPASSWORD never appears in reports, logs or error lines', () => {
    const url = settingsToUrl({ ...settingsFromUrl(inject('embeddedUrl')) });
    const password = settingsFromUrl(url).password!;
    const reportDir = tempDir();
    mkdirSync(reportDir, { recursive: true });
    const withUrl = pgconform(['run', 'one-pending-request', '--url', url, '--seed', '1', '--runs', '20', '--report-dir', reportDir, '--debug']);
    const noPasswordUrl = settingsToUrl({ ...settingsFromUrl(url), password: undefined });
    const withEnv = pgconform(['run', 'one-pending-request', '--url', noPasswordUrl, '--seed', '1', '--runs', '20', '--report-dir', reportDir], { PGPASSWORD: password });
    const refused = pgconform(['run', 'one-pending-request', '--url', settingsToUrl({ ...settingsFromUrl(url), password: 'Sekrit-Pw-1' })]);
    expect(withUrl.code).toBe(1);
    expect(withEnv.code).toBe(1);
    expect(refused.code).toBe(3);
    const files = readdirSync(reportDir).map((f) => readFileSync(join(reportDir, f), 'utf8'));
    for (const text of [withUrl.stdout, withUrl.stderr, withEnv.stdout, withEnv.stderr, ...files]) expect(text).not.toContain(password);
    expect(refused.stderr + refused.stdout).not.toContain('Sekrit-Pw-1');
  });
});

describe('a server older than the kit supports', () => {
  it('is refused with one line and exit 3 (a real PostgreSQL 12)', async () => {
    const { initdb, postgres } = (await import('postgres12-binaries')) as { initdb: string; postgres: string };
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-pg12-'));
    // PostgreSQL will not run as root: run it as the postgres user, as the embedded provider does.
    const asUser = process.getuid?.() === 0 ? { uid: Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout), gid: Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout) } : {};
    if ('uid' in asUser) spawnSync('chown', [`${asUser.uid}:${asUser.gid}`, dir]);
    const data = join(dir, 'data');
    const init = spawnSync(initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync'], { ...asUser, encoding: 'utf8' });
    expect(init.status, init.stderr).toBe(0);
    const { freePort } = await import('../src/db/embedded-provider.ts');
    const port = await freePort();
    const server = spawn(postgres, ['-D', data, '-p', String(port), '-c', `unix_socket_directories=${dir}`, '-c', 'listen_addresses=127.0.0.1'], { ...asUser, stdio: 'ignore' });
    try {
      let ready = false;
      for (let i = 0; i < 100 && !ready; i++) {
        await new Promise((r) => setTimeout(r, 100));
        ready = await query(`postgresql://postgres@127.0.0.1:${port}/postgres`, 'SELECT 1').then(() => true, () => false);
      }
      expect(ready).toBe(true);
      const run = pgconform(['run', 'one-pending-request', '--url', `postgresql://postgres@127.0.0.1:${port}/postgres`]);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/server version 12\d{4} is older than the kit supports \(13\) \(use PostgreSQL 13 or newer\)/);
      expect(run.stderr.trim().split('\n').filter((l) => l.startsWith('pgconform:'))).toHaveLength(1);
    } finally {
      server.kill('SIGINT');
      await new Promise((resolve) => server.on('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
