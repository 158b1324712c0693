// explain confirms a warning only with a counterexample that goes through what the warning names: a
// violation found by other means (inserts, when the warning is about an UPDATE of one column) breaks the
// rule but does not confirm the warning.
import { describe, expect, it } from 'vitest';
import type { RuleCheck } from '../../src/engine/rule-check.ts';
import type { EnforcementMap } from '../../src/explain/enforcement-map.ts';
import { confirmationOf } from '../../src/explain/explanation.ts';
import { unwatchedUpdate } from '../../src/explain/fragility.ts';

const map: EnforcementMap = {
  ruleId: 'one-pending-request',
  tables: ['access_requests'],
  objects: [{ kind: 'unique index', name: 'uq', table: 'access_requests', role: 'unique index on (organization_id, user_id)', definition: 'CREATE UNIQUE INDEX uq …', enforces: true }],
  fragilities: [unwatchedUpdate('access_requests', ['deleted'])],
};

/** A failed check whose counterexample ran these statements, the last one breaking the rule. */
function violationAfter(statements: string[]): RuleCheck {
  const history = statements.map((sql, index) => ({ index, session: index % 2, sql, label: sql, params: [], outcome: { status: 'ok' } }));
  return {
    verdict: 'violation',
    runs: 10,
    durationMs: 5,
    counterexample: { verdict: { kind: 'violation', atEvent: statements.length - 1, rows: [{ broken: 'x' }] }, history, seed: 1, path: '0', scenario: { sessions: [] } },
  } as unknown as RuleCheck;
}

describe('confirmationOf', () => {
  it('does not confirm a warning about UPDATEs of a column with a counterexample of inserts', () => {
    const confirmation = confirmationOf(map, violationAfter(['INSERT INTO "access_requests" ("id") VALUES ($1)', 'INSERT INTO "access_requests" ("id") VALUES ($1)']));
    expect(confirmation.status).toBe('broken');
    expect(confirmation.statement).toMatch(/does not go through what the warnings name \(nothing reacts to UPDATEs of access_requests\.deleted\)/);
  });

  it('confirms it with a counterexample that updates the column', () => {
    const confirmation = confirmationOf(map, violationAfter(['INSERT INTO "access_requests" ("id") VALUES ($1)', 'UPDATE "access_requests" SET "deleted" = $1 WHERE "id" = $2']));
    expect(confirmation.status).toBe('confirmed');
    expect(confirmation.statement).toMatch(/^confirmed: nothing reacts to UPDATEs of access_requests\.deleted/);
  });
});
