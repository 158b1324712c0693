// npm run bench: the figures behind the kit's choices and targets, written to reports/bench.json.
//  1. reset options between test cases (TRUNCATE, DELETE, CREATE DATABASE … TEMPLATE);
//  2. engine throughput against a plain node-postgres loop sending the same statements over the same connections;
//  3. median time to a verdict for every seed and mutant fixture, over five seeds.
import { mkdir, writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import pg from 'pg';
import { connect, quoteIdent } from '../src/db/connection.ts';
import { EmbeddedProvider } from '../src/db/embedded-provider.ts';
import type { StartedServer } from '../src/db/provider.ts';
import { Sandbox } from '../src/db/sandbox.ts';
import { readSchemaFiles } from '../src/db/schema-source.ts';
import { ScenarioExecutor } from '../src/engine/executor.ts';
import { checkRule } from '../src/engine/rule-check.ts';
import { scenarioArbitrary, type Scenario } from '../src/engine/scenario.ts';
import { expectedVerdict, readFixtures } from '../src/spec/fixture.ts';
import { defaultSpecsDir, loadSpecs } from '../src/spec/loader.ts';

// --quick: one seed per fixture instead of five; --throughput-only: reset and throughput figures only.
const quick = process.argv.includes('--quick');
const throughputOnly = process.argv.includes('--throughput-only');
// Ctrl-C: exit normally, so that the embedded server's exit hook stops it and removes its files.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
const server = await new EmbeddedProvider().start();
const figures: Record<string, unknown> = { date: new Date().toISOString(), server: server.serverVersion, cores: (await import('node:os')).cpus().length };
try {
  figures.reset = await benchReset(server);
  console.log('reset (ms per reset):', figures.reset);
  figures.throughput = await benchThroughput(server);
  console.log('throughput:', figures.throughput);
  if (!throughputOnly) figures.detection = await benchDetection(server, quick ? 1 : 5);
} finally {
  await server.stop();
}
await mkdir('reports', { recursive: true });
const output = throughputOnly ? 'reports/bench-throughput.json' : 'reports/bench.json';
await writeFile(output, `${JSON.stringify(figures, null, 2)}\n`);
console.log(`wrote ${output}`);

async function benchReset(server: StartedServer) {
  const sandbox = await Sandbox.create(server, await readSchemaFiles(['fixtures/profile-requires-membership/reference.sql']));
  try {
    const settings = await sandbox.createWorkerDatabase();
    const client = await connect(settings);
    const tables = ['user_profiles', 'tenant_members', 'users', 'tenants'];
    const setup = `INSERT INTO tenants VALUES ('00000000-0000-4000-8000-000000000001', 'a');
      INSERT INTO users VALUES ('00000000-0000-4000-8000-000000000001', 'a@example.com', false);`;
    const dirty = `INSERT INTO tenant_members (user_id, tenant_id) VALUES ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001')
      ON CONFLICT DO NOTHING;`;
    const time = async (sql: string, n = 300) => {
      let total = 0;
      for (let i = 0; i < n; i++) {
        await client.query(dirty);
        const t = performance.now();
        await client.query(sql);
        total += performance.now() - t;
      }
      return Number((total / n).toFixed(3));
    };
    await client.query(setup);
    const result = {
      truncate: await time(`TRUNCATE ${tables.map(quoteIdent).join(', ')} RESTART IDENTITY CASCADE; ${setup}`),
      deleteReplicaRole: await time(`SET session_replication_role = replica; ${tables.map((t) => `DELETE FROM ${t};`).join(' ')} SET session_replication_role = DEFAULT; ${setup}`),
      deleteChildrenFirst: await time(`${tables.map((t) => `DELETE FROM ${t};`).join(' ')} ${setup}`),
      createDatabaseFromTemplate: 0,
    };
    await client.end();
    const admin = await connect(server.settings);
    let total = 0;
    const n = 10;
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await admin.query(`CREATE DATABASE pgconform_bench_clone TEMPLATE ${quoteIdent(sandbox.template)}`);
      await admin.query('DROP DATABASE pgconform_bench_clone');
      total += performance.now() - t;
    }
    await admin.end();
    result.createDatabaseFromTemplate = Number((total / n).toFixed(3));
    return result;
  } finally {
    await sandbox.dispose();
  }
}

