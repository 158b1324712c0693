// Every spec against every fixture of its rule, with fixed seeds: references and equivalents must
// pass, seeds and mutants must get the verdict written in their header. A new fixture is a new row.
// Rules with a reference model of their own run with both oracles: every rejection judged is judged by
// the model and by the database model too, and a disagreement fails the row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedServer } from '../src/db/provider.ts';
import { UrlProvider } from '../src/db/url-provider.ts';
import { runOnServer } from '../src/engine/run.ts';
import { defaultSpecsDir, loadSpecs } from '../src/spec/loader.ts';
import { expectedVerdict, readFixtures, statedLevels } from '../src/spec/fixture.ts';
import { testServers } from './servers.ts';

const specs = await loadSpecs([], defaultSpecsDir());
// READ COMMITTED for every fixture, and each other level whose verdict its header states (`-- expect@serializable: pass`).
const rows = specs.flatMap((spec) =>
  readFixtures(spec.fixtures!).flatMap((fixture) =>
    (['read-committed', ...statedLevels(fixture)] as const).flatMap((level) => {
      const verdict = expectedVerdict(fixture, spec.rule.id, level);
      return verdict ? [{ spec, fixture, verdict, level }] : [];
    }),
  ),
);

describe.each(testServers())('detection matrix on the $name server', ({ url }) => {
  let server: StartedServer;
  beforeAll(async () => {
    server = await new UrlProvider(url).start();
  });
  afterAll(async () => server?.stop());

  it('has fixtures for every rule', () => {
    for (const spec of specs) expect(rows.filter((r) => r.spec === spec).length, spec.rule.id).toBeGreaterThanOrEqual(5);
  });

  it.concurrent.each(rows.map((r) => [`${r.spec.rule.id} × ${r.fixture.name}${r.level === 'read-committed' ? '' : ` @${r.level}`} → ${r.verdict}`, r] as const))('%s', async (_, { spec, fixture, verdict, level }) => {
    const result = await runOnServer(server, {
      specs: [spec],
      schema: [fixture.file],
      isolation: [level],
      // A failing fixture stops at its first failure; the larger budget only costs when it escapes.
      runs: verdict === 'pass' ? 200 : 500,
      seed: 1,
      workers: 1,
      oracle: spec.rule.allows ? 'both' : 'database',
    });
    const check = result.rules[0]!.checks[0]!;
    expect(check.verdict, `${fixture.why}\n${check.error ?? ''}${check.notes.join('\n')}`).toBe(verdict);
  });
});
