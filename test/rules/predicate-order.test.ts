// Comparisons, membership and case folding: the model's three-valued evaluate() against the server's
// evaluation of predicateSql (values as parameters) on every server, for columns of the types the
// model orders (integer, numeric, text, date, timestamp, timestamptz), on the values a pool writes and
// on the same values as the kit reads them back (json_agg), NULL included.
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, evaluate, ge, gt, isIn, le, lower, lt, ne, not, notIn, or, predicateSql, upper, type Predicate } from '../../src/rules/predicate.ts';
import type { Row, Value } from '../../src/rules/rule.ts';
import { fromPredicate, ruleBindingSchema, toPredicate } from '../../src/config/rule-binding.ts';
import { testServers } from '../servers.ts';
import { collationSafe, compareCodePoints } from '../../src/rules/value-order.ts';

/** Each column: its type, the values rows hold, and the literals predicates compare it with. */
const COLUMNS: Record<string, { type: string; values: Value[]; literals: Exclude<Value, null>[] }> = {
  n: { type: 'integer', values: [-1, 0, 1, 10, null], literals: [0, 1, 9] },
  amount: { type: 'numeric(12,2)', values: ['0.50', '1.5', 2, '10.00', null], literals: [0, 1.5, 2, 10] },
  status: { type: 'text', values: ['a', 'ab', 'b', 'ba', null], literals: ['a', 'ab', 'b'] },
  email: { type: 'varchar(20)', values: ['ab', 'AB', 'Ab', 'b', null], literals: ['ab', 'AB', 'b'] },
  day: { type: 'date', values: ['2023-12-31', '2024-01-01', '2024-01-02', null], literals: ['2024-01-01', '2023-12-31'] },
  at: { type: 'timestamp(6) without time zone', values: ['2023-12-31 23:59:59', '2024-01-01 00:00:00', '2024-01-01T00:00:00.5', null], literals: ['2024-01-01', '2024-01-01 00:00:00', '2024-01-01 00:00:00.5'] },
  tz: { type: 'timestamp with time zone', values: ['2023-12-31T23:59:59Z', '2024-01-01 00:00:00+00', '2024-01-01 02:00:00+01', null], literals: ['2024-01-01 00:00:00+00', '2024-01-01T01:00:00+01:00'] },
};
const names = Object.keys(COLUMNS);
const ORDER = [eq, ne, lt, le, gt, ge];

const leaf: fc.Arbitrary<Predicate> = fc.constantFrom(...names).chain((name) => {
  const { literals } = COLUMNS[name]!;
  // lower()/upper() apply to the text columns; the literal is compared with the folded value.
  const operand = name === 'email' || name === 'status' ? fc.constantFrom<string | ReturnType<typeof lower>>(name, lower(name), upper(name)) : fc.constant(name);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...ORDER), operand, fc.constantFrom(...literals)).map(([op, column, value]) => op(column, value)),
    fc.tuple(operand, fc.subarray([...literals, null], { minLength: 1 }), fc.boolean()).map(([column, values, negated]) => (negated ? notIn(column, values) : isIn(column, values))),
  );
});
const predicate = fc.letrec<{ p: Predicate }>((tie) => ({
  p: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('p'), { minLength: 1, maxLength: 3 }).map((of) => and(...of)),
    fc.array(tie('p'), { minLength: 1, maxLength: 3 }).map((of) => or(...of)),
    tie('p').map(not),
  ),
})).p;
const row = fc.record(Object.fromEntries(names.map((name) => [name, fc.constantFrom(...COLUMNS[name]!.values)]))) as fc.Arbitrary<Row>;