async function benchThroughput(server: StartedServer) {
  const [spec] = await loadSpecs(['one-pending-request'], defaultSpecsDir());
  const rule = spec!.rule;
  const sandbox = await Sandbox.create(server, await readSchemaFiles(['fixtures/one-pending-request/reference.sql']));
  try {
    const settings = await sandbox.createWorkerDatabase();
    const scenarios: Scenario[] = fc.sample(scenarioArbitrary(rule, 'read-committed'), { numRuns: quick ? 100 : 400, seed: 42 });
    const executor = await ScenarioExecutor.open(rule, settings, { maxSessions: 4 });
    const measure = async (run: (s: Scenario) => Promise<number>) => {
      let steps = 0;
      const t = performance.now();
      for (const scenario of scenarios) steps += await run(scenario);
      const seconds = (performance.now() - t) / 1000;
      return { steps, seconds: Number(seconds.toFixed(2)), stepsPerSecond: Math.round(steps / seconds) };
    };
    const deterministic = await measure(async (s) => (await executor.execute(s)).steps);
    const waitDetection = await benchWaitDetection(executor);
    const stress = await measure(async (s) => (await executor.executeFree(s)).steps);
    // The same statements over the same number of connections, sessions in parallel, nothing else.
    const clients: pg.Client[] = [];
    for (let i = 0; i < 4; i++) clients.push(await connect(settings));
    const statements: Array<Awaited<ReturnType<ScenarioExecutor['execute']>>['history']> = [];
    for (const scenario of scenarios) statements.push((await executor.execute(scenario)).history.filter((e) => e.sql));
    await executor.close();
    let i = 0;
    const raw = await measure(async () => {
      const history = statements[i++]!;
      await clients[0]!.query(`DELETE FROM access_requests`);
      const bySession = new Map<number, typeof history>();
      for (const event of history) bySession.set(event.session, [...(bySession.get(event.session) ?? []), event]);
      await Promise.all(
        [...bySession].map(async ([session, events]) => {
          for (const event of events) await clients[session]!.query({ text: event.sql, values: [...event.params] }).catch(() => undefined);
          await clients[session]!.query('ROLLBACK').catch(() => undefined);
        }),
      );
      return history.length;
    });
    await Promise.all(clients.map((c) => c.end()));
    return {
      scenarios: scenarios.length,
      raw,
      deterministic,
      stress,
      waitDetection,
      deterministicToRaw: Number((deterministic.stepsPerSecond / raw.stepsPerSecond).toFixed(2)),
      stressToRaw: Number((stress.stepsPerSecond / raw.stepsPerSecond).toFixed(2)),
    };
  } finally {
    await sandbox.dispose();
  }
}

/**
 * How long the engine takes to recognise that a step waits on another session's lock: the same two-session
 * scenario with and without the wait (s2 inserts the key s1 holds, or another key), the difference per wait.
 */
async function benchWaitDetection(executor: ScenarioExecutor) {
  const { idPool } = await import('../src/rules/pool.ts');
  const [org] = idPool('org', 2).values;
  const [user, other] = idPool('user', 2).values;
  const ids = idPool('request', 4).values;
  const insert = (slot: number, who: unknown) => ({ kind: 'insert', args: { id: ids[slot]!, organization_id: org!, user_id: who as string, status: 'PENDING' } });
  const scenario = (who: unknown): Scenario => ({
    isolation: 'read-committed',
    sessions: [[{ transaction: [insert(0, user)], end: 'commit' }], [{ autocommit: insert(1, who) }]],
    schedule: [0, 0, 1, 0],
  });
  const time = async (s: Scenario, n = 200) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) await executor.execute(s);
    return (performance.now() - t) / n;
  };
  const waiting = await time(scenario(user));
  const free = await time(scenario(other));
  return { msPerScenarioWithWait: Number(waiting.toFixed(2)), msPerScenarioWithout: Number(free.toFixed(2)), msToRecogniseWait: Number((waiting - free).toFixed(2)) };
}

async function benchDetection(server: StartedServer, seeds: number) {
  const specs = await loadSpecs([], defaultSpecsDir());
  const rows: Array<Record<string, unknown>> = [];
  for (const spec of specs) {
    for (const fixture of readFixtures(spec.fixtures!)) {
      const expected = expectedVerdict(fixture, spec.rule.id);
      if (!expected || expected === 'pass') continue;
      const sandbox = await Sandbox.create(server, await readSchemaFiles([fixture.file]));
      const times: number[] = [];
      const verdicts: string[] = [];
      try {
        for (let seed = 1; seed <= seeds; seed++) {
          const executor = await ScenarioExecutor.open(spec.rule, await sandbox.createWorkerDatabase(), { maxSessions: 4 });
          const check = await checkRule(spec.rule, executor, { isolation: 'read-committed', runs: 200, seed });
          await executor.close();
          times.push(check.durationMs);
          verdicts.push(check.verdict);
        }
      } finally {
        await sandbox.dispose();
      }
      const sorted = [...times].sort((a, b) => a - b);
      const row = { rule: spec.rule.id, fixture: fixture.name, expected, caught: verdicts.filter((v) => v === expected).length, seeds, medianMs: sorted[Math.floor(sorted.length / 2)] };
      console.log(JSON.stringify(row));
      rows.push(row);
    }
  }
  return rows;
}
