// pgconform audit on real servers: the rows a user's data already holds that break a rule, reported
// exactly as planted, read by a role that may only SELECT, with nothing written, and every exit code.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { auditDatabase, auditExitCode, type AuditResult, type RuleAudit } from '../../src/audit/audit.ts';
import { auditDocumentSchema, toAuditDocument } from '../../src/audit/audit-document.ts';
import { quoteIdent, settingsFromUrl } from '../../src/db/connection.ts';
import { freePort } from '../../src/db/embedded-provider.ts';
import { dropDatabase } from '../../src/db/sandbox.ts';
import type { Rule } from '../../src/rules/rule.ts';
import { invariantText } from '../../src/rules/predicate.ts';
import onePendingRequest from '../../specs/one-pending-request.ts';
import onePrimaryProvider from '../../specs/one-primary-provider.ts';
import superAdminTenant from '../../specs/super-admin-tenant.ts';
import orderStatusTransitions from '../../specs/order-status-transitions.ts';
import { pgconform } from '../cli-run.ts';
import { testServers } from '../servers.ts';

const ROOT = join(import.meta.dirname, '..', '..');

const SPEC = { pending: join(ROOT, 'specs/one-pending-request.ts'), tenant: join(ROOT, 'specs/super-admin-tenant.ts') };
/** Schemas without the rules' enforcement, so that the test can plant rows that break them. */
const UNENFORCED = [
  join(ROOT, 'fixtures/one-pending-request/mutants/non-unique-index-with-app-check.sql'),
  join(ROOT, 'fixtures/super-admin-tenant/mutants/no-check-constraint.sql'),
];

/** A throwaway database (pgconform_ prefix) and a role that may only connect, use the schemas and SELECT. */
interface AuditedDatabase {
  readonly name: string;
  /** As the server's superuser. */
  readonly adminUrl: string;
  /** As the read-only role, with a password (which must never be printed). */
  readonly readerUrl: string;
  readonly readerPassword: string;
  readonly readerRole: string;
  admin(): Promise<pg.Client>;
  /** Grants the reader CONNECT, USAGE and SELECT on what exists now (call after creating tables). */
  grantReader(schemas?: readonly string[]): Promise<void>;
  drop(): Promise<void>;
}

