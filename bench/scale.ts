// The bench's figures on schema size: the kit's reset with and without rows the schema seeded, and the
// cost of one rule (200 runs) on a large schema next to the canonical fixture.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCatalog } from '../src/catalog/catalog.ts';
import { bindRule } from '../src/config/rule-binding.ts';
import type pg from 'pg';
import { connect, type ConnectionSettings } from '../src/db/connection.ts';
import type { StartedServer } from '../src/db/provider.ts';
import { planReset } from '../src/db/reset.ts';
import { Sandbox } from '../src/db/sandbox.ts';
import { readSchemaFiles, type SchemaFile } from '../src/db/schema-source.ts';
import { contentsOf } from '../src/db/template-contents.ts';
import { ScenarioExecutor } from '../src/engine/executor.ts';
import { resetScope } from '../src/engine/reset-scope.ts';
import { checkRule } from '../src/engine/rule-check.ts';
import { inferConfig } from '../src/init/infer-config.ts';
import { eq } from '../src/rules/predicate.ts';
import { idPool, valuePool } from '../src/rules/pool.ts';
import type { Rule } from '../src/rules/rule.ts';
import { scopedUnique } from '../src/rules/scoped-unique.ts';
import { defaultSpecsDir, loadSpecs } from '../src/spec/loader.ts';
import { LARGE_SCHEMA_TABLES, largeSchemaSql } from './large-schema.ts';

const RUNS = 200;

/** A lookup table of 184 rows the schema inserts, added to a fixture for the seeded figures. */
const LANGUAGES = `CREATE TABLE languages (id smallint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL);
INSERT INTO languages SELECT i, 'l' || i, 'Language ' || i FROM generate_series(0, 183) AS i;`;

/** The large schema's counterpart of the canonical rule: one pending membership request per organization and user. */
const onePendingMembershipRequest = scopedUnique({
  id: 'one-pending-membership-request',
  title: 'one pending membership request per organization and user',
  source: 'bench',
  table: 'membership_requests',
  primaryKey: { column: 'id', pool: idPool('request', 4, 'bigint') },
  columns: { organization_id: idPool('org', 2, 'bigint'), user_id: idPool('user', 2, 'bigint'), status: valuePool('status', ['pending', 'approved', 'denied']) },
  mutable: ['status'],
  unique: [{ name: 'pending requests', key: ['organization_id', 'user_id'], where: eq('status', 'pending') }],
  setup: `INSERT INTO accounts (id, name) VALUES (1, 'Acme');
    INSERT INTO users (id, account_id, email) VALUES (1, 1, 'ann@example.com'), (2, 1, 'bob@example.com');
    INSERT INTO organizations (id, account_id, name) VALUES (1, 1, 'North'), (2, 1, 'South');`,
});

/**
 * ms per reset, as the executor runs it (planReset with the template's contents), after a test case
 * wrote rows: on a fixture without seeded rows (compare deleteChildrenFirst, the same SQL written by
 * hand), with a seeded lookup table the test case left alone or changed, and on the large schema,
 * every table (what each rule paid before) against the tables the rule can write. The cases take
 * turns, reset by reset, so that a slow spell of a shared machine weighs on all alike.
 */
export async function benchKitReset(server: StartedServer, n = 300) {
  const fixture = readFileSync('fixtures/profile-requires-membership/reference.sql', 'utf8');
  const setup = `INSERT INTO tenants VALUES ('00000000-0000-4000-8000-000000000001', 'a');
    INSERT INTO users VALUES ('00000000-0000-4000-8000-000000000001', 'a@example.com', false);`;
  const dirty = `INSERT INTO tenant_members (user_id, tenant_id) VALUES ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001') ON CONFLICT DO NOTHING;`;
  const changeSeed = `UPDATE languages SET name = name || '!' WHERE id = 7; DELETE FROM languages WHERE id = 9;`;
  const largeDirty = `INSERT INTO membership_requests (organization_id, user_id) VALUES (1, 1), (2, 2);`;
  const opened: Opened[] = [];
  try {
    const noSeed = await openReset(server, fixture, opened);
    const seeded = await openReset(server, `${fixture}\n${LANGUAGES}`, opened);
    const changed = await openReset(server, `${fixture}\n${LANGUAGES}`, opened);
    const large = await openReset(server, largeSchemaSql(), opened);
    const contents = contentsOf(large.settings)!;
    const scope = await resetScope(large.client, onePendingMembershipRequest, contents);
    if (scope.kind !== 'narrow') throw new Error(`the bench rule's reset is not narrowed: ${scope.reason}`);
    const narrow = await planReset(large.client, { contents, tables: scope.tables, sequences: scope.sequences });
    const cases = {
      kitNoSeededRows: { client: noSeed.client, reset: `${noSeed.plan.sql}\n${setup}`, dirty },
      kitSeededRowsKept: { client: seeded.client, reset: `${seeded.plan.sql}\n${setup}`, dirty },
      kitSeededRowsChanged: { client: changed.client, reset: `${changed.plan.sql}\n${setup}`, dirty: `${dirty} ${changeSeed}` },
      largeSchemaEveryTable: { client: large.client, reset: `${large.plan.sql}\n${onePendingMembershipRequest.setup}`, dirty: largeDirty },
      largeSchemaRuleTables: { client: large.client, reset: `${narrow.sql}\n${onePendingMembershipRequest.setup}`, dirty: largeDirty },
    };
    const totals = Object.fromEntries(Object.keys(cases).map((name) => [name, 0])) as Record<keyof typeof cases, number>;
    for (const c of Object.values(cases)) await c.client.query(c.reset);
    for (let i = 0; i < n; i++) {
      for (const [name, c] of Object.entries(cases) as Array<[keyof typeof cases, (typeof cases)[keyof typeof cases]]>) {
        await c.client.query(c.dirty);
        const t = performance.now();
        await c.client.query(c.reset);
        totals[name] += performance.now() - t;
      }
    }
    return {
      ...Object.fromEntries(Object.entries(totals).map(([name, total]) => [name, Number((total / n).toFixed(3))])),
      largeSchema: { tables: LARGE_SCHEMA_TABLES, seededTables: contents.tables.size, resetTables: narrow.tables.length },
    };
  } finally {
    for (const o of opened) {
      await o.client.end().catch(() => undefined);
      await o.sandbox.dispose();
    }
  }
}

