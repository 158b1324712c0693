// The CLI as users run it: a real process, real servers, every documented exit code provoked for real. The commands'
// own behaviour (list, replay, report, export) runs in-process: the same main(), without a process start each.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../src/db/embedded-provider.ts';
import { reportSchema } from '../src/report/report-document.ts';
import { pgconform as inProcess } from './cli-run.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'pgconform.js');

function pgconform(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: '', ...env },
    timeout: 180_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function databases(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ datname: string }>('SELECT datname FROM pg_database ORDER BY 1')).rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

const reportDir = () => mkdtempSync(join(tmpdir(), 'pgconform-report-'));

describe('pgconform CLI', () => {
  it('exit 2 and one line for a bad option value', () => {
    const run = pgconform(['run', '--runs', 'zero']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exit 2 for an unknown rule id, naming the known ones', () => {
    const run = pgconform(['run', 'no-such-rule']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown rule id "no-such-rule".*one-pending-request/);
  });

  it('exit 2 for a schema that does not apply, naming file and line', () => {
    const dir = reportDir();
    const schema = join(dir, 'broken.sql');
    writeFileSync(schema, 'CREATE TABLE a (id int);\n\nCREAT TABLE b (id int);\n');
    const run = pgconform(['run', 'one-pending-request', '--url', inject('localUrl') || inject('embeddedUrl'), '--schema', schema, '--report-dir', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/broken\.sql:3: the schema does not apply: syntax error at or near "CREAT"/);
  });

  it('exit 3 for an unreachable server', async () => {
    const port = await freePort();
    const run = pgconform(['run', 'one-pending-request', '--url', `postgresql://postgres:secret-pw@127.0.0.1:${port}/postgres`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/cannot reach the PostgreSQL server/);
    expect(run.stderr + run.stdout).not.toContain('secret-pw');
  });

  it('exit 3 with a plain sentence when --docker finds no Docker engine', () => {
    const run = pgconform(['run', 'one-pending-request', '--docker'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/no Docker engine answered/);
  });

  it('exit 1 for a failing rule, and the server keeps exactly its databases (url provider)', async () => {
    const url = inject('localUrl') || inject('embeddedUrl');
    const before = await databases(url);
    const dir = reportDir();
    const run = pgconform(['run', 'one-pending-request', '--url', url, '--seed', '1', '--runs', '100', '--report-dir', dir]);
    expect(run.code, run.stderr).toBe(1);
    expect(await databases(url)).toEqual(before);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.rules.map((r: { id: string; verdict: string }) => [r.id, r.verdict])).toEqual([['one-pending-request', 'over-restrictive']]);
    expect(run.stdout).toMatch(/replay: npx pgconform replay/);
  });

  it('exit 0 when every rule holds', () => {
    const dir = reportDir();
    const run = pgconform([
      'run', 'one-pending-request', '--url', inject('embeddedUrl'), '--schema', 'fixtures/one-pending-request/reference.sql', '--seed', '2', '--runs', '50', '--report-dir', dir,
    ]);
    expect(run.code, run.stderr).toBe(0);
  });

  it('runs on the embedded default: starts, reports, stops, and leaves no process or temporary directory', () => {
    const leftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith('pgconform-pg-'));
    // The suite's own embedded server is running too: compare before and after.
    const servers = () => spawnSync('pgrep', ['-f', 'pgconform-pg-'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).sort();
    const before = leftovers();
    const serversBefore = servers();
    const dir = reportDir();
    const run = pgconform(['run', 'super-admin-tenant-strict', '--seed', '1', '--runs', '20', '--report-dir', dir]);
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.server.provider).toBe('embedded');
    expect(report.rules[0]).toMatchObject({ id: 'super-admin-tenant-strict', verdict: 'violation' });
    expect(leftovers()).toEqual(before);
    expect(servers()).toEqual(serversBefore);
  });

  it.runIf(process.getuid?.() === 0)('runs on the embedded default as an ordinary user too (not only as root)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-asuser-'));
    chmodSync(dir, 0o777);
    const run = spawnSync('runuser', ['-u', 'postgres', '--', process.execPath, BIN, 'run', 'super-admin-tenant-strict', '--seed', '1', '--runs', '20', '--report-dir', dir, '--quiet'], {
      cwd: join(import.meta.dirname, '..'),
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: '', HOME: dir },
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(1);
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).server.provider).toBe('embedded');
  });

  it('list shows the thirteen rule ids (the seeds\' eight, the five field rules) with description and source', async () => {
    const run = await inProcess(['list']);
    expect(run.code).toBe(0);
    const ids = run.stdout.trim().split('\n').map((line) => line.split(/\s+/)[0]);
    expect(ids.sort()).toEqual([
      'balance-never-negative', 'comment-count-matches', 'email-unique-per-tenant', 'no-overlapping-bookings', 'one-active-membership',
      'one-pending-request', 'one-primary-provider', 'one-tenant-per-user', 'order-status-transitions', 'profile-requires-membership',
      'seat-limit', 'super-admin-tenant', 'super-admin-tenant-strict',
    ]);
    expect(run.stdout).toMatch(/\(seed 00\d\)/);
    expect(run.stdout).toMatch(/\(field rule 1\d\)/);
  });

  it('list leaves out the source of a spec that names none (a JavaScript spec is not type-checked)', async () => {
    // Inside the package, so that the spec's `import … from 'pgconform'` resolves as in a user's project.
    const dir = mkdtempSync(join(import.meta.dirname, '.tmp-list-'));
    try {
      const file = join(dir, 'no-source.mjs');
      writeFileSync(file, `import { idPool, scopedUnique, valuePool } from 'pgconform';
export default scopedUnique({
  id: 'no-source', title: 'one row per code', table: 'codes',
  primaryKey: { column: 'id', pool: idPool('code', 2) }, columns: { code: valuePool('code', ['a', 'b']) }, unique: [{ key: ['code'] }],
});
`);
      const run = await inProcess(['list', file]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^no-source\s+one row per code — /);
      expect(run.stdout).not.toMatch(/undefined|\(\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replay executes a saved counterexample again and exits 1 when it reproduces', async () => {
    const url = inject('embeddedUrl');
    const dir = reportDir();
    const first = await inProcess(['run', 'one-pending-request', '--url', url, '--seed', '1', '--report-dir', dir]);
    expect(first.code).toBe(1);
    const replay = await inProcess(['replay', join(dir, 'report.json'), '--url', url]);
    expect(replay.code, replay.stderr).toBe(1);
    expect(replay.stdout).toMatch(/reproduced: over-restrictive/);
    const sql = await inProcess(['replay', join(dir, 'report.json'), '--sql']);
    expect(sql.code).toBe(0);
    expect(sql.stdout).toMatch(/INSERT INTO "access_requests"/);
    expect(existsSync(join(dir, 'report.json'))).toBe(true);
  });

  it('replay --sql starts with the setup rows, so that psql on the schema replays the counterexample without a foreign-key error', async () => {
    const url = inject('localUrl') || inject('embeddedUrl');
    const dir = reportDir();
    // A broken design of email-unique-per-tenant, whose steps refer to the tenants its setup inserts.
    const schema = 'fixtures/email-unique-per-tenant/mutants/per-tenant-index-without-tenant-column.sql';
    expect((await inProcess(['run', 'email-unique-per-tenant', '--schema', schema, '--url', url, '--seed', '1', '--report-dir', dir])).code).toBe(1);
    const sql = await inProcess(['replay', join(dir, 'report.json'), '--sql']);
    expect(sql.code, sql.stderr).toBe(0);
    expect(sql.stdout).toMatch(/^-- setup, in any session\nINSERT INTO/m);
    expect(sql.stdout).toMatch(/-- then the rows that break the rule:\n[\s\S]*SELECT/);
    const script = join(dir, 'replay.sql');
    writeFileSync(script, sql.stdout);
    const database = `pgconform_replay_${process.pid}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${database}`);
      const target = url.replace(/\/[^/?]*(\?|$)/, `/${database}$1`);
      const psql = (file: string) => spawnSync('psql', ['-X', '-q', '-d', target, '-f', file], { encoding: 'utf8' });
      expect(psql(schema).status).toBe(0);
      const replayed = psql(script);
      expect(replayed.status, replayed.stderr).toBe(0);
      expect(replayed.stderr).not.toMatch(/foreign key|does not exist/);
      // The counterexample itself shows: the refused step (over-restrictive) or the offending rows (violation).
      expect(replayed.stderr + replayed.stdout).toMatch(/duplicate key value|\(\d+ rows?\)/);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    }
  });

  it('writes a report.json that validates against the versioned schema, and replay rejects one that does not (exit 2)', async () => {
    const dir = reportDir();
    expect((await inProcess(['run', 'one-pending-request', '--url', inject('embeddedUrl'), '--seed', '1', '--report-dir', dir])).code).toBe(1);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(reportSchema.safeParse(report).success).toBe(true);
    expect(report.schemaVersion).toBe(1);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ ...report, schemaVersion: 99 }));
    const replay = await inProcess(['replay', broken]);
    expect(replay.code).toBe(2);
    expect(replay.stderr).toMatch(/does not match schema version 1 at schemaVersion/);
  });

  it('exports a counterexample as an isolation-tester spec and as a vitest regression test', async () => {
    const dir = reportDir();
    expect((await inProcess(['run', 'one-pending-request', '--url', inject('embeddedUrl'), '--seed', '1', '--report-dir', dir])).code).toBe(1);
    const spec = join(dir, 'race.spec');
    expect((await inProcess(['replay', join(dir, 'report.json'), '--export', 'isolation', '--out', spec])).code).toBe(0);
    const text = readFileSync(spec, 'utf8');
    expect(text).toMatch(/^setup$/m);
    expect(text).toMatch(/^session s1$/m);
    expect(text).toMatch(/^permutation /m);
    const vitest = await inProcess(['replay', join(dir, 'report.json'), '--export', 'vitest']);
    expect(vitest.code).toBe(0);
    expect(vitest.stdout).toMatch(/from 'vitest'/);
  });

  it('exports several counterexamples as one isolation-tester spec each, into a folder, and each runs in isolationtester', async () => {
    const url = inject('localUrl') || inject('embeddedUrl');
    const dir = reportDir();
    const run = await inProcess(['run', 'one-pending-request', '--url', url, '--seed', '1', '--isolation', 'read-committed', 'repeatable-read', '--report-dir', dir]);
    expect(run.code).toBe(1);
    // One file cannot hold two specs: the user is told to give a folder or to choose.
    const intoFile = await inProcess(['replay', join(dir, 'report.json'), '--export', 'isolation', '--out', join(dir, 'both.spec')]);
    expect(intoFile.code).toBe(2);
    expect(intoFile.stderr).toMatch(/an isolation-tester spec holds one \(pass --out a folder/);
    const folder = join(dir, 'specs') + '/';
    expect((await inProcess(['replay', join(dir, 'report.json'), '--export', 'isolation', '--out', folder])).code).toBe(0);
    const specs = readdirSync(folder).sort();
    expect(specs).toEqual(['one-pending-request-read-committed.spec', 'one-pending-request-repeatable-read.spec']);
    const tester = ['17', '16', '15'].map((v) => `/usr/lib/postgresql/${v}/lib/pgxs/src/test/isolation/isolationtester`).find((file) => existsSync(file));
    if (!tester || !inject('localUrl')) return;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      for (const spec of specs) {
        const database = `pgconform_iso_${process.pid}_${specs.indexOf(spec)}`;
        await admin.query(`CREATE DATABASE ${database}`);
        try {
          const result = spawnSync(tester, [url.replace(/\/[^/?]*(\?|$)/, `/${database}$1`)], { input: readFileSync(join(folder, spec)), encoding: 'utf8', timeout: 60_000 });
          expect(result.status, result.stdout + result.stderr).toBe(0);
          expect(result.stdout).toContain('starting permutation:');
        } finally {
          await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
        }
      }
    } finally {
      await admin.end();
    }
  });
});
