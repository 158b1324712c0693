// init on the keys and columns real schemas have (issue 13, causes 6 and 7): a composite primary key is a
// rule key and a row address, NOT NULL columns of many types are filled, a table's other unique keys do
// not make a CHECK rule over-restrictive, a singleton holds one row, and drafts stay in JSON with reasons.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config-file.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { runOnServer } from '../../src/engine/run.ts';
import { renderConfig } from '../../src/init/config-writer.ts';
import { inferConfig } from '../../src/init/infer-config.ts';
import { catalogOfSchema } from '../../src/init/init.ts';
import type { DraftRule, ProposedRule } from '../../src/init/proposal.ts';
import { schemaFiles } from '../../src/source/schema-source.ts';
import { testServers } from '../servers.ts';

const SCHEMA = `
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
CREATE TABLE follows (
  follower_id bigint NOT NULL REFERENCES users(id),
  followee_id bigint NOT NULL REFERENCES users(id),
  PRIMARY KEY (follower_id, followee_id)
);
CREATE TABLE settings (
  id bigint PRIMARY KEY,
  singleton boolean NOT NULL DEFAULT true,
  site_name varchar(40) NOT NULL,
  CONSTRAINT settings_one_row CHECK (singleton),
  CONSTRAINT settings_singleton_key UNIQUE (singleton)
);
CREATE TABLE identity_providers (
  id bigint PRIMARY KEY,
  provider text NOT NULL,
  CONSTRAINT provider_known CHECK (provider IN ('google', 'github')),
  CONSTRAINT identity_providers_provider_key UNIQUE (provider)
);
CREATE TABLE attachments (
  id bigint PRIMARY KEY,
  owner_id bigint,
  slug varchar(8) NOT NULL,
  body bytea NOT NULL,
  meta jsonb NOT NULL,
  tag_ids int[] NOT NULL,
  client_ip inet NOT NULL,
  ttl interval NOT NULL,
  ratio numeric(2,2) NOT NULL,
  display_name varchar(6) NOT NULL,
  removed_at timestamptz
);
CREATE UNIQUE INDEX attachments_owner_slug ON attachments (owner_id, slug) WHERE removed_at IS NULL;
CREATE TABLE api_keys (token varchar(12) NOT NULL UNIQUE, label text NOT NULL);
CREATE TABLE teams (id uuid PRIMARY KEY, tags jsonb NOT NULL DEFAULT '{}');
CREATE UNIQUE INDEX teams_owner ON teams (md5(tags::text));
`;
/** The same schema without the composite primary key of follows. */
const NO_FOLLOWS_KEY = SCHEMA.replace(',\n  PRIMARY KEY (follower_id, followee_id)', '');

const RUNS = 60;

