// Schema sources of `pgconform run`: a migrations folder, the user's migration command, and the schema
// copied from a live database (pg_dump, or the catalog where pg_dump cannot read the server). Every source
// database is created here as pgconform_src_* and dropped after; the copies must give the same verdicts as
// the files they came from, and the source must be left exactly as it was.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connect, settingsFromUrl, settingsToUrl, withDatabase } from '../../src/db/connection.ts';
import { freePort } from '../../src/db/embedded-provider.ts';
import type { StartedServer } from '../../src/db/provider.ts';
import { dropDatabase, Sandbox } from '../../src/db/sandbox.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { runOnServer } from '../../src/engine/run.ts';
import { readSchemaFiles } from '../../src/db/schema-source.ts';
import type { VerdictKind } from '../../src/engine/verdict.ts';
import { isKitError, type KitError } from '../../src/errors/kit-error.ts';
import { compareSchema, readFacts, type DatabaseFacts } from '../../src/migration/database-facts.ts';
import { liveSchemaSource, readLiveSchema } from '../../src/source/live-schema.ts';
import { migrateCommand } from '../../src/source/migrate-command.ts';
import { applicableDump, installedPgDumps } from '../../src/source/pg-dump.ts';
import { readMigrations, readSources } from '../../src/source/read-source.ts';
import { schemaFiles, type SchemaSource } from '../../src/source/schema-source.ts';
import { expectedVerdict, parseFixture } from '../../src/spec/fixture.ts';
import { defaultSpecsDir, loadSpecs } from '../../src/spec/loader.ts';
import { schemaSourceOf } from '../../src/cli/schema-options.ts';
import { initCommand } from '../../src/cli/commands/init.ts';
import { loadConfig } from '../../src/config/config-file.ts';
import type { CommandContext } from '../../src/cli/context.ts';
import { testServers } from '../servers.ts';
import { pgconform as inProcess } from '../cli-run.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'pgconform.js');
const RULE = 'one-pending-request';
const REFERENCE = join(ROOT, 'fixtures', RULE, 'reference.sql');
const MUTANT = join(ROOT, 'fixtures', RULE, 'mutants', 'lowercase-status-predicate.sql');
const [spec] = await loadSpecs([RULE], defaultSpecsDir());

const tempDir = () => mkdtempSync(join(tmpdir(), 'pgconform-sources-'));
const expected = (file: string): VerdictKind => expectedVerdict(parseFixture(file, 'mutant'), RULE)!;

