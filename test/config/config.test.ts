// Configuration: rule templates bound to a schema that has none of the canonical names, checked
// through configuration alone, and every kind of bad configuration stopped with one line and exit 2.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/config-file.ts';
import { reportSchema } from '../../src/report/report-document.ts';
import { pgconform } from '../cli-run.ts';

const CARE_TEAM = join(import.meta.dirname, '..', '..', 'fixtures', 'configured', 'care-team');
const CONFIG = join(CARE_TEAM, 'pgconform.config.json');


const url = () => inject('localUrl') || inject('embeddedUrl');

/** Runs the care-team configuration on a schema and returns the exit code and the rule's verdict from report.json. */
async function runConfigured(config: string, schema?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'pgconform-config-'));
  const run = await pgconform(['run', '--config', config, ...(schema ? ['--schema', schema] : []), '--url', url(), '--seed', '1', '--report-dir', dir, '--format', 'json', '--no-corpus', '--quiet']);
  const report = run.code === 0 || run.code === 1 ? reportSchema.parse(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))) : undefined;
  return { ...run, verdict: report?.rules[0]?.verdict };
}

/** A copy of the care-team configuration with one edit, its schema path made absolute. */
function editedConfig(edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgconform-config-'));
  const file = join(dir, 'pgconform.config.json');
  const text = readFileSync(CONFIG, 'utf8').replace('"schema.sql"', JSON.stringify(join(CARE_TEAM, 'schema.sql')));
  writeFileSync(file, edit(text));
  return file;
}

describe('configuration: seed 004 planned encoding (is_primary_provider boolean, care_team, archived_at)', () => {
  it('holds on the correct schema, through configuration alone', async () => {
    const run = await runConfigured(CONFIG);
    expect(run.stderr).toBe('');
    expect(run.verdict).toBe('pass');
    expect(run.code).toBe(0);
  });

  it('catches the index that forgets the soft delete (over-restrictive)', async () => {
    const run = await runConfigured(CONFIG, join(CARE_TEAM, 'broken-forgets-archive.sql'));
    expect(run.verdict).toBe('over-restrictive');
    expect(run.code).toBe(1);
  });

  it('catches the provider in the key (violation)', async () => {
    const run = await runConfigured(CONFIG, join(CARE_TEAM, 'broken-provider-in-key.sql'));
    expect(run.verdict).toBe('violation');
    expect(run.code).toBe(1);
  });

  it('a TypeScript configuration with defineConfig and a template call works the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-config-'));
    const file = join(dir, 'pgconform.config.ts');
    const binding = JSON.parse(readFileSync(CONFIG, 'utf8')).rules[0];
    writeFileSync(
      file,
      `import { defineConfig } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'src', 'index.ts'))};\n` +
        `export default defineConfig({ schema: ${JSON.stringify(join(CARE_TEAM, 'broken-provider-in-key.sql'))}, rules: [${JSON.stringify(binding)}] });\n`,
    );
    expect((await runConfigured(file)).verdict).toBe('violation');
  });
});

describe('values from configuration travel as parameters', () => {
  const awkward = "it's open; DROP TABLE notes; --";
  const binding = {
    template: 'scoped-unique',
    id: 'one-open-note',
    title: 'one open note per owner',
    table: 'notes',
    primaryKey: { column: 'id', pool: { ids: 'note', count: 3 } },
    columns: { owner: { ids: 'owner', count: 2 }, state: [awkward, 'closed'] },
    unique: [{ name: "open notes (the owner's)", key: ['owner'], where: { eq: ['state', awkward] } }],
  };

  it('the invariant carries no value as SQL text, and a run with quotes and semicolons in values works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-config-'));
    const schema = join(dir, 'schema.sql');
    writeFileSync(schema, `CREATE TABLE notes (id uuid PRIMARY KEY, owner uuid NOT NULL, state text NOT NULL);
CREATE UNIQUE INDEX notes_one_open ON notes (owner) WHERE state = 'it''s open; DROP TABLE notes; --';\n`);
    const file = join(dir, 'pgconform.config.json');
    writeFileSync(file, JSON.stringify({ schema: 'schema.sql', rules: [binding] }));
    const [rule] = (await loadConfig(file)).rules;
    expect(rule!.invariant).not.toContain('DROP');
    expect(rule!.invariant).not.toContain("owner's");
    expect(rule!.invariantValues).toEqual(expect.arrayContaining([awkward, "open notes (the owner's)"]));
    const run = await runConfigured(file);
    expect(run.stderr).toBe('');
    expect(run.verdict).toBe('pass');
  });
});

