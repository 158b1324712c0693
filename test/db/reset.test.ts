// Emptying the tables between test cases: every shape of schema ends empty, and the replication-role
// switch (which empties the session's plan cache) is used only where deleting children first fails.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect } from '../../src/db/connection.ts';
import type { StartedServer } from '../../src/db/provider.ts';
import { planReset, resetSql } from '../../src/db/reset.ts';
import { Sandbox } from '../../src/db/sandbox.ts';
import { contentsOf } from '../../src/db/template-contents.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';

let server: StartedServer;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = await new UrlProvider(inject('embeddedUrl')).start();
});
afterAll(async () => {
  for (const sandbox of sandboxes) await sandbox.dispose();
  await server.stop();
});

/** Builds the schema, fills it with `rows`, runs the reset, and returns the reset SQL and what is left. */
async function resetAfter(schema: string, rows: string): Promise<{ sql: string; left: Record<string, number> }> {
  const sandbox = await Sandbox.create(server, [{ path: 'schema.sql', sql: schema }]);
  sandboxes.push(sandbox);
  const client = await connect(await sandbox.createWorkerDatabase());
  try {
    await client.query(rows);
    const sql = await resetSql(client);
    await client.query(sql);
    const { rows: counts } = await client.query<{ name: string; n: number }>(
      `SELECT c.relname AS name, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text::int AS n
         FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY 1`,
    );
    return { sql, left: Object.fromEntries(counts.map((r) => [r.name, r.n])) };
  } finally {
    await client.end();
  }
}

describe('reset between test cases', () => {
  it('empties tables related as a diamond children first, without switching the replication role', async () => {
    const { sql, left } = await resetAfter(
      `CREATE TABLE a (id int PRIMARY KEY);
       CREATE TABLE b (id int PRIMARY KEY, a int REFERENCES a ON DELETE RESTRICT);
       CREATE TABLE c (id int PRIMARY KEY, a int REFERENCES a ON DELETE RESTRICT);
       CREATE TABLE d (id int PRIMARY KEY, b int REFERENCES b ON DELETE RESTRICT, c int REFERENCES c ON DELETE RESTRICT);
       CREATE FUNCTION count_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
       CREATE TRIGGER on_insert BEFORE INSERT ON d FOR EACH ROW EXECUTE FUNCTION count_insert();`,
      `INSERT INTO a VALUES (1); INSERT INTO b VALUES (1, 1); INSERT INTO c VALUES (1, 1); INSERT INTO d VALUES (1, 1, 1);`,
    );
    expect(left).toEqual({ a: 0, b: 0, c: 0, d: 0 });
    expect(sql).not.toMatch(/session_replication_role/);
  });

  it('switches triggers off where a DELETE trigger would refuse the reset', async () => {
    const { sql, left } = await resetAfter(
      `CREATE TABLE ledger (id int PRIMARY KEY);
       CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger rows are never deleted'; END $$;
       CREATE TRIGGER no_delete BEFORE DELETE ON ledger FOR EACH ROW EXECUTE FUNCTION refuse();`,
      `INSERT INTO ledger VALUES (1), (2);`,
    );
    expect(left).toEqual({ ledger: 0 });
    expect(sql).toMatch(/session_replication_role = replica/);
  });

  it('empties tables that reference each other in a cycle', async () => {
    const { sql, left } = await resetAfter(
      `CREATE TABLE husband (id int PRIMARY KEY, wife int);
       CREATE TABLE wife (id int PRIMARY KEY, husband int REFERENCES husband);
       ALTER TABLE husband ADD FOREIGN KEY (wife) REFERENCES wife;`,
      `INSERT INTO husband VALUES (1, NULL); INSERT INTO wife VALUES (1, 1); UPDATE husband SET wife = 1;`,
    );
    expect(left).toEqual({ husband: 0, wife: 0 });
    expect(sql).toMatch(/session_replication_role = replica/);
  });

  it('empties a table whose rows reference each other with ON DELETE RESTRICT', async () => {
    const { sql, left } = await resetAfter(
      `CREATE TABLE employee (id int PRIMARY KEY, manager int REFERENCES employee ON DELETE RESTRICT);`,
      `INSERT INTO employee VALUES (1, NULL), (2, 1), (3, 2);`,
    );
    expect(left).toEqual({ employee: 0 });
    expect(sql).toMatch(/session_replication_role = replica/);
  });
});