interface Opened {
  sandbox: Sandbox;
  settings: ConnectionSettings;
  client: pg.Client;
  plan: Awaited<ReturnType<typeof planReset>>;
}

/** A worker database of the schema, a connection to it, and the reset of every table, prepared. */
async function openReset(server: StartedServer, schema: string, opened: Opened[]): Promise<Opened> {
  const sandbox = await Sandbox.create(server, [{ path: 'schema.sql', sql: schema }]);
  try {
    const settings = await sandbox.createWorkerDatabase();
    const client = await connect(settings);
    const entry = { sandbox, settings, client, plan: await planReset(client, { contents: contentsOf(settings) }) };
    opened.push(entry);
    if (entry.plan.prepare) await client.query(entry.plan.prepare);
    return entry;
  } catch (error) {
    if (!opened.some((o) => o.sandbox === sandbox)) await sandbox.dispose();
    throw error;
  }
}

interface Timed {
  rule: string;
  verdict: string;
  ms: number;
}

async function timeRule(server: StartedServer, rule: Rule, files: readonly SchemaFile[]): Promise<Timed> {
  const sandbox = await Sandbox.create(server, files);
  try {
    const executor = await ScenarioExecutor.open(rule, await sandbox.createWorkerDatabase(), { maxSessions: 4 });
    try {
      const check = await checkRule(rule, executor, { isolation: 'read-committed', runs: RUNS, seed: 1 });
      return { rule: rule.id, verdict: check.verdict, ms: check.durationMs };
    } finally {
      await executor.close();
    }
  } finally {
    await sandbox.dispose();
  }
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/**
 * ms per rule for 200 runs at read committed (median of `reps`, interleaved so that a slow spell of a
 * shared machine weighs on both alike): the canonical one-pending-request fixture, the same rule
 * shape on the generated 140-table schema, and, when the field corpus is there, the rules init
 * proposes for its largest schema (scoped-unique ones, at most five).
 */
export async function benchPerRule(server: StartedServer, reps: number, fieldDir = 'fixtures/field') {
  const [spec] = await loadSpecs(['one-pending-request'], defaultSpecsDir());
  const canonicalFiles = await readSchemaFiles(['fixtures/one-pending-request/reference.sql']);
  const largeFiles = [{ path: 'large-schema.sql', sql: largeSchemaSql() }];
  const canonical: number[] = [];
  const large: number[] = [];
  for (let r = 0; r < reps; r++) {
    canonical.push((await timeRule(server, spec!.rule, canonicalFiles)).ms);
    large.push((await timeRule(server, onePendingMembershipRequest, largeFiles)).ms);
  }
  const canonicalMs = median(canonical);
  const field = await benchFieldRules(server, fieldDir, canonicalMs);
  return {
    runs: RUNS,
    canonical: { rule: 'one-pending-request', tables: 1, ms: canonicalMs },
    largeSchema: { rule: onePendingMembershipRequest.id, tables: LARGE_SCHEMA_TABLES, ms: median(large), toCanonical: Number((median(large) / canonicalMs).toFixed(2)) },
    ...(field ? { field } : {}),
    target: { toCanonical: 2 },
  };
}

/** The field schema with the most tables: a folder of SQL files applied in name order. */
function largestFieldSchema(dir: string): { name: string; files: string[]; tables: number } | undefined {
  if (!existsSync(dir)) return undefined;
  const schemas = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const files = readdirSync(join(dir, entry.name)).filter((f) => f.endsWith('.sql')).sort().map((f) => join(dir, entry.name, f));
      const tables = files.reduce((n, f) => n + (readFileSync(f, 'utf8').match(/\bCREATE\s+TABLE\b/gi)?.length ?? 0), 0);
      return { name: entry.name, files, tables };
    })
    .filter((schema) => schema.files.length > 0);
  return schemas.sort((a, b) => b.tables - a.tables)[0];
}

async function benchFieldRules(server: StartedServer, dir: string, canonicalMs: number) {
  const schema = largestFieldSchema(dir);
  if (!schema) return undefined;
  const files = await readSchemaFiles(schema.files);
  const sandbox = await Sandbox.create(server, files);
  let rules: Rule[];
  try {
    const client = await connect(sandbox.settingsFor(sandbox.template));
    try {
      const proposal = inferConfig(await readCatalog(client));
      rules = proposal.rules.flatMap((r) => (r.kind === 'rule' && r.binding.template === 'scoped-unique' ? [bindRule(r.binding)] : [])).slice(0, 5);
    } finally {
      await client.end();
    }
  } finally {
    await sandbox.dispose();
  }
  const timed: Timed[] = [];
  for (const rule of rules) timed.push(await timeRule(server, rule, files));
  const passing = timed.filter((t) => t.verdict === 'pass').map((t) => t.ms);
  return {
    schema: schema.name,
    tables: schema.tables,
    rules: timed,
    ms: median(passing),
    toCanonical: passing.length > 0 ? Number((median(passing) / canonicalMs).toFixed(2)) : undefined,
  };
}
