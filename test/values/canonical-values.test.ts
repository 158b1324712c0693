// Issue 13, causes 1 and 5: the reference model sees values as PostgreSQL sees them, and a value the
// column's type refuses is found before the first scenario. Keys on every common key type, with pool
// values spelled differently from the server's output (and two spellings of one value in a pool): the
// correct unique index passes, the missing one is a violation.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/connection.ts';
import type { StartedServer } from '../../src/db/provider.ts';
import { Sandbox } from '../../src/db/sandbox.ts';
import { readSchemaFiles } from '../../src/db/schema-source.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { runOnServer } from '../../src/engine/run.ts';
import { isKitError } from '../../src/errors/kit-error.ts';
import { idPool, valuePool } from '../../src/rules/pool.ts';
import type { Rule, Value } from '../../src/rules/rule.ts';
import { scopedUnique } from '../../src/rules/scoped-unique.ts';
import type { LoadedSpec } from '../../src/spec/loader.ts';
import { readValueClasses } from '../../src/values/value-classes.ts';
import { testServers } from '../servers.ts';

/** A key type, and pool values: the first two are one value of the type in two spellings, neither the server's. */
const KEY_TYPES: ReadonlyArray<{ name: string; type: string; values: Value[] }> = [
  { name: 'timestamp6', type: 'timestamp(6)', values: ['2025-01-01T00:00:00Z', '2025-01-01T00:00:00.000000', '2025-02-01T00:00:00Z'] },
  { name: 'timestamptz', type: 'timestamptz', values: ['2025-01-01T00:00:00Z', '2025-01-01T02:00:00+02:00', 'infinity'] },
  { name: 'numeric', type: 'numeric(30,10)', values: ['1.5', '1.50', '2.25'] },
  { name: 'interval', type: 'interval', values: ['1 day', '24 hours', '2 days'] },
  { name: 'inet', type: 'inet', values: ['10.0.0.1/32', '10.000.0.1', '10.0.0.2'] },
  { name: 'citext', type: 'citext', values: ['A@X.COM', 'a@x.com', 'b@x.com'] },
  { name: 'text_array', type: 'text[]', values: ['{"a","b"}', '{a, b}', '{b}'] },
  { name: 'jsonb', type: 'jsonb', values: ['{"b":1,"a":2}', '{"a":2, "b":1}', '[1]'] },
  { name: 'domain', type: 'email_address', values: ['A@X.COM', 'a@x.com', 'b@x.com'] },
];

const PREAMBLE = `CREATE EXTENSION IF NOT EXISTS citext;\nCREATE DOMAIN email_address AS citext CHECK (VALUE LIKE '%@%');\n`;
const table = (name: string) => `key_${name}`;

function schemaFile(withIndexes: boolean): string {
  const tables = KEY_TYPES.map(({ name, type }) =>
    [`CREATE TABLE ${table(name)} (id bigint PRIMARY KEY, k ${type});`, withIndexes ? `CREATE UNIQUE INDEX ${table(name)}_k ON ${table(name)} (k);` : ''].join('\n'),
  );
  const file = join(mkdtempSync(join(tmpdir(), 'pgconform-values-')), withIndexes ? 'unique.sql' : 'missing.sql');
  writeFileSync(file, PREAMBLE + tables.join('\n'));
  return file;
}

function keyRule(name: string, values: readonly Value[], column = 'k'): Rule {
  return scopedUnique({
    id: `unique-${name}`,
    title: `k is unique (${name})`,
    source: 'test',
    table: table(name),
    primaryKey: { column: 'id', pool: idPool(`row-${name}`, 4, 'bigint') },
    columns: { [column]: valuePool(column, values) },
    unique: [{ key: [column] }],
  });
}

const specs: LoadedSpec[] = KEY_TYPES.map(({ name, values }) => ({ rule: keyRule(name, values), file: `unique-${name}.ts` }));
const UNIQUE = schemaFile(true);
const MISSING = schemaFile(false);