describe('reset to the template contents', () => {
  // Lookup rows a migration inserted, a table whose identity the seed advanced, and a table of the test case's own.
  const schema = `
    CREATE TABLE languages (id smallint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL,
                            label text GENERATED ALWAYS AS (upper(code)) STORED);
    INSERT INTO languages (id, code, name) SELECT i, 'l' || i, 'Language ' || i FROM generate_series(0, 183) AS i;
    CREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE);
    INSERT INTO tags (name) VALUES ('news'), ('sport');
    CREATE TABLE posts (id serial PRIMARY KEY, language_id smallint NOT NULL DEFAULT 0 REFERENCES languages, tag_id bigint REFERENCES tags);`;

  async function worker() {
    const sandbox = await Sandbox.create(server, [{ path: 'schema.sql', sql: schema }]);
    sandboxes.push(sandbox);
    const settings = await sandbox.createWorkerDatabase();
    const client = await connect(settings);
    const plan = await planReset(client, { contents: contentsOf(settings)! });
    await client.query(plan.prepare);
    const state = async () =>
      (await client.query<{ state: string }>(`SELECT (SELECT json_agg(l ORDER BY id) FROM languages l)::text || (SELECT json_agg(t ORDER BY id) FROM tags t)::text AS state`)).rows[0]!.state;
    return { client, plan, template: await state(), state };
  }

  it('keeps the seeded rows, removes the rows a test case wrote and puts back the seeded rows it changed', async () => {
    const { client, plan, template, state } = await worker();
    try {
      await client.query(`INSERT INTO languages (id, code, name) VALUES (500, 'xx', 'Added');
        UPDATE languages SET name = 'Changed' WHERE id = 3; UPDATE languages SET id = 900 WHERE id = 7;
        DELETE FROM languages WHERE id = 150; INSERT INTO tags (name) VALUES ('added');
        INSERT INTO posts DEFAULT VALUES; INSERT INTO posts (language_id) VALUES (500);`);
      await client.query(plan.sql);
      expect(await state()).toBe(template);
      expect((await client.query('SELECT count(*)::int AS n FROM posts')).rows[0].n).toBe(0);
      // A foreign-key default pointing at a seeded row works after the reset, and serial values repeat.
      const { rows } = await client.query('INSERT INTO posts DEFAULT VALUES RETURNING id, language_id');
      expect(rows[0]).toEqual({ id: 1, language_id: 0 });
    } finally {
      await client.end();
    }
  });

  it('returns a sequence the seed advanced to its template value, not to its start', async () => {
    const { client, plan } = await worker();
    try {
      await client.query(`INSERT INTO tags (name) VALUES ('a'), ('b'), ('c')`);
      await client.query(plan.sql);
      const { rows } = await client.query(`INSERT INTO tags (name) VALUES ('again') RETURNING id`);
      expect(Number(rows[0].id)).toBe(3);
    } finally {
      await client.end();
    }
  });

  it('leaves seeded rows no test case touched as they are (not deleted and inserted again), restored ones too', async () => {
    const { client, plan } = await worker();
    try {
      const versions = async () => (await client.query<{ v: string }>(`SELECT string_agg(ctid::text || xmin::text, ',' ORDER BY id) AS v FROM languages`)).rows[0]!.v;
      const before = await versions();
      await client.query(`INSERT INTO posts DEFAULT VALUES; INSERT INTO tags (name) VALUES ('x')`);
      await client.query(plan.sql);
      expect(await versions()).toBe(before);
      await client.query(`UPDATE languages SET name = 'Changed' WHERE id = 3`);
      await client.query(plan.sql);
      const restored = await versions();
      expect(restored).not.toBe(before);
      await client.query(`INSERT INTO posts DEFAULT VALUES`);
      await client.query(plan.sql);
      expect(await versions()).toBe(restored);
    } finally {
      await client.end();
    }
  });
});
