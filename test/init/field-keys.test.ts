// init on the keys real schemas have that it used to leave as drafts (issue 13, coverage): natural primary
// keys of lookup tables, rows the schema seeds itself (a default category, currency codes) reused by setup,
// foreign keys to text-keyed lookups, "not self" CHECKs, XOR CHECKs over two key columns, keys of bytea,
// inet, interval and text[], a CHECK init cannot read on a key column, ordered timestamps, a parent whose
// CHECK lists the values of its unique column, a one-to-one foreign key whose cascade rule is a draft, key
// expressions (lower(coalesce(x, '')), a JSON field), and a CHECK that ties a timestamp to the state.
// Every rule init proposes must pass on the schema it came from; each rule must catch its key dropped.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config-file.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { runOnServer } from '../../src/engine/run.ts';
import { renderConfig } from '../../src/init/config-writer.ts';
import { inferConfig } from '../../src/init/infer-config.ts';
import { catalogOfSchema } from '../../src/init/init.ts';
import type { DraftRule, InitProposal, ProposedRule } from '../../src/init/proposal.ts';
import { schemaFiles } from '../../src/source/schema-source.ts';
import { testServers } from '../servers.ts';

const SCHEMA = `
CREATE TABLE currencies (code varchar(3) PRIMARY KEY, name text NOT NULL);
INSERT INTO currencies VALUES ('USD', 'US dollar'), ('EUR', 'Euro'), ('JPY', 'Yen');
CREATE TABLE categories (id serial PRIMARY KEY, name varchar(40) NOT NULL, slug varchar(40) NOT NULL);
CREATE UNIQUE INDEX categories_slug_key ON categories (slug);
INSERT INTO categories (name, slug) VALUES ('Uncategorized', 'uncategorized');
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
CREATE TABLE invoices (
  id bigint PRIMARY KEY,
  category_id integer NOT NULL REFERENCES categories(id),
  currency_code varchar(3) NOT NULL REFERENCES currencies(code),
  number integer,
  status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'paid')),
  issued_at timestamptz,
  CONSTRAINT invoices_issued_needs_number CHECK (status = 'draft' OR (number IS NOT NULL AND issued_at IS NOT NULL))
);
CREATE UNIQUE INDEX invoices_number ON invoices (currency_code, number) WHERE status <> 'draft';
CREATE TABLE follows (
  follower_id bigint NOT NULL REFERENCES users(id),
  followee_id bigint NOT NULL REFERENCES users(id),
  PRIMARY KEY (follower_id, followee_id),
  CONSTRAINT follows_not_self CHECK (follower_id <> followee_id)
);
CREATE TABLE items (
  id bigint PRIMARY KEY,
  owner_id bigint NOT NULL REFERENCES users(id),
  price_id bigint,
  add_on_id bigint,
  CONSTRAINT items_price_xor_add_on CHECK ((price_id IS NOT NULL) <> (add_on_id IS NOT NULL))
);
CREATE UNIQUE INDEX items_owner_price ON items (owner_id, price_id) WHERE price_id IS NOT NULL;
CREATE UNIQUE INDEX items_owner_add_on ON items (owner_id, add_on_id) WHERE add_on_id IS NOT NULL;
CREATE TABLE tokens (id bigint PRIMARY KEY, digest bytea NOT NULL, client inet NOT NULL, ttl interval NOT NULL, scopes text[] NOT NULL);
CREATE UNIQUE INDEX tokens_digest ON tokens (digest);
CREATE UNIQUE INDEX tokens_client_ttl ON tokens (client, ttl);
CREATE UNIQUE INDEX tokens_scopes ON tokens (scopes);
CREATE TABLE budgets (
  id bigint PRIMARY KEY,
  team text NOT NULL,
  month date NOT NULL,
  CONSTRAINT budgets_first_of_month CHECK (date_trunc('month', month)::date = month)
);
CREATE UNIQUE INDEX budgets_team_month ON budgets (team, month);
CREATE TABLE shifts (
  id bigint PRIMARY KEY,
  schedule integer NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  CONSTRAINT shifts_order CHECK (ends_at > starts_at)
);
CREATE UNIQUE INDEX shifts_schedule_start ON shifts (schedule, starts_at);
CREATE TABLE identity_providers (
  id bigint PRIMARY KEY,
  provider text NOT NULL CONSTRAINT identity_providers_known CHECK (provider IN ('okta', 'google', 'saml')),
  CONSTRAINT identity_providers_provider_key UNIQUE (provider)
);
CREATE TABLE sso_domains (
  id bigint PRIMARY KEY,
  provider_id bigint NOT NULL REFERENCES identity_providers(id),
  domain text NOT NULL
);
CREATE UNIQUE INDEX sso_domains_domain ON sso_domains (domain);
CREATE TABLE incidents (id bigint PRIMARY KEY, title text NOT NULL);
CREATE TABLE postmortems (id bigint PRIMARY KEY, incident_id bigint NOT NULL REFERENCES incidents(id) ON DELETE CASCADE, body text);
CREATE UNIQUE INDEX postmortems_incident ON postmortems (incident_id);
CREATE TABLE alerts (
  id bigint PRIMARY KEY,
  service integer NOT NULL,
  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
  dedup_key text,
  resolved_at timestamptz,
  CONSTRAINT alerts_resolved_consistent CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE UNIQUE INDEX alerts_open_dedup ON alerts (service, lower(coalesce(dedup_key, ''))) WHERE state <> 'resolved';
CREATE TABLE resources (id bigint PRIMARY KEY, name text NOT NULL, tags jsonb NOT NULL DEFAULT '{}');
CREATE UNIQUE INDEX resources_owner_name ON resources (lower(coalesce(tags ->> 'owner', '')), name);
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE bookings (
  id bigint PRIMARY KEY,
  room integer NOT NULL,
  during tstzrange NOT NULL,
  ref text,
  CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)
);
CREATE UNIQUE INDEX bookings_ref ON bookings (ref);
CREATE DOMAIN email_address AS text CHECK (VALUE ~ '^[^@\\s]+@[^@\\s]+$');
CREATE TABLE workspaces (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  display_name text NOT NULL,
  slug text GENERATED ALWAYS AS (lower(display_name)) STORED,
  contact email_address NOT NULL,
  CONSTRAINT workspaces_id_name_key UNIQUE (id, display_name)
);
CREATE UNIQUE INDEX workspaces_slug ON workspaces (slug);
CREATE UNIQUE INDEX workspaces_contact ON workspaces (contact);
CREATE TABLE events (id bigint GENERATED BY DEFAULT AS IDENTITY, day date NOT NULL, dedupe text, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_rest PARTITION OF events DEFAULT;
CREATE UNIQUE INDEX events_dedupe ON events (dedupe, day);
CREATE SCHEMA auth;
CREATE TABLE auth.users (id uuid PRIMARY KEY, email varchar(255), phone text);
CREATE UNIQUE INDEX auth_users_email ON auth.users (email) WHERE email IS NOT NULL;
CREATE TABLE profiles (id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE, handle text NOT NULL);
CREATE UNIQUE INDEX profiles_handle ON profiles (lower(handle));
`;