describe.each(testServers())('values as PostgreSQL sees them ($name)', ({ url }) => {
  let server: StartedServer;
  beforeAll(async () => {
    server = await new UrlProvider(url).start();
  });
  afterAll(async () => server.stop());

  const verdicts = async (schema: string) => {
    const result = await runOnServer(server, { specs, schema: [schema], isolation: ['read-committed'], runs: 40, seed: 1, workers: 2 });
    return Object.fromEntries(result.rules.map((r) => [r.id, r.verdict]));
  };

  it('a unique index on each key type passes when the pool spells its values unlike the server', { timeout: 400_000 }, async () => {
    expect(await verdicts(UNIQUE)).toEqual(Object.fromEntries(specs.map((s) => [s.rule.id, 'pass'])));
  });

  it('a missing unique index on each key type is still a violation', async () => {
    expect(await verdicts(MISSING)).toEqual(Object.fromEntries(specs.map((s) => [s.rule.id, 'violation'])));
  });

  it('equality is the type\'s: two spellings of one value are one class, and read values map back to it', async () => {
    const sandbox = await Sandbox.create(server, await readSchemaFiles([UNIQUE]));
    const client = await connect(sandbox.settingsFor(sandbox.template));
    try {
      const settings = async () => (await client.query("SELECT current_setting('DateStyle') AS d, pg_current_xact_id_if_assigned() IS NULL AS idle")).rows[0];
      const before = await settings();
      for (const { name, values } of KEY_TYPES) {
        const classes = await readValueClasses(client, keyRule(name, values));
        const [first, second, third] = values.map((v) => classes.operation({ kind: 'insert', args: { k: v } }).args.k);
        expect([name, second]).toEqual([name, first]);
        expect([name, third]).not.toEqual([name, first]);
      }
      // The round trip leaves the session as it found it: no transaction, no setting changed.
      expect(await settings()).toEqual(before);
    } finally {
      await client.end();
      await sandbox.dispose();
    }
  });
});

describe.each(testServers())('values the column type refuses ($name)', ({ url }) => {
  let server: StartedServer;
  beforeAll(async () => {
    server = await new UrlProvider(url).start();
  });
  afterAll(async () => server.stop());

  const schema = join(mkdtempSync(join(tmpdir(), 'pgconform-values-')), 'typed.sql');
  writeFileSync(
    schema,
    `CREATE TABLE tagged (id bigint PRIMARY KEY, tags text[]);\nCREATE TABLE handles (id bigint PRIMARY KEY, handle varchar(20) UNIQUE);\n` +
      `CREATE TABLE plain (id bigint PRIMARY KEY, code text UNIQUE);\n`,
  );
  const rule = (id: string, tableName: string, column: string, values: Value[]): LoadedSpec => ({
    rule: scopedUnique({
      id,
      title: id,
      source: 'test',
      table: tableName,
      primaryKey: { column: 'id', pool: idPool(id, 3, 'bigint') },
      columns: { [column]: valuePool(column, values) },
      unique: [{ key: [column] }],
    }),
    file: `${id}.ts`,
  });

  it.each([
    ['text into text[]', rule('tags-unique', 'tagged', 'tags', ['{a}', 'abc']), /rule tags-unique, key columns\.tags: the value "abc" does not suit column tagged\.tags of type text\[\]: malformed array literal/],
    ['30 characters into varchar(20)', rule('handle-unique', 'handles', 'handle', ['short', 'x'.repeat(30)]), new RegExp(`rule handle-unique, key columns\\.handle: the value "${'x'.repeat(30)}" does not suit column handles\\.handle of type character varying\\(20\\): value too long`)],
  ])('%s is reported before the first scenario of any rule, naming rule, key, column and value', async (_, bad, message) => {
    const good = rule('code-unique', 'plain', 'code', ['a', 'b']);
    const started: string[] = [];
    const run = runOnServer(server, {
      // The bad rule comes last: its values are checked before the first scenario of the good one.
      specs: [good, bad],
      schema: [schema],
      isolation: ['read-committed'],
      runs: 20,
      seed: 1,
      workers: 1,
      listener: { onCheckStart: (spec) => started.push(spec.rule.id) },
    });
    const error = await run.then(
      (result) => result.rules.find((r) => r.id === bad.rule.id)?.checks[0]?.error,
      (thrown: unknown) => {
        // A run the error stops must stop before the first scenario of any rule.
        expect(started).toEqual([]);
        return isKitError(thrown) ? thrown.toLine() : String(thrown);
      },
    );
    expect(error).toMatch(message);
    expect(started).not.toContain(bad.rule.id);
  });
});