/** `pgconform run one-pending-request …` as a user runs it, in a process of its own (not blocking, so CLI tests run two at a time). */
function pgconform(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, 'run', RULE, '--no-corpus', '--format', 'json', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: '' }, timeout: 120_000 }, (_, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

/** Collects what a command prints, as the CLI's context would. */
function output(): { lines: string[]; context: CommandContext } {
  const lines: string[] = [];
  return { lines, context: { out: (line) => lines.push(line), err: (line) => lines.push(line) } };
}

/** True while a process runs (a killed child that nobody has reaped yet is a zombie: not running). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const servers: StartedServer[] = [];
async function serverAt(url: string): Promise<StartedServer> {
  const server = await new UrlProvider(url).start();
  servers.push(server);
  return server;
}

/** The verdict of the rule on a schema, with few runs and a fixed seed. */
async function verdictOn(server: StartedServer, schema: readonly string[] | SchemaSource, runs: number): Promise<VerdictKind> {
  const result = await runOnServer(server, { specs: [spec!], schema, isolation: ['read-committed'], runs, seed: 1, workers: 1 });
  expect(result.error).toBeUndefined();
  return result.rules[0]!.verdict;
}

/** Source databases made by the tests: pgconform_* so that only the kit's own databases are ever touched. */
const sources: Array<{ url: string; name: string }> = [];
async function sourceDatabase(url: string, sql: string): Promise<string> {
  const name = `pgconform_src_${randomBytes(4).toString('hex')}`;
  const admin = await connect(settingsFromUrl(url));
  try {
    sources.push({ url, name });
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const source = settingsToUrl(withDatabase(settingsFromUrl(url), name));
  await withClient(source, (client) => client.query(sql));
  return source;
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(settingsFromUrl(url));
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** The facts of a sandbox's template database: what the schema source built. */
async function templateFacts(sandbox: Sandbox): Promise<DatabaseFacts> {
  const client = await connect(sandbox.settingsFor(sandbox.template));
  try {
    return await readFacts(client);
  } finally {
    await client.end();
  }
}

/** What readFacts does not look at: types (enum labels, domain checks, composite fields, range subtypes), view bodies, sequences, extensions. */
async function typeFacts(client: pg.Client): Promise<string[]> {
  const user = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'`;
  const { rows } = await client.query<{ lines: string[] }>(`
    SELECT coalesce(array_agg(line ORDER BY line), '{}') AS lines FROM (
      SELECT 'type ' || t.oid::regtype::text || ' ' || t.typtype::text || coalesce(' over ' || format_type(t.typbasetype, t.typtypmod), '')
             || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
             || coalesce(' enum ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
             || coalesce(' checks ' || (SELECT string_agg(pg_get_constraintdef(k.oid), ',' ORDER BY pg_get_constraintdef(k.oid)) FROM pg_constraint k WHERE k.contypid = t.oid), '')
             || coalesce(' fields ' || (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum)
                                          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.oid = t.typrelid AND c.relkind = 'c' AND a.attnum > 0), '')
             || coalesce(' range of ' || (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid), '') AS line
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE ${user} AND t.typtype IN ('e', 'd', 'c', 'r') AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
      UNION ALL
      SELECT 'view ' || c.oid::regclass::text || ' ' || pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${user} AND c.relkind IN ('v', 'm')
      UNION ALL
      SELECT format('sequence %s %s %s %s %s', s.seqrelid::regclass, format_type(s.seqtypid, NULL), s.seqincrement, s.seqstart, s.seqmax) FROM pg_sequence s
      UNION ALL
      SELECT 'extension ' || x.extname || ' in ' || x.extnamespace::regnamespace::text FROM pg_extension x
    ) AS objects`);
  return rows[0]!.lines;
}

/** A migration tool of our own: applies a file through DATABASE_URL after checking that PG* name the same database. */
function migrationScript(file: string): string {
  const script = join(tempDir(), 'migrate.mjs');
  writeFileSync(
    script,
    `import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const pg = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('pg');
const byUrl = new pg.Client({ connectionString: process.env.DATABASE_URL });
const byEnv = new pg.Client();
await byUrl.connect();
await byEnv.connect();
const [a, b] = await Promise.all([byUrl, byEnv].map(async (c) => (await c.query('SELECT current_database() AS d')).rows[0].d));
if (a !== b || !a.endsWith('_template')) { console.error('PG* and DATABASE_URL disagree: ' + a + ' ' + b); process.exit(5); }
await byUrl.query(readFileSync(${JSON.stringify(file)}, 'utf8'));
console.log('migrated ' + a);
await byUrl.end();
await byEnv.end();
`,
  );
  return script;
}

afterAll(async () => {
  for (const { url, name } of sources) {
    await withClient(url, async (admin) => dropDatabase(admin, name, Number((await admin.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v)));
  }
  for (const server of servers) await server.stop();
});

describe('--schema and --migrations', () => {
  it('reads files and folders in order, a folder in name order with numbers compared as numbers', async () => {
    const dir = tempDir();
    for (const name of ['10_index.sql', '2_table.sql']) writeFileSync(join(dir, name), `-- ${name}`);
    const files = await readSources(['fixtures/one-pending-request/reference.sql', dir], { cwd: ROOT });
    expect(files.map((f) => f.path)).toEqual([REFERENCE, join(dir, '2_table.sql'), join(dir, '10_index.sql')]);
    await expect(readMigrations('fixtures/one-pending-request/reference.sql', { cwd: ROOT })).rejects.toThrow(/--migrations wants a folder/);
  });

  it('applies a migrations folder in numeric order and gets the verdict of the single file it splits', async () => {
    // reference.sql cut into three migrations; name order would run 10_ before 2_ and fail.
    const dir = tempDir();
    const reference = readFileSync(REFERENCE, 'utf8');
    const table = /CREATE TABLE[\s\S]*?\);\n/.exec(reference)![0];
    const index = /CREATE UNIQUE INDEX[\s\S]*?;\n/.exec(reference)![0];
    const check = /CHECK \(status IN \([^)]*\)\)/.exec(table)![0];
    writeFileSync(join(dir, '1_table.sql'), table.replace(` ${check}`, ''));
    writeFileSync(join(dir, '2_check.sql'), `ALTER TABLE access_requests ADD ${check};\n`);
    writeFileSync(join(dir, '10_index.sql'), index);
    const files = await readMigrations(dir);
    expect(files.map((f) => f.path)).toEqual(['1_table.sql', '2_check.sql', '10_index.sql'].map((n) => join(dir, n)));
    const server = await serverAt(inject('embeddedUrl'));
    expect(await verdictOn(server, schemaFiles(files), 30)).toBe(expected(REFERENCE));
  });

  /** reference.sql cut into three migrations: the table, its CHECK, its unique index (in that order only does it apply). */
  function referenceParts(): [string, string, string] {
    const reference = readFileSync(REFERENCE, 'utf8');
    const table = /CREATE TABLE[\s\S]*?\);\n/.exec(reference)![0];
    const index = /CREATE UNIQUE INDEX[\s\S]*?;\n/.exec(reference)![0];
    const check = /CHECK \(status IN \([^)]*\)\)/.exec(table)![0];
    return [table.replace(` ${check}`, ''), `ALTER TABLE access_requests ADD ${check};\n`, index];
  }

  /** Writes files (relative path → SQL) into a new folder. */
  function folderOf(files: Record<string, string>): string {
    const dir = tempDir();
    for (const [path, sql] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), sql);
    }
    return dir;
  }

  const [TABLE, CHECK, INDEX] = referenceParts();
  /** Each layout, built from the reference; a down file that ran on the way up would drop the table and fail. */
  const LAYOUTS: Record<string, { files: Record<string, string>; applied: string[] }> = {
    'golang-migrate': {
      files: { '000001_table.up.sql': TABLE, '000001_table.down.sql': 'DROP TABLE access_requests;', '000002_check.up.sql': CHECK, '000002_check.down.sql': 'DROP TABLE nothing;', '000010_index.up.sql': INDEX, '000010_index.down.sql': 'DROP INDEX nothing;' },
      applied: ['000001_table.up.sql', '000002_check.up.sql', '000010_index.up.sql'],
    },
    flyway: {
      files: { 'V1__table.sql': TABLE, 'V1.2__check.sql': CHECK, 'V1.10__index.sql': '-- nothing yet\n', 'R__index.sql': INDEX, 'U1__undo.sql': 'DROP TABLE access_requests;' },
      applied: ['V1__table.sql', 'V1.2__check.sql', 'V1.10__index.sql', 'R__index.sql'],
    },
    prisma: {
      files: { '20240101120000_init/migration.sql': TABLE, '20240215093000_status_check/migration.sql': CHECK, '20241001000000_pending_index/migration.sql': INDEX, 'migration_lock.toml': 'provider = "postgresql"\n' },
      applied: ['20240101120000_init/migration.sql', '20240215093000_status_check/migration.sql', '20241001000000_pending_index/migration.sql'],
    },
    diesel: {
      files: { '2024-01-01-120000_init/up.sql': TABLE, '2024-01-01-120000_init/down.sql': 'DROP TABLE access_requests;', '2024-02-15-093000_check/up.sql': CHECK, '2024-10-01-000000_index/up.sql': INDEX, '2024-10-01-000000_index/down.sql': 'DROP INDEX x;' },
      applied: ['2024-01-01-120000_init/up.sql', '2024-02-15-093000_check/up.sql', '2024-10-01-000000_index/up.sql'],
    },
    'rails structure.sql': { files: { 'structure.sql': TABLE + CHECK + INDEX, 'seeds.sql': 'DROP TABLE access_requests;' }, applied: ['structure.sql'] },
  };

  it.each(Object.keys(LAYOUTS))('reads a %s folder in its order, leaving out what the way up does not run, with the flat file\'s verdict', async (layout) => {
    const { files, applied } = LAYOUTS[layout]!;
    const dir = folderOf(files);
    const lines: string[] = [];
    const read = await readMigrations(dir, { onLayout: (line) => lines.push(line) });
    expect(read.map((f) => f.path)).toEqual(applied.map((path) => join(dir, path)));
    expect(lines).toEqual([expect.stringContaining(`${layout} layout, ${applied.length} file${applied.length === 1 ? '' : 's'} applied`)]);
    const server = await serverAt(inject('embeddedUrl'));
    expect(await verdictOn(server, schemaFiles(read), 30)).toBe(expected(REFERENCE));
  });

  it('init reads a migrations folder, and the configuration it writes builds the schema from that folder again', async () => {
    const dir = folderOf(LAYOUTS.prisma!.files);
    const out = join(tempDir(), 'pgconform.config.json');
    const { lines, context } = output();
    const code = await initCommand({ migrations: dir, url: inject('embeddedUrl'), format: 'json', out }, context);
    expect(code, lines.join('\n')).toBe(0);
    expect(lines).toContainEqual(expect.stringContaining('prisma layout, 3 files applied'));
    const config = await loadConfig(out);
    expect(config.schema).toEqual(LAYOUTS.prisma!.applied.map((path) => join(dir, path)));
    const rule = config.rules.find((r) => r.tables.includes('access_requests') && /pending/.test(r.id));
    expect(rule, config.rules.map((r) => r.id).join(', ')).toBeDefined();
    const server = await serverAt(inject('embeddedUrl'));
    const result = await runOnServer(server, { specs: [{ rule: rule!, file: out }], schema: config.schema!, isolation: ['read-committed'], runs: 30, seed: 1, workers: 1 });
    expect(result.rules[0]!.verdict).toBe('pass');
  });

  it('init reads a schema the user\'s migration tool builds (--migrate-cmd), and says how to run it the same way', async () => {
    const out = join(tempDir(), 'pgconform.config.json');
    const command = `node ${migrationScript(REFERENCE)}`;
    const { lines, context } = output();
    const code = await initCommand({ migrateCmd: command, url: inject('embeddedUrl'), format: 'json', out }, context);
    expect(code, lines.join('\n')).toBe(0);
    expect(lines).toContainEqual(expect.stringContaining(`--migrate-cmd ${JSON.stringify(command)}`));
    const config = await loadConfig(out);
    expect(config.rules.some((r) => r.tables.includes('access_requests'))).toBe(true);
  });

  it('follows symlinked files and folders, and reads a layout from a git revision alike', async () => {
    const real = folderOf({ 'a/migration.sql': TABLE, 'b.sql': CHECK });
    const dir = folderOf({ '20240301000000_index/migration.sql': INDEX });
    symlinkSync(join(real, 'a'), join(dir, '20240101000000_init'));
    mkdirSync(join(dir, '20240201000000_check'));
    symlinkSync(join(real, 'b.sql'), join(dir, '20240201000000_check', 'migration.sql'));
    const onDisk = await readMigrations(dir);
    expect(onDisk.map((f) => f.sql)).toEqual([TABLE, CHECK, INDEX]);

    const repo = folderOf(Object.fromEntries(Object.entries(LAYOUTS['golang-migrate']!.files).map(([path, sql]) => [`db/migrations/${path}`, sql])));
    const git = (...args: string[]) => new Promise<void>((done, fail) => execFile('git', args, { cwd: repo }, (error) => (error ? fail(error) : done())));
    await git('init', '-q');
    await git('add', '.');
    await git('-c', 'user.email=kit@example.com', '-c', 'user.name=kit', 'commit', '-qm', 'migrations');
    const fromGit = await readSources(['HEAD:db/migrations'], { cwd: repo });
    expect(fromGit.map((f) => f.path)).toEqual(LAYOUTS['golang-migrate']!.applied.map((name) => `HEAD:db/migrations/${name}`));
  });

  it('an error raised while a statement runs names the file and the line of that statement; a missing extension says what to do', async () => {
    const server = await serverAt(inject('embeddedUrl'));
    const dir = folderOf({
      '1_table.sql': 'CREATE TABLE a (id int);\n',
      '2_alter.sql': "-- adds columns\nALTER TABLE a ADD COLUMN note text DEFAULT 'x;y';\n\nALTER TABLE missing\n  ADD COLUMN b int;\nCREATE INDEX a_note ON a (note);\n",
      '3_extension.sql': '-- partitions\nCREATE TABLE b (id int);\nCREATE EXTENSION IF NOT EXISTS pg_no_such_extension;\n',
    });
    const refusal = async (names: string[]) => {
      const error = await Sandbox.create(server, await readSchemaFiles(names.map((n) => join(dir, n)))).then(
        async (sandbox) => sandbox.dispose(),
        (failure: unknown) => failure,
      );
      expect(isKitError(error) && error.exitCode, String(error)).toBe(2);
      return (error as KitError).toLine();
    };
    expect(await refusal(['1_table.sql', '2_alter.sql'])).toMatch(/2_alter\.sql:4: the schema does not apply: relation "missing" does not exist/);
    const extension = await refusal(['1_table.sql', '3_extension.sql']);
    expect(extension).toMatch(/3_extension\.sql:3: the schema does not apply: extension "pg_no_such_extension" is not available/);
    expect(extension).toMatch(/the server lacks the extension pg_no_such_extension/);
  });

  it('--without-extension leaves out its CREATE EXTENSION and each statement that then fails, naming each with file:line, and the run goes on', async () => {
    const dir = folderOf({
      'dump.sql': [
        '-- a vendor dump',
        'CREATE EXTENSION IF NOT EXISTS pg_no_such_extension WITH SCHEMA public;',
        TABLE.trim(),
        'CREATE TABLE measurements (id int PRIMARY KEY, shape public.no_such_type);',
        "SELECT public.no_such_function('public.access_requests', 'created_at');",
        CHECK.trim(),
        INDEX.trim(),
        '',
      ].join('\n'),
    });
    const dump = join(dir, 'dump.sql');
    const without = await inProcess(['run', RULE, '--schema', dump, '--url', inject('embeddedUrl'), '--runs', '30', '--seed', '1', '--report-dir', tempDir()]);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/dump\.sql:2: the schema does not apply: extension "pg_no_such_extension" is not available/);
    const run = await inProcess(['run', RULE, '--schema', dump, '--without-extension', 'pg_no_such_extension', '--url', inject('embeddedUrl'), '--runs', '30', '--seed', '1', '--report-dir', tempDir()]);
    expect(run.code, run.stderr).toBe(expected(REFERENCE) === 'pass' ? 0 : 1);
    const lines = run.stderr.split('\n').filter((line) => line.includes('dump.sql:'));
    expect(lines).toEqual([
      expect.stringMatching(/dump\.sql:2: CREATE EXTENSION pg_no_such_extension left out \(--without-extension\)$/),
      expect.stringMatching(/dump\.sql:\d+: table measurements not built: type "public\.no_such_type" does not exist$/),
      expect.stringMatching(/dump\.sql:\d+: "SELECT public\.no_such_function.*" not built: function public\.no_such_function\(unknown, unknown\) does not exist$/),
    ]);
  });

  it('a usage error (exit 2) when two schema options are given', async () => {
    const failure = await schemaSourceOf({ schema: [REFERENCE], migrateCmd: 'true' }, output().context).catch((error: unknown) => error);
    expect(isKitError(failure) && failure.exitCode).toBe(2);
    expect((failure as KitError).toLine()).toBe('pgconform: --schema and --migrate-cmd name the schema in different ways: give only one (one of --schema, --migrations, --migrate-cmd, --schema-from)');
  });
});