const created: AuditedDatabase[] = [];
const scratch: string[] = [];
afterAll(async () => {
  for (const db of created) await db.drop();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

async function createDatabase(serverUrl: string, schemaFiles: readonly string[] = []): Promise<AuditedDatabase> {
  const id = randomBytes(4).toString('hex');
  const name = `pgconform_audit_${id}`;
  const role = `pgconform_audit_reader_${id}`;
  const readerPassword = `pw-${randomBytes(6).toString('hex')}`;
  const serverAdmin = new pg.Client({ connectionString: serverUrl });
  await serverAdmin.connect();
  const version = Number((await serverAdmin.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v);
  try {
    await serverAdmin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    // No PUBLIC privileges (CONNECT, TEMP) on this database: the reader gets exactly what the test grants.
    await serverAdmin.query(`REVOKE ALL ON DATABASE ${quoteIdent(name)} FROM PUBLIC`);
    await serverAdmin.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${readerPassword}'`);
  } finally {
    await serverAdmin.end();
  }
  const urlFor = (user: string | undefined, password: string | undefined) => {
    const url = new URL(serverUrl);
    if (user) url.username = user;
    if (password !== undefined) url.password = password;
    url.pathname = `/${name}`;
    return url.toString();
  };
  const db: AuditedDatabase = {
    name,
    adminUrl: urlFor(undefined, undefined),
    readerUrl: urlFor(role, readerPassword),
    readerPassword,
    readerRole: role,
    async admin() {
      const client = new pg.Client({ connectionString: db.adminUrl });
      await client.connect();
      return client;
    },
    async grantReader(schemas = ['public']) {
      const client = await db.admin();
      try {
        await client.query(`GRANT CONNECT ON DATABASE ${quoteIdent(name)} TO ${quoteIdent(role)}`);
        await client.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
        for (const schema of schemas) {
          await client.query(`GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(role)}`);
          await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(role)}`);
        }
      } finally {
        await client.end();
      }
    },
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await dropDatabase(client, name, version);
        await client.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
      } finally {
        await client.end();
      }
    },
  };
  created.push(db);
  const client = await db.admin();
  try {
    for (const file of schemaFiles) await client.query(await readFile(file, 'utf8'));
  } finally {
    await client.end();
  }
  return db;
}

/** Rows the test plants: requests (org, user, status) and users (is_super_admin, tenant), each with its id. */
interface Planted {
  requests: Array<{ id: string; organization_id: string; user_id: string; status: string }>;
  users: Array<{ id: string; is_super_admin: boolean; tenant_id: string | null }>;
}

/** Plants valid rows and rows that break both rules; returns everything planted. */
async function plant(db: AuditedDatabase): Promise<Planted> {
  const [orgA, orgB, userA, userB] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const request = (organization_id: string, user_id: string, status: string) => ({ id: randomUUID(), organization_id, user_id, status });
  const tenant = randomUUID();
  const user = (is_super_admin: boolean, tenant_id: string | null) => ({ id: randomUUID(), is_super_admin, tenant_id });
  const planted: Planted = {
    requests: [
      // Broken: three pending requests for (A, A), two for (A, B).
      request(orgA, userA, 'PENDING'), request(orgA, userA, 'PENDING'), request(orgA, userA, 'PENDING'), request(orgA, userA, 'APPROVED'),
      request(orgA, userB, 'PENDING'), request(orgA, userB, 'PENDING'),
      // Valid: one pending beside history; history alone; the same user pending in another organization.
      request(orgB, userA, 'PENDING'), request(orgB, userA, 'DENIED'), request(orgB, userA, 'APPROVED'),
      request(orgB, userB, 'DENIED'), request(orgB, userB, 'DENIED'),
    ],
    users: [
      // Broken: regular users without a tenant.
      user(false, null), user(false, null), user(false, null),
      // Valid: a super admin without and with a tenant, a regular user with one.
      user(true, null), user(true, tenant), user(false, tenant), user(false, tenant),
    ],
  };
  const client = await db.admin();
  try {
    await client.query(`INSERT INTO tenants (id, name) VALUES ($1, 'Clinic')`, [tenant]);
    for (const r of planted.requests) {
      await client.query(`INSERT INTO access_requests (id, organization_id, user_id, status) VALUES ($1, $2, $3, $4)`, [r.id, r.organization_id, r.user_id, r.status]);
    }
    for (const [i, u] of planted.users.entries()) {
      await client.query(`INSERT INTO users (id, email, name, is_super_admin, tenant_id) VALUES ($1, $2, $3, $4, $5)`, [u.id, `user${i}@example.com`, `User ${i}`, u.is_super_admin, u.tenant_id]);
    }
  } finally {
    await client.end();
  }
  return planted;
}

/** What the invariants must return for the planted rows, derived from them the way each rule reads. */
function expectedOffending(planted: Planted) {
  const groups = new Map<string, string[]>();
  for (const r of planted.requests.filter((r) => r.status === 'PENDING')) {
    const key = JSON.stringify({ organization_id: r.organization_id, user_id: r.user_id });
    groups.set(key, [...(groups.get(key) ?? []), r.id]);
  }
  const pending = [...groups]
    .filter(([, ids]) => ids.length > 1)
    .map(([key, ids]) => ({ broken: 'pending requests', key: JSON.parse(key) as unknown, rows: ids.length, ids: ids.sort() }));
  const users = planted.users.filter((u) => u.is_super_admin !== true && u.tenant_id === null).map((u) => ({ is_super_admin: u.is_super_admin, tenant_id: null, id: u.id }));
  return { pending, users };
}

/**
 * Everything an audit could change, as the superuser sees it: every user table's rows (count and md5 of
 * the ordered row texts), every object of the database (relations, functions, types, schemas), its
 * prepared transactions, and the databases the reader owns. (Not the server's whole database list:
 * other test files create and drop theirs on the same servers meanwhile.)
 */
async function fingerprint(db: AuditedDatabase): Promise<unknown> {
  const client = await db.admin();
  try {
    const tables = await client.query<{ t: string }>(
      `SELECT c.oid::regclass::text AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' ORDER BY 1`,
    );
    const checksums: Record<string, unknown> = {};
    for (const { t } of tables.rows) {
      const { rows } = await client.query(`SELECT count(*)::int AS rows, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS md5 FROM ${t} x`);
      checksums[t] = rows[0];
    }
    const objects = await client.query(`
      SELECT 'class' AS kind, oid::text, relname::text AS name, relnamespace::text AS owner_ns, relkind::text AS detail FROM pg_class
      UNION ALL SELECT 'proc', oid::text, proname::text, pronamespace::text, '' FROM pg_proc
      UNION ALL SELECT 'type', oid::text, typname::text, typnamespace::text, '' FROM pg_type
      UNION ALL SELECT 'namespace', oid::text, nspname::text, '', '' FROM pg_namespace
      UNION ALL SELECT 'database', d.oid::text, d.datname::text, '', '' FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = $1
      UNION ALL SELECT 'prepared-xact', transaction::text, gid, '', '' FROM pg_prepared_xacts WHERE database = current_database()
      ORDER BY 1, 2`, [db.readerRole]);
    return { checksums, objects: objects.rows };
  } finally {
    await client.end();
  }
}

function byId(result: AuditResult, id: string): RuleAudit {
  const found = result.rules.find((rule) => rule.id === id);
  if (!found) throw new Error(`no audit for ${id}`);
  return found;
}

function reportDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgconform-audit-'));
  scratch.push(dir);
  return dir;
}

const RULES: readonly Rule[] = [onePendingRequest, superAdminTenant];

describe.each(testServers())('auditDatabase on the $name server', ({ url }) => {
  it('reports exactly the planted violations as a role that may only SELECT, and writes nothing', async () => {
    const db = await createDatabase(url, UNENFORCED);
    const planted = await plant(db);
    await db.grantReader();
    const expected = expectedOffending(planted);
    const before = await fingerprint(db);

    const result = await auditDatabase(settingsFromUrl(db.readerUrl), RULES, { limit: 50 });

    expect(await fingerprint(db)).toEqual(before);
    expect(result.user).toBe(new URL(db.readerUrl).username);
    expect(JSON.stringify(result)).not.toContain(db.readerPassword);
    const pending = byId(result, 'one-pending-request');
    expect(pending.status).toBe('violated');
    if (pending.status !== 'violated') return;
    expect(pending.offending).toBe(expected.pending.length);
    expect(new Set(pending.rows.map((row) => JSON.stringify(row)))).toEqual(new Set(expected.pending.map((row) => JSON.stringify(row))));
    const users = byId(result, 'super-admin-tenant');
    expect(users.status).toBe('violated');
    if (users.status !== 'violated') return;
    expect(users.offending).toBe(expected.users.length);
    expect(users.rows).toEqual(expect.arrayContaining(expected.users));
    expect(users.rows).toHaveLength(expected.users.length);
    expect(auditExitCode(result)).toBe(1);

    // --limit keeps fewer rows, never a smaller count.
    const limited = await auditDatabase(settingsFromUrl(db.readerUrl), RULES, { limit: 1 });
    const limitedUsers = byId(limited, 'super-admin-tenant');
    expect(limitedUsers.status === 'violated' && [limitedUsers.offending, limitedUsers.rows.length]).toEqual([expected.users.length, 1]);

    // Repaired data: every rule holds, exit 0.
    const admin = await db.admin();
    await admin.query(`UPDATE access_requests SET status = 'DENIED' WHERE id = ANY($1::uuid[])`, [expected.pending.flatMap((group) => group.ids.slice(1))]);
    await admin.query(`UPDATE users SET is_super_admin = true WHERE tenant_id IS NULL`);
    await admin.end();
    const clean = await auditDatabase(settingsFromUrl(db.readerUrl), RULES);
    expect(clean.rules.map((rule) => [rule.id, rule.status])).toEqual([
      ['one-pending-request', 'holds'],
      ['super-admin-tenant', 'holds'],
    ]);
    expect(auditExitCode(clean)).toBe(0);
  });

  it('runs in a read-only transaction even as superuser, and a query that times out leaves the other rules their turn', async () => {
    const db = await createDatabase(url, UNENFORCED);
    await plant(db);
    const admin = await db.admin();
    // An invariant a user wrote that calls a function which writes.
    await admin.query(`CREATE FUNCTION add_tenant() RETURNS SETOF uuid LANGUAGE sql AS $$ INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'x') RETURNING id $$`);
    const writes: Rule = { ...superAdminTenant, id: 'writes', invariant: 'SELECT * FROM add_tenant()' };
    const slow: Rule = { ...superAdminTenant, id: 'slow', invariant: 'SELECT 1 AS slow FROM pg_sleep(30)' };
    // A plain table (no default, index or constraint): the catalog read never opens it, only the rule's query does.
    await admin.query('CREATE TABLE events (id uuid, note text)');
    const readsEvents: Rule = { ...superAdminTenant, id: 'reads-events', invariant: 'SELECT id FROM events' };
    const before = await fingerprint(db);
    // Another session holds the table (say, a migration): only the rule that reads it waits, and gives up.
    await admin.query('BEGIN');
    await admin.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
    const started = performance.now();
    let result: AuditResult;
    try {
      result = await auditDatabase(settingsFromUrl(db.adminUrl), [writes, slow, readsEvents, superAdminTenant], { statementTimeoutMs: 300, lockTimeoutMs: 200 });
    } finally {
      await admin.query('ROLLBACK');
      await admin.end();
    }
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(await fingerprint(db)).toEqual(before);
    const [write, timeout, locked, after] = result.rules;
    expect(write!.status === 'error' && write!.failure.code).toBe('25006');
    expect(timeout!.status === 'error' && [timeout!.failure.code, timeout!.fix]).toEqual(['57014', expect.stringMatching(/--statement-timeout/)]);
    expect(locked!.status === 'error' && [locked!.failure.code, locked!.fix]).toEqual(['55P03', expect.stringMatching(/--lock-timeout/)]);
    expect(after!.status).toBe('violated');
    expect(auditExitCode(result)).toBe(3);
  });

  it('names the missing table or column and the closest existing name, and resolves tables through --search-path', async () => {
    const db = await createDatabase(url);
    const admin = await db.admin();
    // A singular table name, and a column renamed.
    await admin.query(`CREATE TABLE access_request (id uuid PRIMARY KEY, organization_id uuid NOT NULL, user_id uuid NOT NULL, status text NOT NULL)`);
    await admin.query(`CREATE TABLE users (id uuid PRIMARY KEY, email text, name text, is_super_admin boolean NOT NULL, tenant_ident uuid)`);
    // The primary-provider table in a schema off the search path, holding two current primaries for one patient.
    await admin.query(`CREATE SCHEMA app`);
    await admin.query(`SET search_path = app`);
    await admin.query(await readFile(join(ROOT, 'fixtures/one-primary-provider/seed.sql'), 'utf8'));
    await admin.query(`DROP INDEX app.uq_care_team_primary`);
    const [org, patient] = [randomUUID(), randomUUID()];
    for (let i = 0; i < 2; i++) {
      await admin.query(`INSERT INTO app.care_team_assignments (organization_id, patient_id, provider_id, role) VALUES ($1, $2, $3, 'PRIMARY')`, [org, patient, randomUUID()]);
    }
    await admin.end();

    const result = await auditDatabase(settingsFromUrl(db.adminUrl), [onePendingRequest, superAdminTenant, onePrimaryProvider]);
    const problem = (id: string) => {
      const audit = byId(result, id);
      return audit.status === 'schema-mismatch' ? audit.problem : audit.status;
    };
    expect(problem('one-pending-request')).toMatchObject({ key: 'table', table: 'access_requests', message: expect.stringMatching(/no table "access_requests"/), fix: expect.stringMatching(/"access_request"/) });
    expect(problem('super-admin-tenant')).toMatchObject({ table: 'users', column: 'tenant_id', message: expect.stringMatching(/no column "tenant_id"/), fix: expect.stringMatching(/"tenant_ident"/) });
    expect(problem('one-primary-provider')).toMatchObject({ table: 'care_team_assignments', message: expect.stringMatching(/schema "app" has one/), fix: expect.stringMatching(/--search-path app/) });
    expect(auditExitCode(result)).toBe(2);

    const onPath = await auditDatabase(settingsFromUrl(db.adminUrl), [onePrimaryProvider], { searchPath: ['app', 'public'] });
    const found = byId(onPath, 'one-primary-provider');
    expect(found.status === 'violated' && [found.offending, found.rows[0]!.key]).toEqual([1, { organization_id: org, patient_id: patient }]);
  });

  it('does not audit a rule about changes: the data at rest does not show them, and the exit code ignores it', async () => {
    const db = await createDatabase(url);
    const result = await auditDatabase(settingsFromUrl(db.adminUrl), [orderStatusTransitions]);
    const audit = byId(result, 'order-status-transitions');
    expect(audit.status === 'not-applicable' && audit.reason).toMatch(/row changes/);
    expect(auditExitCode(result)).toBe(0);
    expect(auditDocumentSchema.parse(toAuditDocument(result, { version: 'test' })).rules[0]!.status).toBe('not-applicable');
  });
});

describe('pgconform audit (CLI)', () => {
  const serverUrl = inject('localUrl') || inject('embeddedUrl');

  it('exit 1 with the offending rows, the psql hint and audit.json; exit 0 once repaired; the password never shows', async () => {
    const db = await createDatabase(serverUrl, UNENFORCED);
    const expected = expectedOffending(await plant(db));
    await db.grantReader();
    const dir = reportDir();
    const before = await fingerprint(db);
    const run = await pgconform(['audit', SPEC.pending, SPEC.tenant, '--url', db.readerUrl, '--report-dir', dir]);
    expect(await fingerprint(db)).toEqual(before);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`VIOLATED +one-pending-request +${expected.pending.length} offending rows`));
    expect(run.stdout).toMatch(new RegExp(`VIOLATED +super-admin-tenant +${expected.users.length} offending rows`));
    for (const user of expected.users) expect(run.stdout).toContain(user.id);
    expect(run.stdout).toContain(`${invariantText(superAdminTenant)};`);
    expect(run.stdout + run.stderr).not.toContain(db.readerPassword);
    const document = auditDocumentSchema.parse(JSON.parse(readFileSync(join(dir, 'audit.json'), 'utf8')));
    expect(document.exitCode).toBe(1);
    expect(document.summary).toMatchObject({ rules: 2, violated: 2, offendingRows: expected.pending.length + expected.users.length });
    expect(JSON.stringify(document)).not.toContain(db.readerPassword);

    const admin = await db.admin();
    await admin.query(`DELETE FROM access_requests`);
    await admin.query(`DELETE FROM users`);
    await admin.end();
    const clean = await pgconform(['audit', SPEC.pending, SPEC.tenant, '--url', db.readerUrl, '--json', '--no-report', '--report-dir', reportDir()]);
    expect(clean.code, clean.stderr).toBe(0);
    const cleanDocument = auditDocumentSchema.parse(JSON.parse(clean.stdout));
    expect(cleanDocument.rules.map((rule) => rule.status)).toEqual(['holds', 'holds']);
  });

  it('exit 2 when the rule names a table the database lacks, with the closest existing name', async () => {
    const db = await createDatabase(serverUrl);
    const admin = await db.admin();
    await admin.query(`CREATE TABLE access_request (id uuid PRIMARY KEY, organization_id uuid, user_id uuid, status text)`);
    await admin.end();
    const run = await pgconform(['audit', SPEC.pending, '--url', db.adminUrl, '--no-report']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^pgconform: specs\/one-pending-request\.ts: rule one-pending-request, key table: no table "access_requests".*"access_request"/)]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exit 3 for an unreachable server, without the password', async () => {
    const port = await freePort();
    const run = await pgconform(['audit', SPEC.pending, '--url', `postgresql://postgres:secret-pw@127.0.0.1:${port}/postgres`, '--no-report']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/cannot reach the PostgreSQL server/);
    expect(run.stdout + run.stderr).not.toContain('secret-pw');
  });

  it('exit 3 and one line when a table stays locked longer than --lock-timeout', async () => {
    const db = await createDatabase(serverUrl, UNENFORCED);
    await plant(db);
    const locker = await db.admin();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE access_requests IN ACCESS EXCLUSIVE MODE');
      const run = await pgconform(['audit', SPEC.pending, SPEC.tenant, '--url', db.adminUrl, '--lock-timeout', '200', '--no-report']);
      expect(run.code, run.stderr).toBe(3);
      // One line either way: the catalog read may already wait for the locked table (pg_get_expr opens it), or the rule's query does.
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^pgconform: .*lock timeout \(SQLSTATE 55P03\).*--lock-timeout/)]);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });

  it('exit 2 without a database to read', async () => {
    const run = await pgconform(['audit', SPEC.pending]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/audit needs the database to read.*--url/);
  });
});
