// Schema sources: a file, a folder applied in name order, and a file or folder in a git revision.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSource } from '../../src/source/read-source.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('readSource', () => {
  it('reads a file', async () => {
    const files = await readSource('fixtures/one-primary-provider/seed.sql', { cwd: ROOT });
    expect(files.map((f) => f.sql)).toEqual([readFileSync(join(ROOT, 'fixtures/one-primary-provider/seed.sql'), 'utf8')]);
  });

  it('reads a folder of .sql files in name order, numbers compared as numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-migrations-'));
    for (const name of ['10_index.sql', '2_table.sql', 'notes.md']) writeFileSync(join(dir, name), `-- ${name}`);
    expect((await readSource(dir)).map((f) => f.sql)).toEqual(['-- 2_table.sql', '-- 10_index.sql']);
  });

  it('reads a file and a folder as they are in a git revision', async () => {
    const file = await readSource('HEAD:fixtures/one-primary-provider/seed.sql', { cwd: ROOT });
    expect(file).toEqual([{ path: 'HEAD:fixtures/one-primary-provider/seed.sql', sql: readFileSync(join(ROOT, 'fixtures/one-primary-provider/seed.sql'), 'utf8') }]);
    const folder = await readSource('HEAD:fixtures/one-primary-provider/mutants', { cwd: ROOT });
    expect(folder.map((f) => f.path)).toContain('HEAD:fixtures/one-primary-provider/mutants/missing-role-condition.sql');
    expect(folder.map((f) => f.path)).toEqual([...folder.map((f) => f.path)].sort());
  });

  it('names what is wrong with a source it cannot read', async () => {
    await expect(readSource('no/such/file.sql', { cwd: ROOT })).rejects.toThrow('no schema file or folder at no/such/file.sql');
    await expect(readSource('no-such-rev:fixtures/one-primary-provider/seed.sql', { cwd: ROOT })).rejects.toThrow(/cannot read no-such-rev:fixtures\/one-primary-provider\/seed\.sql from git/);
  });
});
