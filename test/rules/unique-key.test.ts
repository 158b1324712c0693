// Key expressions (lower(coalesce(dedup_key, '')), tags ->> 'owner'): the model's image of a value must be
// the server's, or a unique index's correct rejection reads as over-restrictive. Checked against
// PostgreSQL on random documents and texts, NULLs and missing fields included.
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KeyComparison, parseKeyExpression } from '../../src/rules/unique-key.ts';

/** Expressions as PostgreSQL prints them in an index definition, and as a user writes them. */
const TEXT_EXPRESSIONS = ["lower(COALESCE(dedup_key, ''::text))", 'upper(dedup_key)', "btrim(COALESCE(dedup_key, 'none'))", '(dedup_key)::text', 'lower("dedup_key")'];
const JSON_EXPRESSIONS = [
  "lower(COALESCE((tags ->> 'owner'::text), ''::text))",
  "(tags ->> 'owner'::text)",
  "((tags -> 'team'::text) ->> 'name'::text)",
  "COALESCE(tags ->> 'owner', tags ->> 'team', '?')",
];

const text = fc.option(fc.constantFrom('a', 'A', ' a ', 'Ab', 'ab', '', 'none', 'Ünïcode'), { nil: null });
const member = fc.oneof(text, fc.integer({ min: -2, max: 2 }), fc.boolean(), fc.constant({ name: 'x' }), fc.constant({ name: 'X' }));
const documentOf = fc.dictionary(fc.constantFrom('owner', 'team', 'other'), member, { maxKeys: 3 });

describe('key expressions', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: inject('embeddedUrl') });
    await client.connect();
  });
  afterAll(async () => client.end());

  it.each(TEXT_EXPRESSIONS)('%s: the model computes what the server computes, NULL included', async (sql) => {
    const parsed = parseKeyExpression(sql);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.expression.column).toBe('dedup_key');
    await fc.assert(
      fc.asyncProperty(text, async (value) => {
        const { rows } = await client.query<{ image: string | null }>(`SELECT ${sql} AS image FROM (SELECT $1::text AS dedup_key) AS row`, [value]);
        expect(parsed.expression.image(value)).toBe(rows[0]!.image);
      }),
      { numRuns: 40 },
    );
  });

  it.each(JSON_EXPRESSIONS)('%s on jsonb: the model computes what the server computes, missing fields and JSON null included', async (sql) => {
    const parsed = parseKeyExpression(sql);
    if (!parsed.ok) throw new Error(parsed.reason);
    await fc.assert(
      fc.asyncProperty(documentOf, fc.boolean(), async (document, asText) => {
        const { rows } = await client.query<{ image: string | null }>(`SELECT ${sql} AS image FROM (SELECT $1::jsonb AS tags) AS row`, [JSON.stringify(document)]);
        // A value the rule wrote arrives as its JSON text; one the schema wrote (a default) as the parsed document.
        const image = parsed.expression.image(asText ? JSON.stringify(document) : document);
        if (typeof rows[0]!.image === 'string' && /^[[{]/.test(rows[0]!.image)) expect(JSON.parse(String(image))).toEqual(JSON.parse(rows[0]!.image));
        else expect(image).toBe(rows[0]!.image);
      }),
      { numRuns: 60 },
    );
  });

  it('a key compares rows by the images of its expressions: coalesce() makes NULLs collide, lower() folds case', () => {
    const key = new KeyComparison({ key: ['service', 'dedup_key'], expressions: { dedup_key: "lower(coalesce(dedup_key, ''))" } });
    expect(key.parts({ service: 1, dedup_key: null })).toEqual(key.parts({ service: 1, dedup_key: '' }));
    expect(key.parts({ service: 1, dedup_key: 'Disk' })).toEqual(key.parts({ service: 1, dedup_key: 'DISK' }));
    expect(key.parts({ service: 1, dedup_key: 'disk' })).not.toEqual(key.parts({ service: 2, dedup_key: 'disk' }));
    expect(key.sql()).toEqual(['"service"', "(lower(coalesce(dedup_key, '')))"]);
  });

  it.each([
    ["COALESCE(org_id, '00000000-0000-0000-0000-000000000000'::uuid)", 'uuid', ['7b0c4f8e-5d1a-4c2b-9e3f-1a2b3c4d5e6f', null]],
    ['COALESCE(parent_id, 0)', 'bigint', [7, 0, null]],
    ['COALESCE(parent_id, (-1))', 'integer', [7, -1, null]],
  ] as const)('%s (a NULL folded into a sentinel) evaluates as the server does', async (sql, type, values) => {
    const parsed = parseKeyExpression(sql);
    if (!parsed.ok) throw new Error(parsed.reason);
    const column = parsed.expression.column;
    for (const value of values) {
      const { rows } = await client.query<{ image: string | null }>(`SELECT (${sql})::text AS image FROM (SELECT $1::${type} AS ${column}) AS row`, [value]);
      expect(parsed.expression.image(value)).toBe(rows[0]!.image);
    }
  });

  it.each([
    ['date(created_at)', /the function date\(\)/],
    ['lower(first_name || last_name)', /expected \)/],
    ["lower('constant')", /reads no column/],
    ['coalesce(a, b)', /reads 2 columns/],
    ['(payload)::integer', /a cast to integer/],
  ])('%s is refused with its reason', (sql, reason) => {
    const parsed = parseKeyExpression(sql);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});
