// pgconform explain on a real server: the enforcement map read from a schema's catalog, the fragilities
// read from its triggers, and the short run that confirms or refutes them.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StartedServer } from '../../src/db/provider.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { explainRules, type RuleExplanation } from '../../src/explain/explanation.ts';
import { loadSpecFile, type LoadedSpec } from '../../src/spec/loader.ts';
import { pgconform } from '../cli-run.ts';
import { explainDocumentSchema } from '../../src/explain/explain-document.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const fixture = (path: string) => join(ROOT, 'fixtures', path);
const spec = async (id: string): Promise<LoadedSpec> => (await loadSpecFile(join(ROOT, 'specs', `${id}.ts`)))[0]!;
/** The names a fixture creates with `CREATE <what> name`, read from its text. */
const created = (path: string, what: string) => [...readFileSync(fixture(path), 'utf8').matchAll(new RegExp(`CREATE ${what} (\\w+)`, 'g'))].map((m) => m[1]!);

let server: StartedServer;
beforeAll(async () => {
  server = await new UrlProvider(inject('embeddedUrl')).start();
});
afterAll(async () => {
  await server.stop();
});

async function explainOne(id: string, schema: string, run?: { runs: number; seed: number }): Promise<RuleExplanation> {
  const explanation = await explainRules(server, { specs: [await spec(id)], schema: [fixture(schema)], run });
  return explanation.rules[0]!;
}

const warnings = (rule: RuleExplanation) => rule.map.fragilities.filter((f) => f.severity === 'warning');

describe('pgconform explain', () => {
  it("flags seed 001's validation triggers as reading without a lock, and the run confirms the race", async () => {
    const schema = 'profile-requires-membership/seed.sql';
    // seed 3 of 1-12 all confirm within 300 runs (measured); 3 is among the quickest.
    const rule = await explainOne('profile-requires-membership', schema, { runs: 300, seed: 3 });
    const triggers = created(schema, 'TRIGGER');
    expect(triggers.length).toBeGreaterThanOrEqual(3);
    const enforcing = rule.map.objects.filter((o) => o.enforces && o.kind === 'trigger').map((o) => o.name);
    expect(enforcing.sort()).toEqual([...triggers].sort());
    // The two BEFORE triggers check with plain SELECTs; the AFTER DELETE cascade only writes.
    const validators = rule.map.objects.filter((o) => o.kind === 'trigger' && o.definition.includes('BEFORE INSERT OR UPDATE')).map((o) => o.name);
    expect(validators).toHaveLength(2);
    const unlocked = warnings(rule).filter((f) => f.kind === 'unlocked-read');
    expect(unlocked.map((f) => f.object).sort()).toEqual(validators.sort());
    for (const f of unlocked) expect(f.reason).toMatch(/reads other rows \(\w+\) without a lock \(SELECT 1 FROM \w+ .*\): two transactions can both pass the check/);
    expect(rule.map.objects.find((o) => o.name === 'trigger_validate_profile_membership')?.function?.definition).toMatch(/CREATE OR REPLACE FUNCTION/);

    const confirmation = rule.confirmation!;
    expect(confirmation.verdict).toBe('violation');
    expect(confirmation.status).toBe('confirmed');
    expect(confirmation.counterexample!.sessions).toBeGreaterThanOrEqual(2);
    expect(confirmation.statement).toMatch(/^confirmed: .*reads other rows without a lock.* — a violation was found \(\d+ steps, \d+ sessions\)$/);
  });

  it('lists the partial unique index of a reference schema, flags nothing, and the run holds', async () => {
    const schema = 'one-pending-request/reference.sql';
    const rule = await explainOne('one-pending-request', schema, { runs: 100, seed: 1 });
    const [index] = created(schema, 'UNIQUE INDEX');
    const enforcing = rule.map.objects.filter((o) => o.enforces);
    expect(enforcing.map((o) => [o.kind, o.name])).toEqual([['unique index', index]]);
    expect(enforcing[0]!.role).toMatch(/^unique index on \(organization_id, user_id\) WHERE .*status = 'PENDING'/);
    expect(enforcing[0]!.definition).toMatch(/^CREATE UNIQUE INDEX/);
    expect(rule.map.fragilities).toEqual([]);
    expect(rule.confirmation).toMatchObject({ status: 'held', verdict: 'pass' });
    expect(rule.confirmation!.statement).toBe(`held over ${rule.confirmation!.runs} runs`);
  });

  it('flags a rule nothing enforces, and the run confirms it', async () => {
    const rule = await explainOne('one-pending-request', 'one-pending-request/mutants/non-unique-index-with-app-check.sql', { runs: 100, seed: 1 });
    expect(rule.map.objects.filter((o) => o.enforces)).toEqual([]);
    // The plain index is shown, as touching the rule's columns without enforcing it.
    expect(rule.map.objects.some((o) => o.kind === 'index' && !o.enforces)).toBe(true);
    expect(warnings(rule).map((f) => f.kind)).toEqual(['unenforced']);
    expect(rule.confirmation).toMatchObject({ status: 'confirmed', verdict: 'violation' });
    expect(rule.confirmation!.statement).toMatch(/^confirmed: nothing in the database enforces it — a violation was found/);
  });

  it('reads triggers for what they lock, skip and miss, without running (map only)', async () => {
    // Each fixture's header says why it passes or fails; the fragility the map must find follows from it.
    const cases: Array<[string, string, string[]]> = [
      ['one-active-membership', 'one-active-membership/mutants/unlocked-trigger-check.sql', ['unlocked-read']],
      ['one-active-membership', 'one-active-membership/mutants/locking-trigger-insert-only.sql', ['no-update']],
      ['one-active-membership', 'one-active-membership/equivalents/advisory-lock-trigger.sql', []],
      ['one-pending-request', 'one-pending-request/equivalents/lock-row-upsert-trigger.sql', []],
      ['one-tenant-per-user', 'one-tenant-per-user/mutants/no-demotion-check.sql', ['unwatched-update']],
      ['one-tenant-per-user', 'one-tenant-per-user/equivalents/deferred-constraint-triggers.sql', []],
      ['one-primary-provider', 'one-primary-provider/equivalents/generated-primary-key-unique.sql', []],
    ];
    for (const [id, schema, kinds] of cases) {
      const rule = await explainOne(id, schema);
      expect(warnings(rule).map((f) => f.kind), schema).toEqual(kinds);
      expect(rule.map.objects.some((o) => o.enforces), schema).toBe(true);
      expect(rule.confirmation, schema).toBeUndefined();
    }
    // The deferred constraint triggers lock in a function they call: the lock is found there, and deferrability noted.
    const deferred = await explainOne('one-tenant-per-user', 'one-tenant-per-user/equivalents/deferred-constraint-triggers.sql');
    expect(deferred.map.objects.find((o) => o.name === 'tenant_members_one_tenant_per_user')?.role).toMatch(/locks with SELECT … FOR NO KEY UPDATE/);
    expect(deferred.map.fragilities.filter((f) => f.kind === 'deferrable').map((f) => f.severity)).toEqual(['note', 'note']);
  });
});