describe('configuration errors: one line, exit 2, naming the rule, the key and the closest name', () => {
  it('an unknown column', async () => {
    const run = await runConfigured(editedConfig((t) => t.replace('"archived_at": [null', '"archivd_at": [null')));
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/rule one-primary-provider, key columns\.archivd_at: no column "archivd_at" in table care_team \(did you mean "archived_at"\?\)/);
  });

  it('an unknown table, with the closest existing name', async () => {
    const run = await runConfigured(editedConfig((t) => t.replace('"table": "care_team"', '"table": "care_teams"')));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/key table: no table "care_teams" in the schema \(did you mean "care_team"\?\)/);
  });

  it('the canonical column name where the schema renamed it', async () => {
    const run = await runConfigured(editedConfig((t) => t.replace(/"archived_at"/g, '"removed_at"')));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no column "removed_at" in table care_team \(did you mean "archived_at"\?\)/);
  });

  it('a value that does not suit the column type', async () => {
    const run = await runConfigured(editedConfig((t) => t.replace('"is_primary_provider": [true, false]', '"is_primary_provider": ["PRIMARY", "SPECIALIST"]')));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/key columns\.is_primary_provider: the value "PRIMARY" does not suit column care_team\.is_primary_provider of type boolean/);
  });

  it('a misspelt key and a bad template are named without starting a server', async () => {
    const misspelt = editedConfig((t) => t.replace('"mutable"', '"mutabel"'));
    await expect(loadConfig(misspelt)).rejects.toThrow(/rule one-primary-provider, key rules\[0\]: .*mutabel/);
    const run = await runConfigured(editedConfig((t) => t.replace('"scoped-unique"', '"scoped-uniq"')));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/key rules\[0\]\.template/);
  });

  it('JSON that does not parse names the line', async () => {
    const run = await runConfigured(editedConfig((t) => t.replace('"mutable":', '"mutable"')));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/pgconform\.config\.json:\d+: not valid JSON/);
  });

  it('a configuration file that does not exist', async () => {
    const run = await pgconform(['list', '--config', '/nonexistent/pgconform.config.json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no configuration file at/);
  });

  it('list shows the configured rules', async () => {
    const run = await pgconform(['list', '--config', CONFIG]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^one-primary-provider\s+one primary provider per organization and patient \(seed 004 \(planned encoding\)\)/);
  });
});

describe('configuration: a rule written in SQL (README, "Writing a rule in SQL")', () => {
  const LEDGER = join(import.meta.dirname, '..', '..', 'fixtures', 'configured', 'ledger', 'pgconform.config.json');
  const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'balance-never-negative');

  it('is the configuration the README shows', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const at = readme.indexOf('The same rule in `pgconform.config.json`');
    const block = readme.slice(readme.indexOf('```json', at) + 7, readme.indexOf('```', readme.indexOf('```json', at) + 7));
    expect(JSON.parse(block).rules).toEqual(JSON.parse(readFileSync(LEDGER, 'utf8')).rules);
  });

  it.each([
    ['reference.sql', 'pass', 0],
    ['mutants/unlocked-sum-trigger.sql', 'violation', 1],
    ['mutants/off-by-one-refuses-zero.sql', 'over-restrictive', 1],
  ])('on %s: %s', async (file, verdict, code) => {
    const run = await runConfigured(LEDGER, join(FIXTURES, file));
    expect(run.verdict, run.stderr).toBe(verdict);
    expect(run.code).toBe(code);
  });
});
