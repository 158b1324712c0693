// Migration safety on data the before schema let in (two active memberships for one pair, as seed
// 000 found): an index over violating rows fails cleanly; deleting the rows to make it apply loses
// data; deactivating them keeps every row; a down migration must restore the previous behaviour.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StartedServer } from '../../src/db/provider.ts';
import type { SchemaFile } from '../../src/db/schema-source.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { checkMigration, type MigrationCheckOptions } from '../../src/migration/migration-check.ts';
import { readSource } from '../../src/source/read-source.ts';
import rule from '../../specs/one-active-membership.ts';
import { pgconform } from '../cli-run.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = 'fixtures/migrations/one-active-membership';
const file = async (name: string): Promise<SchemaFile> => (await readSource(`${DIR}/${name}`, { cwd: ROOT }))[0]!;

describe('migration safety', () => {
  let server: StartedServer;
  let before: SchemaFile[];
  const options = (migration: SchemaFile, extra: Partial<MigrationCheckOptions> = {}): MigrationCheckOptions => ({
    migration,
    isolation: 'read-committed',
    runs: 40,
    seed: 1,
    behaviour: false,
    ...extra,
  });
  beforeAll(async () => {
    server = await new UrlProvider(inject('embeddedUrl')).start();
    before = await readSource(`${DIR}/before.sql`, { cwd: ROOT });
  });
  afterAll(async () => server?.stop());

  it('reports a partial unique index over rows that already violate it as failing cleanly with nothing lost', async () => {
    const check = await checkMigration(server, rule, before, options(await file('add-active-index.sql')));
    expect(check.data.violations).toBeGreaterThan(0);
    expect(check.summary).toBe('the migration fails cleanly: nothing is lost');
    expect(check.outcome.kind === 'failed-cleanly' && check.outcome.failure.code).toBe('23505');
    expect(check.tables.every((t) => t.lost === 0 && t.added === 0 && t.before === t.after && t.before > 0)).toBe(true);
    expect(check.problems).toEqual(['the migration does not apply to data the before schema accepted']);
  });

  it('reports deleting the violating rows to make the index apply as losing data', async () => {
    const check = await checkMigration(server, rule, before, options(await file('dedupe-then-add-active-index.sql')));
    expect(check.outcome.kind).toBe('applied');
    expect(check.summary).toMatch(/^the migration applies but loses data: \d+ rows? of public\.user_tenant_membership deleted$/);
    expect(check.violationsLeft).toBe(0);
    expect(check.problems).toContain('the migration loses data');
  });

  it('passes a migration that deactivates the duplicates and keeps every row, and checks its down migration', async () => {
    const check = await checkMigration(
      server,
      rule,
      before,
      options(await file('deactivate-then-add-active-index.sql'), { down: await file('drop-active-index.sql'), behaviour: true }),
    );
    expect(check.summary).toBe('the migration applies: nothing is lost and no row breaks the rule');
    expect(check.details).toContain('the downgrade restores the previous behaviour');
    // The migrated schema now refuses a second active membership, which the before schema let in.
    expect(check.behaviour?.summary).toMatch(/, which broke the rule, is now rejected; nothing the rule allows is now rejected$/);
    expect(check.problems).toEqual([]);
  });

  it('reports a migration that commits half way before failing as leaving changes behind', async () => {
    const halfWay = { path: 'half-way.sql', sql: 'ALTER TABLE user_tenant_membership ADD COLUMN note text;\nCOMMIT;\n' + (await file('add-active-index.sql')).sql };
    const check = await checkMigration(server, rule, before, options(halfWay));
    expect(check.summary).toBe('the migration fails half way: it leaves changes behind');
    expect(check.details).toContain('left behind: + column user_tenant_membership.note text');
    expect(check.problems).toEqual(['the migration fails without undoing what it did']);
  });

  it('exits 1 from the CLI when the down migration leaves the index behind', async () => {
    const forgetful = join(mkdtempSync(join(tmpdir(), 'pgconform-down-')), 'forgetful-down.sql');
    writeFileSync(forgetful, '-- forgets to drop the index\nSELECT 1;\n');
    const run = await pgconform(
      ['diff', 'one-active-membership', '--before', `${DIR}/before.sql`, '--migration', `${DIR}/add-active-index.sql`,
        '--down', forgetful, '--url', inject('embeddedUrl'), '--runs', '40', '--seed', '1', '--quiet'],
      { cwd: ROOT },
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('  the migration fails cleanly: nothing is lost\n');
    expect(run.stdout).toMatch(/the downgrade does not restore the previous behaviour \(round trip on empty tables\): .*, which broke the rule, is now rejected/);
    expect(run.stdout).toContain('problem: the down migration does not restore the previous behaviour');
  });
});
