// The model and the invariant must agree: the predicate DSL's three-valued evaluation is checked
// against PostgreSQL itself on random predicates and rows, NULLs included.
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { and, eq, evaluate, isFalse, isNotNull, isNotTrue, isNull, isTrue, not, or, predicateSql, sqlLiteral, type Predicate } from '../../src/rules/predicate.ts';

const columns = ['flag', 'other', 'status'] as const;
const leaf: fc.Arbitrary<Predicate> = fc.oneof(
  fc.constantFrom('flag', 'other').map(isTrue),
  fc.constantFrom('flag', 'other').map(isFalse),
  fc.constantFrom('flag', 'other').map(isNotTrue),
  fc.constantFrom(...columns).map(isNull),
  fc.constantFrom(...columns).map(isNotNull),
  fc.constantFrom('A', 'B').map((v) => eq('status', v)),
  fc.boolean().map((v) => eq('flag', v)),
);
const predicate = fc.letrec<{ p: Predicate }>((tie) => ({
  p: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('p'), { minLength: 1, maxLength: 3 }).map((of) => and(...of)),
    fc.array(tie('p'), { minLength: 1, maxLength: 3 }).map((of) => or(...of)),
    tie('p').map(not),
  ),
})).p;
const row = fc.record({
  flag: fc.constantFrom(true, false, null),
  other: fc.constantFrom(true, false, null),
  status: fc.constantFrom('A', 'B', null),
});

describe('predicates', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: inject('embeddedUrl') });
    await client.connect();
  });
  afterAll(async () => client.end());

  it('evaluate() agrees with PostgreSQL on every predicate and row, NULL included', async () => {
    await fc.assert(
      fc.asyncProperty(predicate, row, async (p, r) => {
        const values = `SELECT ${sqlLiteral(r.flag)}::boolean AS flag, ${sqlLiteral(r.other)}::boolean AS other, ${sqlLiteral(r.status)}::text AS status`;
        const { rows } = await client.query<{ v: boolean | null }>(`SELECT (${predicateSql(p, (c) => `t.${c}`)}) AS v FROM (${values}) t`);
        expect(evaluate(p, r)).toBe(rows[0]!.v);
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('a CHECK-style "= true" lets NULL through where IS TRUE does not', () => {
    expect(evaluate(or(eq('flag', true), isNotNull('other')), { flag: null, other: null })).toBeNull();
    expect(evaluate(or(isTrue('flag'), isNotNull('other')), { flag: null, other: null })).toBe(false);
  });
});