describe('--migrate-cmd', () => {
  it('streams the output with verbose, and builds nothing else than what the command made', async () => {
    const server = await serverAt(inject('embeddedUrl'));
    const lines: string[] = [];
    const sandbox = await Sandbox.create(server, migrateCommand(`node ${migrationScript(REFERENCE)}`, { verbose: true, show: (line) => lines.push(line) }));
    try {
      expect(lines).toEqual([`migrated ${sandbox.template}`]);
      expect(sandbox.schema).toEqual([]);
      const files = await Sandbox.create(server, await readSources([REFERENCE]));
      try {
        expect(compareSchema(await templateFacts(files), await templateFacts(sandbox))).toEqual([]);
      } finally {
        await files.dispose();
      }
    } finally {
      await sandbox.dispose();
    }
  });

  it('hides the password the command is given from what it prints', async () => {
    const server = await serverAt(inject('embeddedUrl'));
    const password = settingsFromUrl(inject('embeddedUrl')).password!;
    expect(password).toBeTruthy();
    const lines: string[] = [];
    const sandbox = await Sandbox.create(server, migrateCommand('echo "url=$DATABASE_URL pw=$PGPASSWORD"', { verbose: true, show: (line) => lines.push(line) }));
    await sandbox.dispose();
    expect(lines).toEqual([`url=postgresql://postgres:***@${server.settings.host}:${server.settings.port}/${sandbox.template} pw=***`]);
  });

  it('a schema error (exit 2) with a clear line for a command that does not exist', async () => {
    const server = await serverAt(inject('embeddedUrl'));
    const { lines, context } = output();
    const source = await schemaSourceOf({ migrateCmd: 'no-such-migrate-tool up' }, context);
    const failure = await Sandbox.create(server, source!).catch((error: unknown) => error);
    expect(isKitError(failure) && failure.exitCode).toBe(2);
    expect((failure as KitError).toLine()).toMatch(/^pgconform: --migrate-cmd "no-such-migrate-tool up": the migration command cannot be started: no-such-migrate-tool was not found \(/);
    expect(lines.join('\n')).toMatch(/no-such-migrate-tool: not found/);
  });

  it('stops a command that runs past its time limit, with its children, and leaves no database behind', async () => {
    const server = await serverAt(inject('embeddedUrl'));
    const pidFile = join(tempDir(), 'pid');
    const before = await withClient(inject('embeddedUrl'), async (c) => (await c.query('SELECT datname FROM pg_database ORDER BY 1')).rows);
    const started = performance.now();
    const failure = await Sandbox.create(server, migrateCommand(`sleep 30 & echo $! > ${pidFile}; wait`, { timeoutMs: 1000 })).catch((error: unknown) => error);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(isKitError(failure) && failure.exitCode).toBe(3);
    expect((failure as Error).message).toMatch(/did not finish within 1 s and was stopped/);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    expect(isRunning(sleeper)).toBe(false);
    expect(await withClient(inject('embeddedUrl'), async (c) => (await c.query('SELECT datname FROM pg_database ORDER BY 1')).rows)).toEqual(before);
  });

});

// A schema with most of what applications use, for the copy to reproduce object by object.
const RICH_SCHEMA = `
CREATE EXTENSION citext;
CREATE EXTENSION btree_gist;
CREATE SCHEMA app;
CREATE TYPE app.status AS ENUM ('PENDING', 'APPROVED', 'it''s denied');
CREATE DOMAIN app.email AS citext CHECK (VALUE LIKE '%@%') NOT NULL;
CREATE TYPE app.pair AS (a int, b text);
CREATE TYPE app.floatrange AS RANGE (subtype = float8);
CREATE SEQUENCE app.ticket_seq START 100 INCREMENT 5;
CREATE TABLE app.orgs (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE app.users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id int NOT NULL REFERENCES app.orgs(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  email app.email,
  status app.status NOT NULL DEFAULT 'PENDING',
  name text COLLATE "C",
  lower_email text GENERATED ALWAYS AS (lower(email)) STORED,
  ticket int DEFAULT nextval('app.ticket_seq'),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT name_len CHECK (length(name) < 100)
);
CREATE UNIQUE INDEX users_email_pending ON app.users (org_id, lower_email) WHERE status = 'PENDING';
CREATE FUNCTION app.check_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.name = 'root' THEN RAISE EXCEPTION 'no root'; END IF;
  RETURN NEW;
END $$;
CREATE FUNCTION app.user_count(o int) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app.users WHERE org_id = o $$;
CREATE TRIGGER users_check BEFORE INSERT OR UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.check_user();
CREATE TABLE notes (id int PRIMARY KEY, user_id bigint REFERENCES app.users(id), body text CHECK (app.user_count(1) >= 0));
-- A view that reads a view created after it: the copy must order them by dependency, not by age.
CREATE VIEW active_count AS SELECT 0::bigint AS n;
CREATE VIEW app.active_users AS SELECT id, email FROM app.users WHERE status = 'APPROVED';
CREATE OR REPLACE VIEW active_count AS SELECT count(*) AS n FROM app.active_users;
CREATE MATERIALIZED VIEW org_sizes AS SELECT org_id, count(*) FROM app.users GROUP BY org_id;
CREATE INDEX org_sizes_org ON org_sizes (org_id);
CREATE TABLE events (id int, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE bookings (room uuid, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&));
CREATE CONSTRAINT TRIGGER notes_after_insert AFTER INSERT ON notes DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION app.check_user();
INSERT INTO app.orgs (name) VALUES ('acme');
`;

describe('--schema-from', () => {
  const pgDumpMajors = installedPgDumps().then((dumps) => dumps.map((d) => d.major));

  describe.each(testServers())('on the $name server', ({ url }) => {
    it.each([REFERENCE, MUTANT])('copies the schema of a database holding %s, gets its verdict, and leaves the source as it was', async (fixture) => {
      const server = await serverAt(url);
      const source = await sourceDatabase(url, readFileSync(fixture, 'utf8'));
      const before = await withClient(source, readFacts);
      const live = await readLiveSchema(source);
      const major = Math.floor(live.serverVersion / 10000);
      // pg_dump where one installed can read the server, the catalog otherwise (the embedded 17 against a Debian pg_dump 15).
      expect(live.method).toBe((await pgDumpMajors).some((m) => m >= major) ? 'pg_dump' : 'catalog');
      expect(live.note).toMatch(live.method === 'pg_dump' ? /^copied the schema of .* with pg_dump \d+/ : /^copied the schema of .* from its catalog \(/);
      const runs = 30;
      const fromFiles = await verdictOn(server, [fixture], runs);
      expect(fromFiles).toBe(expected(fixture));
      expect(await verdictOn(server, liveSchemaSource(live), runs)).toBe(fromFiles);
      const after = await withClient(source, readFacts);
      expect(compareSchema(before, after)).toEqual([]);
      expect([...after.rows]).toEqual([...before.rows]);
    });

    it('reproduces every object of a richer schema, by every method this server allows', async () => {
      const server = await serverAt(url);
      const source = await sourceDatabase(url, RICH_SCHEMA);
      const before = await withClient(source, readFacts);
      const types = await withClient(source, typeFacts);
      expect(types.filter((line) => /^(type app\.|view|sequence app\.ticket_seq)/.test(line))).toHaveLength(8);
      const copies = [await readLiveSchema(source, { pgDump: false })];
      const first = await readLiveSchema(source);
      if (first.method === 'pg_dump') copies.push(first);
      for (const live of copies) {
        const sandbox = await Sandbox.create(server, liveSchemaSource(live));
        try {
          const copy = await templateFacts(sandbox);
          expect(compareSchema(before, copy), live.method).toEqual([]);
          expect(await withClient(settingsToUrl(sandbox.settingsFor(sandbox.template)), typeFacts), live.method).toEqual(types);
          // Only the schema travels: the source's row in app.orgs does not.
          expect(copy.rows.get('app.orgs')).toEqual([]);
        } finally {
          await sandbox.dispose();
        }
      }
      const after = await withClient(source, readFacts);
      expect(compareSchema(before, after)).toEqual([]);
      expect([...after.rows]).toEqual([...before.rows]);
    });
  });

  it("makes a newer pg_dump's output applicable by a plain connection to an older server", () => {
    const dump = ['\\restrict abc', 'SET transaction_timeout = 0;', 'SET statement_timeout = 0;', 'SET check_function_bodies = false;', 'CREATE TABLE public.a (id integer);', '\\unrestrict abc', ''];
    expect(applicableDump(dump.join('\n'))).toBe(['SET check_function_bodies = false;', 'CREATE TABLE public.a (id integer);', ''].join('\n'));
  });

  it('an infrastructure error (exit 3) with one line for an unreachable source, without its password', async () => {
    const port = await freePort();
    const failure = await readLiveSchema(`postgresql://app:secret-pw@127.0.0.1:${port}/app`).catch((error: unknown) => error);
    expect(isKitError(failure) && failure.exitCode).toBe(3);
    expect((failure as KitError).toLine()).toBe(
      `pgconform: --schema-from app@127.0.0.1:${port}/app: cannot read the schema to copy: cannot reach the PostgreSQL server (ECONNREFUSED) (check the host and port, and that the server is running)`,
    );
  });
});

// A process per run costs seconds: these run two at a time.
describe('the CLI', () => {
  it.concurrent('exit 2 naming the migration file and line that does not apply', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '1_table.sql'), 'CREATE TABLE a (id int);\n');
    writeFileSync(join(dir, '2_broken.sql'), '-- adds b\nCREAT TABLE b (id int);\n');
    const run = await pgconform(['--url', inject('embeddedUrl'), '--migrations', dir, '--report-dir', tempDir()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/2_broken\.sql:2: the schema does not apply: syntax error at or near "CREAT"/);
  });

  it.concurrent('builds the schema with the command, pointed at the template through DATABASE_URL and PG*, and the report names it', async () => {
    const dir = tempDir();
    const command = `node ${migrationScript(MUTANT)}`;
    const run = await pgconform(['--url', inject('embeddedUrl'), '--migrate-cmd', command, '--runs', '100', '--seed', '1', '--report-dir', dir]);
    expect(run.code, run.stderr).toBe(expected(MUTANT) === 'pass' ? 0 : 1);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.rules[0].verdict).toBe(expected(MUTANT));
    expect(report.rules[0].schema).toEqual([`$ ${command}`]);
    // Without --debug the command's output stays out of the way.
    expect(run.stderr).not.toContain('migrated ');
  });

  it.concurrent('exit 2 naming the command, its exit code and its last stderr line, with its last lines shown', async () => {
    const command = `node -e "console.log('step 1 of 2'); console.error('warning: slow'); console.error('relation \\"orgs\\" does not exist'); process.exit(4)"`;
    const run = await pgconform(['--url', inject('embeddedUrl'), '--migrate-cmd', command, '--report-dir', tempDir(), '--quiet']);
    expect(run.code).toBe(2);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.slice(0, -1)).toEqual(['  | step 1 of 2', '  | warning: slow', '  | relation "orgs" does not exist']);
    expect(lines.at(-1)).toContain(`--migrate-cmd "${command}": the migration command failed with exit code 4: relation "orgs" does not exist`);
  });

  it.concurrent('exit 3 when --migrate-timeout runs out', async () => {
    const dir = tempDir();
    const run = await pgconform(['--url', inject('embeddedUrl'), '--migrate-cmd', 'sleep 20', '--migrate-timeout', '1', '--report-dir', dir, '--quiet']);
    expect(run.code).toBe(3);
    // Like any infrastructure failure during a run, it becomes the error verdict of the checks it stopped, in the written report.
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.rules[0].checks[0].error).toMatch(/--migrate-cmd "sleep 20": the migration command did not finish within 1 s/);
  });

  it.concurrent('--schema-from prints which method it used, names the copy in the report, and never prints the password', async () => {
    const url = inject('embeddedUrl');
    const settings = settingsFromUrl(await sourceDatabase(url, readFileSync(REFERENCE, 'utf8')));
    const dir = tempDir();
    const withPassword = settingsToUrl({ ...settings, password: settings.password ?? 'unused-secret' });
    const run = await pgconform(['--url', url, '--schema-from', withPassword, '--runs', '20', '--seed', '1', '--report-dir', dir]);
    expect(run.code, run.stderr).toBe(0);
    const name = `${settings.user}@${settings.host}:${settings.port}/${settings.database}`;
    expect(run.stderr).toContain(`pgconform: copied the schema of ${name} `);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.rules[0].schema).toEqual([`copy of ${name}`]);
    expect(report.rules[0].verdict).toBe(expected(REFERENCE));
    const password = settingsFromUrl(withPassword).password!;
    expect(run.stdout + run.stderr + readFileSync(join(dir, 'report.json'), 'utf8')).not.toContain(password);
  });
});
