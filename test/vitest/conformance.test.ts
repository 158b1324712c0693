// pgconform/vitest in-process: conformance() registers a passing test on a correct schema, and a
// failing check throws the counterexample (timeline, offending rows, replay options) as its message.
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { conformance, expectConformance, releaseServer } from 'pgconform/vitest';
import onePendingInvitation from '../../fixtures/sample-project/rules/one-pending-invitation.ts';
import onePrimaryProvider from '../../specs/one-primary-provider.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SAMPLE = join(ROOT, 'fixtures/sample-project/db');

describe('pgconform/vitest', () => {
  afterAll(releaseServer);

  // Registered through the package export, as a team's suite does.
  conformance(onePendingInvitation, { schema: join(SAMPLE, 'schema.sql'), url: inject('embeddedUrl'), runs: 100, seed: 42 });

  it('fails with the violation as a timeline, the offending rows and the options that replay it', async () => {
    const error = await expectConformance(onePendingInvitation, { schema: join(SAMPLE, 'schema-broken.sql'), url: inject('embeddedUrl'), runs: 100, seed: 42 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe('ConformanceError');
    const message = error!.message;
    expect(message).toMatch(/^one-pending-invitation — .*: VIOLATION \[read-committed\], schema fixtures\/sample-project\/db\/schema-broken\.sql\n/);
    expect(message).toMatch(/a committed state breaks the rule after step \d+:/);
    expect(message).toMatch(/session 1 +│ session 2/);
    expect(message).toMatch(/offending rows:\n {2}\{"broken":"pending invitations"/);
    expect(message).toMatch(/replay: add \{ seed: 42, path: "[\d:]+" \} to the conformance options$/);
  });

  it('fails an over-restrictive schema with the rejected step and the rows it was judged on', async () => {
    await expect(
      expectConformance(onePrimaryProvider, { schema: join(ROOT, 'fixtures/one-primary-provider/seed.sql'), url: inject('embeddedUrl'), runs: 100, seed: 1 }),
    ).rejects.toThrow(/the schema rejected step \d+, which the rule allows: [^]*committed rows when it was rejected:\n {2}care_team_assignments \{/);
  });
});