/** Each key object, the table its rule is on, and the statement that drops it (the broken design). */
const KEYS: ReadonlyArray<{ object: string; table: string; drop: string }> = [
  { object: 'currencies_pkey', table: 'currencies', drop: 'ALTER TABLE currencies DROP CONSTRAINT currencies_pkey CASCADE' },
  { object: 'invoices_number', table: 'invoices', drop: 'DROP INDEX invoices_number' },
  { object: 'follows_pkey', table: 'follows', drop: 'ALTER TABLE follows DROP CONSTRAINT follows_pkey' },
  { object: 'items_owner_add_on', table: 'items', drop: 'DROP INDEX items_owner_add_on' },
  { object: 'items_owner_price', table: 'items', drop: 'DROP INDEX items_owner_price' },
  { object: 'tokens_digest', table: 'tokens', drop: 'DROP INDEX tokens_digest' },
  { object: 'tokens_client_ttl', table: 'tokens', drop: 'DROP INDEX tokens_client_ttl' },
  { object: 'tokens_scopes', table: 'tokens', drop: 'DROP INDEX tokens_scopes' },
  { object: 'budgets_team_month', table: 'budgets', drop: 'DROP INDEX budgets_team_month' },
  { object: 'shifts_schedule_start', table: 'shifts', drop: 'DROP INDEX shifts_schedule_start' },
  { object: 'sso_domains_domain', table: 'sso_domains', drop: 'DROP INDEX sso_domains_domain' },
  { object: 'postmortems_incident', table: 'postmortems', drop: 'DROP INDEX postmortems_incident' },
  { object: 'alerts_open_dedup', table: 'alerts', drop: 'DROP INDEX alerts_open_dedup' },
  // Without coalesce() two open alerts without a dedup key no longer collide: the NULL slips through.
  { object: 'alerts_open_dedup', table: 'alerts', drop: "DROP INDEX alerts_open_dedup; CREATE UNIQUE INDEX alerts_open_dedup ON alerts (service, lower(dedup_key)) WHERE state <> 'resolved'" },
  { object: 'resources_owner_name', table: 'resources', drop: 'DROP INDEX resources_owner_name' },
  // A stored generated column's key is written through its source (display_name); a domain with a pattern gets values it accepts.
  { object: 'workspaces_slug', table: 'workspaces', drop: 'DROP INDEX workspaces_slug' },
  { object: 'workspaces_contact', table: 'workspaces', drop: 'DROP INDEX workspaces_contact' },
  // users and auth.users: each name means the table PostgreSQL means; a key that is a foreign key takes the parent's ids.
  { object: 'auth_users_email', table: 'auth.users', drop: 'DROP INDEX auth.auth_users_email' },
  { object: 'profiles_handle', table: 'profiles', drop: 'DROP INDEX profiles_handle' },
  // A partitioned table: its rule is on the parent, whose unique index every partition shares.
  { object: 'events_dedupe', table: 'events', drop: 'DROP INDEX events_dedupe' },
  // The unique ref runs although the overlap exclusion of the same table is a draft of its own.
  { object: 'bookings_ref', table: 'bookings', drop: 'DROP INDEX bookings_ref' },
  // Case-sensitive: 'Owner 1' and 'OWNER 1' no longer collide.
  { object: 'resources_owner_name', table: 'resources', drop: "DROP INDEX resources_owner_name; CREATE UNIQUE INDEX resources_owner_name ON resources (coalesce(tags ->> 'owner', ''), name)" },
];

