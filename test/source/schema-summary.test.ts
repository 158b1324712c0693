// One line of output names a schema of hundreds of migration files by its folder, never by every path.
import { describe, expect, it } from 'vitest';
import { schemaArguments, schemaSummary } from '../../src/source/schema-summary.ts';

describe('schemaSummary', () => {
  const flat = Array.from({ length: 343 }, (_, i) => `db/migrate/${String(i + 1).padStart(4, '0')}_change.sql`);
  const prisma = Array.from({ length: 40 }, (_, i) => `prisma/migrations/2024${String(i).padStart(4, '0')}_x/migration.sql`);

  it('names a few files, a folder of many, or the first of many scattered ones', () => {
    expect(schemaSummary(['a.sql', 'b.sql'])).toBe('a.sql, b.sql');
    expect(schemaSummary(flat)).toBe('db/migrate/ (343 files)');
    expect(schemaSummary(prisma)).toBe('prisma/migrations/ (40 files)');
    expect(schemaSummary(['x/a.sql', 'y/b.sql', 'z.sql'])).toBe('x/a.sql +2 more');
    expect(schemaSummary(flat).length).toBeLessThan(40);
  });

  it('gives a command the folder, which reads the same files again, and keeps scattered files whole', () => {
    expect(schemaArguments(flat)).toBe('db/migrate');
    expect(schemaArguments(['a.sql', 'b.sql'])).toBe('a.sql b.sql');
    expect(schemaArguments(['x/a.sql', 'y/b.sql', 'z.sql'])).toBe('x/a.sql y/b.sql z.sql');
  });
});