describe('pgconform explain: triggers by what they do to the rule\'s columns', () => {
  it('a trigger that keeps a timestamp or a counter on the rule\'s table enforces nothing; one that changes a column the rule names does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-explain-'));
    const schema = join(dir, 'schema.sql');
    writeFileSync(
      schema,
      `${readFileSync(fixture('one-pending-request/reference.sql'), 'utf8')}
ALTER TABLE access_requests ADD COLUMN touched_at timestamptz, ADD COLUMN touches integer NOT NULL DEFAULT 0;
CREATE FUNCTION touch_request() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE access_requests SET touched_at = now(), touches = touches + 1 WHERE id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER access_requests_touch AFTER INSERT ON access_requests FOR EACH ROW EXECUTE FUNCTION touch_request();
CREATE FUNCTION expire_others() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE access_requests SET status = 'DENIED' WHERE organization_id = NEW.organization_id AND user_id = NEW.user_id AND id <> NEW.id AND status = 'PENDING';
  RETURN NEW;
END $$;
CREATE TRIGGER access_requests_expire_others BEFORE INSERT ON access_requests FOR EACH ROW EXECUTE FUNCTION expire_others();
`,
    );
    const explanation = await explainRules(server, { specs: [await spec('one-pending-request')], schema: [schema] });
    const objects = explanation.rules[0]!.map.objects;
    expect(objects.find((o) => o.name === 'access_requests_touch')?.enforces).toBe(false);
    expect(objects.find((o) => o.name === 'access_requests_expire_others')?.enforces).toBe(true);
  });
});

describe('pgconform explain (CLI)', () => {
  const url = () => inject('embeddedUrl');
  async function databases(): Promise<string[]> {
    const client = new pg.Client({ connectionString: url() });
    await client.connect();
    try {
      return (await client.query<{ datname: string }>('SELECT datname FROM pg_database ORDER BY 1')).rows.map((r) => r.datname);
    } finally {
      await client.end();
    }
  }

  it('--no-run maps a failing design, starts no run and exits 0', async () => {
    const before = await databases();
    const run = await pgconform(['explain', 'profile-requires-membership', '--no-run', '--json', '--url', url()]);
    expect(run.code, run.stderr).toBe(0);
    const document = JSON.parse(run.stdout);
    expect(document.schemaVersion).toBe(1);
    expect(document.run).toBeUndefined();
    expect(document.rules[0].confirmation).toBeUndefined();
    expect(document.rules[0].map.fragilities.some((f: { kind: string }) => f.kind === 'unlocked-read')).toBe(true);
    expect(await databases()).toEqual(before);
  });

  it('exits 1 when the confirming run finds a failure, and writes explain.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-explain-'));
    const schema = fixture('one-pending-request/mutants/non-unique-index-with-app-check.sql');
    const run = await pgconform(['explain', 'one-pending-request', '--schema', schema, '--seed', '1', '--url', url(), '--report-dir', dir]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/enforced by: nothing/);
    expect(run.stdout).toMatch(/confirmed: nothing in the database enforces it — a violation was found/);
    expect(run.stdout).toMatch(/session 1 +│ session 2/);
    const document = explainDocumentSchema.parse(JSON.parse(readFileSync(join(dir, 'explain.json'), 'utf8')));
    expect(document.rules[0]!.confirmation!.status).toBe('confirmed');
  });

  it('exit 2 and one line for a rule whose table the schema lacks', async () => {
    const run = await pgconform(['explain', 'one-tenant-per-user', '--no-run', '--quiet', '--schema', fixture('one-pending-request/reference.sql'), '--url', url()]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/no table "users" in the schema/);
  });
});