describe.each(testServers())('comparisons, IN and lower()/upper() on $name', ({ url }) => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: url });
    await client.connect();
    // The kit's sessions keep the server's TimeZone; the literals above name their zones, so it does not matter.
  });
  afterAll(async () => client.end());

  /** The server's truth value, and the row as the kit reads committed rows back (json_agg). */
  async function onServer(p: Predicate, r: Row): Promise<{ truth: boolean | null; readBack: Row }> {
    const params: Value[] = names.map((name) => r[name] ?? null);
    const select = names.map((name, i) => `$${i + 1}::${COLUMNS[name]!.type} AS ${name}`).join(', ');
    const condition = predicateSql(p, (c) => `t.${c}`, params);
    const { rows } = await client.query<{ v: boolean | null; row: Row }>(`SELECT (${condition}) AS v, row_to_json(t) AS row FROM (SELECT ${select}) t`, params);
    return { truth: rows[0]!.v, readBack: rows[0]!.row };
  }

  it('evaluate() agrees with the server on every predicate and row, written or read back', async () => {
    await fc.assert(
      fc.asyncProperty(predicate, row, async (p, r) => {
        const { truth, readBack } = await onServer(p, r);
        expect(evaluate(p, r)).toBe(truth);
        expect(evaluate(p, readBack)).toBe(truth);
      }),
      { numRuns: 600, seed: 13 },
    );
  });

  it('every single comparison on every value of its column, NULL included', async () => {
    for (const name of names) {
      const { literals, values } = COLUMNS[name]!;
      const leaves = [
        ...literals.flatMap((v) => ORDER.map((op) => op(name, v))),
        isIn(name, [literals[0]!, null]),
        notIn(name, [literals[0]!, null]),
        notIn(name, literals),
        ...(COLUMNS[name]!.type.includes('char') || name === 'status' ? literals.flatMap((v) => [eq(lower(name), v), lt(upper(name), v), isIn(lower(name), [v])]) : []),
      ];
      for (const p of leaves) {
        for (const value of values) {
          const r = Object.fromEntries(names.map((c) => [c, c === name ? value : null]));
          const { truth, readBack } = await onServer(p, r);
          expect(evaluate(p, r), `${predicateSql(p, (c) => c)} on ${JSON.stringify(value)}`).toBe(truth);
          expect(evaluate(p, readBack), `${predicateSql(p, (c) => c)} on ${JSON.stringify(readBack[name])} (read back)`).toBe(truth);
        }
      }
    }
  });

  it('NOT IN with NULL in the list is never TRUE; IN with a NULL x is NULL', () => {
    for (const value of ['a', 'b', null]) {
      expect(evaluate(notIn('status', ['a', null]), { status: value })).not.toBe(true);
      if (value === null) expect(evaluate(isIn('status', ['a']), { status: value })).toBeNull();
    }
  });
});

describe('predicates in JSON', () => {
  it('every predicate written by fromPredicate loads back as itself, and a rule binding accepts it', () => {
    fc.assert(
      fc.property(predicate, (p) => {
        const written = JSON.parse(JSON.stringify(fromPredicate(p)));
        expect(toPredicate(written)).toEqual(JSON.parse(JSON.stringify(p)));
        const binding = ruleBindingSchema.parse({
          template: 'row-predicate',
          id: 'r',
          title: 'r',
          table: 't',
          primaryKey: { column: 'id', pool: { ids: 't', count: 2 } },
          columns: Object.fromEntries(names.map((name) => [name, COLUMNS[name]!.values])),
          valid: written,
        });
        expect(binding.template === 'row-predicate' && toPredicate(binding.valid)).toEqual(toPredicate(written));
      }),
      { numRuns: 200, seed: 3 },
    );
  });
});

describe.each(testServers())('text the model may order by code point ($name)', ({ url }) => {
  it('two texts collationSafe() accepts order alike under every collation the server has (ICU, libc), as by code point', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>(
        `SELECT collname AS name FROM pg_collation WHERE collname IN ('C', 'ucs_basic', 'C.utf8', 'en_US.utf8', 'en_US', 'und-x-icu', 'en-x-icu', 'de-x-icu', 'sv-x-icu', 'fr-x-icu')`,
      );
      const collations = rows.map((r) => r.name);
      expect(collations.length).toBeGreaterThan(0);
      const text = fc.array(fc.constantFrom('a', 'b', 'z', 'A', 'B', '1', '9', ' ', '-', 'é', 'É'), { maxLength: 4 }).map((chars) => chars.join(''));
      const pairs = fc.sample(fc.tuple(text, text).filter(([a, b]) => a !== b && collationSafe(a, b)), { numRuns: 300, seed: 11 });
      for (const collation of collations) {
        const sql = pairs.map((_, i) => `$${2 * i + 1}::text < $${2 * i + 2}::text COLLATE "${collation}"`).join(', ');
        const result = await client.query({ text: `SELECT ARRAY[${sql}] AS v`, values: pairs.flat() });
        const server = (result.rows[0] as { v: boolean[] }).v;
        pairs.forEach(([a, b], i) => expect(server[i], `${JSON.stringify(a)} < ${JSON.stringify(b)} under ${collation}`).toBe(compareCodePoints(a, b) < 0));
      }
    } finally {
      await client.end();
    }
  });
});
