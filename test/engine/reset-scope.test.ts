// The reset between executions returns to the template's contents (rows the schema seeded stay) and,
// on a large schema, covers only the tables an execution of the rule can write.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect } from '../../src/db/connection.ts';
import type { StartedServer } from '../../src/db/provider.ts';
import { Sandbox } from '../../src/db/sandbox.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { ScenarioExecutor } from '../../src/engine/executor.ts';
import { checkRule } from '../../src/engine/rule-check.ts';
import { idPool, valuePool } from '../../src/rules/pool.ts';
import { eq } from '../../src/rules/predicate.ts';
import type { Rule } from '../../src/rules/rule.ts';
import { scopedUnique } from '../../src/rules/scoped-unique.ts';

let server: StartedServer;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = await new UrlProvider(inject('embeddedUrl')).start();
});
afterAll(async () => {
  for (const sandbox of sandboxes) await sandbox.dispose();
  await server.stop();
});

async function open(schema: string, rule: Rule) {
  const sandbox = await Sandbox.create(server, [{ path: 'schema.sql', sql: schema }]);
  sandboxes.push(sandbox);
  const settings = await sandbox.createWorkerDatabase();
  return { executor: await ScenarioExecutor.open(rule, settings, { maxSessions: 4 }), client: await connect(settings) };
}

async function count(client: Awaited<ReturnType<typeof connect>>, table: string): Promise<number> {
  return (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
}

/** One published post per author and slug; posts name no language, so they take the default, language 0. */
const onePublishedSlug = scopedUnique({
  id: 'one-published-slug',
  title: 'one published post per author and slug',
  source: 'test',
  table: 'posts',
  primaryKey: { column: 'id', pool: idPool('post', 4) },
  columns: { author_id: idPool('author', 2), slug: valuePool('slug', ['a', 'b']), status: valuePool('status', ['draft', 'published']) },
  mutable: ['status'],
  unique: [{ key: ['author_id', 'slug'], where: eq('status', 'published') }],
});

const POSTS = `
  CREATE TABLE languages (id smallint PRIMARY KEY, code text NOT NULL UNIQUE);
  INSERT INTO languages SELECT i, 'l' || i FROM generate_series(0, 183) AS i;
  CREATE TABLE posts (id uuid PRIMARY KEY, author_id uuid NOT NULL, slug text NOT NULL, status text NOT NULL,
                      language_id smallint NOT NULL DEFAULT 0 REFERENCES languages);
  CREATE UNIQUE INDEX one_published ON posts (author_id, slug) WHERE status = 'published';`;

describe('reset between executions', () => {
  it('keeps the lookup rows the schema seeded: a foreign-key default pointing at them works in every scenario', async () => {
    const { executor, client } = await open(POSTS, onePublishedSlug);
    try {
      const check = await checkRule(onePublishedSlug, executor, { isolation: 'read-committed', runs: 40, seed: 3 });
      expect(check.error ?? check.verdict, JSON.stringify(check.counterexample?.verdict ?? check)).toBe('pass');
      expect(check.runs).toBe(40);
      expect(await count(client, 'languages')).toBe(184);
    } finally {
      await executor.close();
      await client.end();
    }
  });

  it('resets a table written only by a trigger of the rule table, and leaves the tables no execution writes alone', async () => {
    const schema = `${POSTS}
      CREATE TABLE post_events (id bigserial PRIMARY KEY, post_id uuid NOT NULL, happened text NOT NULL);
      CREATE FUNCTION log_post() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO post_events (post_id, happened) VALUES (NEW.id, TG_OP); RETURN NEW; END $$;
      CREATE TRIGGER post_logged AFTER INSERT OR UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION log_post();
      CREATE TABLE comments (id bigserial PRIMARY KEY, post_id uuid REFERENCES posts ON DELETE CASCADE, body text);
      CREATE TABLE invoices (id bigserial PRIMARY KEY, total numeric NOT NULL);`;
    const { executor, client } = await open(schema, onePublishedSlug);
    try {
      expect(executor.scope.kind).toBe('narrow');
      const tables = executor.scope.kind === 'narrow' ? [...executor.scope.tables].sort() : [];
      // comments: ON DELETE CASCADE from posts, but empty and never written, so no cascade can change it.
      expect(tables).toEqual(['public.post_events', 'public.posts']);
      await executor.reset();
      const post = idPool('post', 4).values[0];
      await client.query(`INSERT INTO posts (id, author_id, slug, status) VALUES ($1, $1, 'a', 'draft')`, [post]);
      expect(await count(client, 'post_events')).toBe(1);
      await executor.reset();
      expect(await count(client, 'post_events')).toBe(0);
      const { rows } = await client.query(`INSERT INTO post_events (post_id, happened) VALUES ($1, 'x') RETURNING id`, [post]);
      expect(Number(rows[0].id)).toBe(1);
    } finally {
      await executor.close();
      await client.end();
    }
  });

  it('resets a seeded child that a cascade from the rule table can change, and restores its rows', async () => {
    const schema = `${POSTS}
      CREATE TABLE featured (post_id uuid PRIMARY KEY REFERENCES posts ON DELETE CASCADE);
      CREATE TABLE archive (id bigserial PRIMARY KEY);
      INSERT INTO posts VALUES ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001', 'welcome', 'published');
      INSERT INTO featured VALUES ('00000000-0000-4000-8000-000000000001');`;
    const { executor, client } = await open(schema, onePublishedSlug);
    try {
      const tables = executor.scope.kind === 'narrow' ? [...executor.scope.tables].sort() : [];
      expect(tables).toEqual(['public.featured', 'public.posts']);
      await executor.reset();
      await client.query(`DELETE FROM posts`);
      expect(await count(client, 'featured')).toBe(0);
      await executor.reset();
      expect(await count(client, 'posts')).toBe(1);
      expect(await count(client, 'featured')).toBe(1);
    } finally {
      await executor.close();
      await client.end();
    }
  });

  it('resets every table when a trigger of the rule table runs dynamic SQL', async () => {
    const schema = `${POSTS}
      CREATE TABLE audit (id bigserial PRIMARY KEY, what text);
      CREATE FUNCTION audit_post() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN EXECUTE format('INSERT INTO %I (what) VALUES ($1)', 'audit') USING TG_OP; RETURN NEW; END $$;
      CREATE TRIGGER post_audited AFTER INSERT ON posts FOR EACH ROW EXECUTE FUNCTION audit_post();`;
    const { executor, client } = await open(schema, onePublishedSlug);
    try {
      expect(executor.scope).toMatchObject({ kind: 'all', reason: expect.stringMatching(/dynamic SQL/) });
      await executor.reset();
      await client.query(`INSERT INTO posts (id, author_id, slug, status) VALUES (gen_random_uuid(), gen_random_uuid(), 'a', 'draft')`);
      await executor.reset();
      expect(await count(client, 'audit')).toBe(0);
      expect(await count(client, 'languages')).toBe(184);
    } finally {
      await executor.close();
      await client.end();
    }
  });
});
