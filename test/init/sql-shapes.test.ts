// init drafts SQL-template rules for the shapes the model templates cannot state: a counter a trigger keeps,
// an exclusion on overlapping ranges, a trigger that raises after a sum. A draft finished by choosing its
// pools (nothing else edited) must hold on the correct design and catch the broken one.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindRule, type RuleBinding } from '../../src/config/rule-binding.ts';
import type { StartedServer } from '../../src/db/provider.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { runOnServer } from '../../src/engine/run.ts';
import { inferConfig } from '../../src/init/infer-config.ts';
import { catalogOfSchema } from '../../src/init/init.ts';
import { schemaFilesAt } from '../../src/source/schema-source.ts';
import { testServers } from '../servers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (rule: string, file: string) => join(ROOT, 'fixtures', rule, file);

const CASES = [
  {
    rule: 'comment-count-matches',
    broken: 'mutants/recount-trigger-without-lock.sql',
    says: /comment_count IS DISTINCT FROM \(SELECT count\(\*\) FROM comments c WHERE c\.post_id = p\.id\)/,
    pools: { id: { ids: 'comment', count: 4 }, post_id: { ids: 'post', count: 2 }, body: ['hello'] },
    setup: { posts: [{ id: 'post#1', title: 'a' }, { id: 'post#2', title: 'b' }] },
  },
  {
    rule: 'no-overlapping-bookings',
    broken: 'mutants/unlocked-overlap-trigger.sql',
    says: /a\.room_id = b\.room_id AND tstzrange\(a\.starts_at, a\.ends_at\) && tstzrange\(b\.starts_at, b\.ends_at\) AND \(a\.cancelled_at IS NULL\)/,
    pools: { id: { ids: 'booking', count: 4 }, room_id: { ids: 'room', count: 2 } },
    setup: { rooms: [{ id: 'room#1', name: 'a' }, { id: 'room#2', name: 'b' }] },
  },
  {
    rule: 'balance-never-negative',
    broken: 'mutants/unlocked-sum-trigger.sql',
    says: /GROUP BY account_id HAVING sum\(amount\) < 0/,
    pools: { id: { ids: 'entry', count: 4 }, account_id: { ids: 'account', count: 1 }, amount: [20, -10, -20] },
    setup: { accounts: [{ id: 'account#1', owner: 'a' }] },
  },
];

describe('init drafts SQL-template rules', () => {
  const [first] = testServers();
  let server: StartedServer;
  beforeAll(async () => {
    server = await new UrlProvider(first!.url).start();
  });
  afterAll(async () => server?.stop());

  it.each(CASES)('$rule: the drafted rule, its pools chosen, holds on the reference and catches $broken', async ({ rule, broken, says, pools, setup }) => {
    const catalog = await catalogOfSchema(server, schemaFilesAt([fixture(rule, 'reference.sql')]));
    const drafts = inferConfig(catalog).rules.filter((r) => r.kind === 'draft' && r.draft.template === 'sql');
    expect(drafts).toHaveLength(1);
    const draft = drafts[0]!.kind === 'draft' ? (drafts[0]!.draft as Record<string, unknown>) : {};
    expect(String(draft.invariant)).toMatch(says);
    // Finishing the draft: the TODO pools replaced, setup rows added; the rule itself is init's.
    const parameters = { ...(draft.parameters as Record<string, unknown>), ...pools };
    const finished = bindRule({ ...draft, parameters, setup } as unknown as RuleBinding);
    const verdicts: string[] = [];
    for (const schema of ['reference.sql', broken]) {
      const result = await runOnServer(server, { specs: [{ rule: finished, file: 'init' }], schema: [fixture(rule, schema)], isolation: ['read-committed'], runs: 200, seed: 1, workers: 1 });
      verdicts.push(result.rules[0]!.verdict);
    }
    expect(verdicts).toEqual(['pass', 'violation']);
  });
});