describe.each(testServers())('init on keys and columns of real schemas ($name)', ({ url }) => {
  const dir = mkdtempSync(join(tmpdir(), 'pgconform-keys-'));
  writeFileSync(join(dir, 'schema.sql'), SCHEMA);
  writeFileSync(join(dir, 'no-follows-key.sql'), NO_FOLLOWS_KEY);

  async function proposal() {
    const server = await new UrlProvider(url).start();
    try {
      return inferConfig(await catalogOfSchema(server, schemaFiles([{ path: 'schema.sql', sql: SCHEMA }])));
    } finally {
      await server.stop();
    }
  }

  async function verdicts(ids: readonly string[], schema: string) {
    const config = join(dir, 'pgconform.config.json');
    writeFileSync(config, renderConfig(await proposal(), { from: 'schema.sql', schema: ['schema.sql'] }, 'json'));
    const { rules } = await loadConfig(config);
    const specs = rules.filter((rule) => ids.includes(rule.id)).map((rule) => ({ rule, file: config }));
    expect(specs.map((s) => s.rule.id).sort()).toEqual([...ids].sort());
    const server = await new UrlProvider(url).start();
    try {
      const result = await runOnServer(server, { specs, schema: [join(dir, schema)], isolation: ['read-committed'], runs: RUNS, seed: 3, workers: 1 });
      return Object.fromEntries(result.rules.map((r) => [r.id, r.verdict]));
    } finally {
      await server.stop();
    }
  }

  const ruleFor = (rules: readonly (ProposedRule | DraftRule)[], table: string) =>
    rules.find((r) => (r.kind === 'rule' ? (r.binding as { table?: string }).table : (r.draft as { table?: string }).table) === table);

  it('a composite primary key is a runnable rule keyed by its columns: it passes on its schema and catches the key dropped', async () => {
    const follows = ruleFor((await proposal()).rules, 'follows');
    expect(follows?.kind, (follows as DraftRule | undefined)?.reason).toBe('rule');
    const binding = (follows as ProposedRule).binding as { primaryKey: unknown; unique: { key: string[] }[] };
    expect(Object.keys((binding.primaryKey as { columns: object }).columns)).toEqual(['follower_id', 'followee_id']);
    expect(binding.unique[0]!.key).toEqual(['follower_id', 'followee_id']);
    const id = (follows as ProposedRule).binding.id;
    expect(await verdicts([id], 'schema.sql')).toEqual({ [id]: 'pass' });
    expect(await verdicts([id], 'no-follows-key.sql')).toEqual({ [id]: 'violation' });
  }, 300_000);

  it('fills NOT NULL bytea, jsonb, int[], inet, interval, numeric(2,2) and short varchar columns, and the rule passes', async () => {
    const { rules } = await proposal();
    const attachments = ruleFor(rules, 'attachments');
    expect(attachments?.kind, (attachments as DraftRule | undefined)?.reason).toBe('rule');
    const perRow = ((attachments as ProposedRule).binding as { perRow: Record<string, unknown> }).perRow;
    expect(Object.keys(perRow).sort()).toEqual(['body', 'client_ip', 'display_name', 'meta', 'ratio', 'tag_ids', 'ttl']);
    // A table without a primary key is addressed by its unique key on NOT NULL columns.
    const apiKeys = ruleFor(rules, 'api_keys');
    expect(apiKeys?.kind, (apiKeys as DraftRule | undefined)?.reason).toBe('rule');
    const ids = [(attachments as ProposedRule).binding.id, (apiKeys as ProposedRule).binding.id];
    expect(await verdicts(ids, 'schema.sql')).toEqual(Object.fromEntries(ids.map((id) => [id, 'pass'])));
  }, 300_000);

  it('a CHECK rule on a table with UNIQUE (provider), and a singleton table, pass on their own schema (no second row blamed on the schema)', async () => {
    const { rules } = await proposal();
    const ids = rules
      .filter((r): r is ProposedRule => r.kind === 'rule' && ['settings', 'identity_providers'].includes(String((r.binding as { table?: string }).table)))
      .map((r) => r.binding.id);
    expect(ids.sort()).toEqual(['identity-providers-provider-key', 'provider-known', 'settings-one-row', 'settings-singleton-key']);
    expect(await verdicts(ids, 'schema.sql')).toEqual(Object.fromEntries(ids.map((id) => [id, 'pass'])));
  }, 300_000);

  it('JSON keeps the drafts with their reasons, and loads with a note', async () => {
    const text = renderConfig(await proposal(), { from: 'schema.sql', schema: ['schema.sql'] }, 'json');
    const drafts = (JSON.parse(text) as { drafts?: { reason: string; draft: { id: string } }[] }).drafts ?? [];
    const teams = drafts.find((d) => d.draft.id === 'teams-owner');
    expect(teams?.reason).toMatch(/key expression md5\(.*which scoped-unique does not express \(the function md5\(\)\)/);
    const file = join(dir, 'with-drafts.config.json');
    writeFileSync(file, text);
    const loaded = await loadConfig(file);
    expect(loaded.rules.map((r) => r.id)).not.toContain('teams-owner');
    expect(loaded.notes.join('\n')).toMatch(/1 draft\(s\) under "drafts" are not run \(teams-owner\)/);
  }, 120_000);
});
