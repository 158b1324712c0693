// The statement splitter behind file:line in schema errors: semicolons inside strings, quoted names,
// dollar-quoted bodies and comments do not end a statement; each statement knows its first line.
import { describe, expect, it } from 'vitest';
import { splitStatements } from '../../src/db/sql-statements.ts';

describe('splitStatements', () => {
  it('splits where psql would, and gives each statement its first line', () => {
    const sql = [
      '-- a header; with a semicolon',
      'SET search_path = public;',
      '',
      "CREATE TABLE \"a;b\" (note text DEFAULT 'x;y', other text DEFAULT E'it\\'s; fine');",
      '/* a /* nested; */ comment; */',
      'CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $body$',
      'BEGIN',
      "  RAISE NOTICE 'in; body';",
      '  RETURN NEW;',
      'END $body$;',
      'CREATE INDEX i ON "a;b" (note)',
    ].join('\n');
    const statements = splitStatements(sql);
    expect(statements.map((s) => s.line)).toEqual([2, 4, 6, 11]);
    expect(statements[1]!.text).toMatch(/^CREATE TABLE "a;b" .*fine'\);$/);
    expect(statements[2]!.text).toMatch(/^CREATE FUNCTION[\s\S]*END \$body\$;$/);
    expect(statements[3]!.text).toBe('CREATE INDEX i ON "a;b" (note)');
  });

  it('keeps $1 parameters and $$ bodies apart, and leaves out comment-only pieces', () => {
    const statements = splitStatements("SELECT $$a;b$$;\n-- only a comment;\nPREPARE p AS SELECT $1;");
    expect(statements.map((s) => s.text)).toEqual(['SELECT $$a;b$$;', 'PREPARE p AS SELECT $1;']);
    expect(statements[1]!.line).toBe(3);
  });
});