/** The pass check's budget; a broken design is judged at the default budget (200), as a CI gate would. */
const RUNS = 60;
const DEFAULT_RUNS = 200;

const tableOf = (rule: ProposedRule | DraftRule) => String(((rule.kind === 'rule' ? rule.binding : rule.draft) as { table?: string }).table);
const mentions = (rule: ProposedRule | DraftRule, object: string) => JSON.stringify(rule.kind === 'rule' ? rule.binding : rule.draft).includes(`"${object}"`) || rule.comment.join(' ').includes(object);

describe.each(testServers())('init on the keys of real schemas, part two ($name)', ({ url }) => {
  const dir = mkdtempSync(join(tmpdir(), 'pgconform-field-keys-'));
  const config = join(dir, 'pgconform.config.json');
  let proposal: InitProposal;

  beforeAll(async () => {
    writeFileSync(join(dir, 'schema.sql'), SCHEMA);
    const server = await new UrlProvider(url).start();
    try {
      proposal = inferConfig(await catalogOfSchema(server, schemaFiles([{ path: 'schema.sql', sql: SCHEMA }])));
    } finally {
      await server.stop();
    }
    writeFileSync(config, renderConfig(proposal, { from: 'schema.sql', schema: ['schema.sql'] }, 'json'));
  }, 300_000);

  /** The runnable scoped-unique rule that names a key object. */
  function ruleNaming(object: string, table: string): ProposedRule {
    const rule = proposal.rules.find((r) => tableOf(r) === table && mentions(r, object) && (r.kind === 'draft' || r.binding.template === 'scoped-unique'));
    expect(rule?.kind, `${object}: ${rule?.kind === 'draft' ? rule.reason : 'no rule names it'}`).toBe('rule');
    return rule as ProposedRule;
  }

  async function verdicts(ids: readonly string[], schema: string, runs = RUNS): Promise<Record<string, string>> {
    const { rules } = await loadConfig(config);
    const specs = rules.filter((rule) => ids.includes(rule.id)).map((rule) => ({ rule, file: config }));
    const server = await new UrlProvider(url).start();
    try {
      const result = await runOnServer(server, { specs, schema: [schema], isolation: ['read-committed'], runs, seed: 5, workers: 2 });
      return Object.fromEntries(result.rules.map((r) => [r.id, r.checks[0]?.error ? `${r.verdict}: ${r.checks[0].error}` : r.verdict]));
    } finally {
      await server.stop();
    }
  }

  it('every key object becomes a runnable rule, and the seeded parents are reused rather than inserted again', () => {
    for (const { object, table } of KEYS) ruleNaming(object, table);
    const invoices = ruleNaming('invoices_number', 'invoices').binding as { setup?: Record<string, unknown[]>; perRow?: Record<string, unknown>; otherChecks?: unknown };
    // The seeded category (id 1) is not in the setup; the currency codes come from the seeded lookup.
    expect(JSON.stringify(invoices.setup?.categories ?? [])).not.toMatch(/"id":\s*1\b/);
    expect(JSON.stringify(invoices.setup?.currencies ?? [])).not.toMatch(/USD|EUR|JPY/);
    const follows = ruleNaming('follows_pkey', 'follows').binding as { primaryKey: { columns: Record<string, unknown> } };
    expect(follows.primaryKey.columns.follower_id).not.toEqual(follows.primaryKey.columns.followee_id);
    const items = ruleNaming('items_owner_add_on', 'items').binding as { otherChecks?: { name: string }[] };
    expect(items.otherChecks?.map((c) => c.name)).toEqual(['items_price_xor_add_on']);
    // A key expression is kept as the index has it; resolved_at follows the state through the model's CHECK.
    const alerts = ruleNaming('alerts_open_dedup', 'alerts').binding as { unique: { expressions?: Record<string, string> }[]; columns: Record<string, unknown>; otherChecks?: { name: string }[] };
    expect(alerts.unique[0]?.expressions?.dedup_key).toMatch(/lower\(COALESCE\(dedup_key, ''(::text)?\)\)/);
    expect(Object.keys(alerts.columns)).toContain('resolved_at');
    expect(alerts.otherChecks?.map((c) => c.name)).toContain('alerts_resolved_consistent');
    const overlap = proposal.rules.find((r) => r.kind === 'draft' && JSON.stringify(r.draft).includes('bookings_no_overlap'));
    expect(overlap?.kind === 'draft' && overlap.reason).toMatch(/compares with &&/);
    const resources = ruleNaming('resources_owner_name', 'resources').binding as { columns: Record<string, { values: string[] }> };
    expect(resources.columns.tags?.values).toContainEqual('{}');
  });

  it('every rule init proposes passes on the schema it came from', async () => {
    const ids = proposal.rules.filter((r): r is ProposedRule => r.kind === 'rule').map((r) => r.binding.id);
    const found = await verdicts(ids, join(dir, 'schema.sql'));
    expect(found).toEqual(Object.fromEntries(ids.map((id) => [id, 'pass'])));
  }, 900_000);

  it.each(KEYS.map((key) => [key.object, key.drop, key] as const))('the rule for %s catches it broken (%s)', async (_object, _drop, key) => {
    const id = ruleNaming(key.object, key.table).binding.id;
    const broken = join(dir, `without-${key.object}-${KEYS.indexOf(key)}.sql`);
    writeFileSync(broken, `${SCHEMA}\n${key.drop};\n`);
    expect(await verdicts([id], broken, DEFAULT_RUNS)).toEqual({ [id]: 'violation' });
  }, 300_000);
});
