// Issue 13: runs left pgconform_<id>_wNN databases behind. A DROP DATABASE that takes longer than the
// sandbox's 10 s statement timeout (it waits for a checkpoint, or here for a lock) was cancelled and the
// error swallowed. Nothing may be left behind, and what cannot be dropped is said.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { Sandbox } from '../../src/db/sandbox.ts';
import { runOnServer } from '../../src/engine/run.ts';
import { liveSandboxes } from '../../src/db/sandbox.ts';
import type { LoadedSpec } from '../../src/spec/loader.ts';
import { idPool, valuePool } from '../../src/rules/pool.ts';
import { eq } from '../../src/rules/predicate.ts';
import { scopedUnique } from '../../src/rules/scoped-unique.ts';
import { schemaFilesAt } from '../../src/source/schema-source.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testServers } from '../servers.ts';

async function databasesOf(url: string, id: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1`, [`pgconform\\_${id}\\_%`]);
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

describe.each(testServers())('sandbox databases on $name', ({ url }) => {
  it('a DROP that waits longer than the sandbox statement timeout still drops the database', async () => {
    const server = await new UrlProvider(url).start();
    const sandbox = await Sandbox.create(server, [{ path: 'inline.sql', sql: 'CREATE TABLE t (id int PRIMARY KEY);' }]);
    const worker = await sandbox.createWorkerDatabase();
    // Another session holds a lock on the worker database object (not a connection to it: FORCE cannot end it) for 12 s.
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(`COMMENT ON DATABASE "${worker.database}" IS 'held by the test'`);
    const release = setTimeout(() => void blocker.query('COMMIT'), 12_000);
    try {
      await sandbox.dispose();
    } finally {
      clearTimeout(release);
      await blocker.query('COMMIT').catch(() => undefined);
      await blocker.end();
    }
    expect(await databasesOf(url, sandbox.id)).toEqual([]);
    expect(sandbox.leftovers).toEqual([]);
  }, 60_000);

  it('no worker database is created once dispose has begun', async () => {
    const server = await new UrlProvider(url).start();
    const sandbox = await Sandbox.create(server, [{ path: 'inline.sql', sql: 'CREATE TABLE t (id int PRIMARY KEY);' }]);
    await sandbox.dispose();
    await expect(sandbox.createWorkerDatabase()).rejects.toThrow(/disposed/);
    expect(await databasesOf(url, sandbox.id)).toEqual([]);
  });

  it('a run of many rules whose setup the schema refuses leaves no database behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-leak-'));
    const schema = join(dir, 'schema.sql');
    writeFileSync(
      schema,
      `CREATE TABLE plans (id uuid PRIMARY KEY, kind text NOT NULL DEFAULT 'legacy', price numeric, CHECK (kind <> 'legacy' OR price IS NOT NULL));
       CREATE TABLE subscriptions (id uuid PRIMARY KEY, account_id uuid NOT NULL, status text NOT NULL);
       CREATE UNIQUE INDEX one_active ON subscriptions (account_id) WHERE status = 'active';`,
    );
    const specs: LoadedSpec[] = Array.from({ length: 12 }, (_, i) => ({
      file: join(dir, `rule-${i}.ts`),
      rule: scopedUnique({
        id: `one-active-${i}`,
        title: 'one active subscription per account',
        source: 'test',
        table: 'subscriptions',
        primaryKey: { column: 'id', pool: idPool('subscription', 3) },
        columns: { account_id: idPool('account', 2), status: valuePool('status', ['active', 'ended']) },
        mutable: ['status'],
        unique: [{ name: 'active', key: ['account_id'], where: eq('status', 'active') }],
        // Every other rule's setup is refused by the plans CHECK; the rest run for real.
        setup: i % 2 === 0 ? `INSERT INTO plans (id) VALUES ('00000000-0000-4000-8000-00000000000${i % 10}')` : '',
      }),
    }));
    const server = await new UrlProvider(url).start();
    const ids = new Set<string>();
    const result = await runOnServer(server, {
      specs,
      schema: schemaFilesAt([schema]),
      isolation: ['read-committed'],
      runs: 10,
      seed: 1,
      workers: 3,
      listener: { onCheckStart: () => liveSandboxes().forEach((s) => ids.add(s.id)) },
    });
    expect(result.rules.filter((r) => r.verdict === 'error')).toHaveLength(6);
    expect(result.rules.filter((r) => r.verdict === 'pass')).toHaveLength(6);
    expect(result.error).toBeUndefined();
    expect(ids.size).toBe(1);
    for (const id of ids) expect(await databasesOf(url, id)).toEqual([]);
  }, 120_000);
});
