// npm run bench: the figures behind the kit's choices and targets, written to reports/bench.json.
//  1. reset options between test cases (TRUNCATE, DELETE, CREATE DATABASE … TEMPLATE);
//  2. engine throughput against a plain node-postgres loop sending the same statements over the same connections
//     (median of seven passes after a warm-up, the three interleaved in chunks of 20 scenarios);
//  3. median time to a verdict for every seed and mutant fixture, over five seeds;
//  4. the kit's reset with and without seeded rows, and the cost of one rule (200 runs) on a large schema next to the canonical fixture.
//  5. CLI start-up: pgconform --version and list from the build against the same commands under tsx's loader, and
//     against the CLI before it had a build.
//  6. detection probability of races: every fixture marked `-- needs: concurrency`, the default budget over
//     100 seeds (--race-seeds N for fewer): misses, time and runs to the first failure, and a naive burst baseline.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { connect, quoteIdent } from '../src/db/connection.ts';
import { EmbeddedProvider } from '../src/db/embedded-provider.ts';
import type { StartedServer } from '../src/db/provider.ts';
import { Sandbox } from '../src/db/sandbox.ts';
import { readSchemaFiles } from '../src/db/schema-source.ts';
import { modelDatabaseFor, ScenarioExecutor, type Execution } from '../src/engine/executor.ts';
import type { History, HistoryEvent } from '../src/engine/history.ts';
import { checkRule } from '../src/engine/rule-check.ts';
import { scenarioArbitrary, type Scenario } from '../src/engine/scenario.ts';
import { expectedVerdict, readFixtures } from '../src/spec/fixture.ts';
import { defaultSpecsDir, loadSpecs } from '../src/spec/loader.ts';
import { benchRaceDetection } from './race-detection.ts';
import { benchKitReset, benchPerRule } from './scale.ts';
import { writeBenchDocument } from './bench-document.ts';

// --quick: one seed per fixture instead of five; --throughput-only: reset and throughput figures only;
// --startup-only: the CLI's start-up figures only (no server); --scale-only: reset and large-schema figures only; --field-dir DIR: where the field corpus is (default fixtures/field).
const quick = process.argv.includes('--quick');
/** The last commit whose CLI ran under tsx's loader with every module imported up front (before the build). */
const PRE_BUILD_REV = 'e92996d^';
const throughputOnly = process.argv.includes('--throughput-only');
const scaleOnly = process.argv.includes('--scale-only');
const fieldDirAt = process.argv.indexOf('--field-dir');
const fieldDir = fieldDirAt > 0 ? process.argv[fieldDirAt + 1] : undefined;
// --race-seeds N: seeds per race fixture (default 100); --races-only: the race figures alone, merged into reports/bench.json.
const raceSeedsAt = process.argv.indexOf('--race-seeds');
const raceSeeds = raceSeedsAt > 0 ? Number(process.argv[raceSeedsAt + 1]) : 100;
if (process.argv.includes('--races-only')) {
  process.once('SIGINT', () => process.exit(130));
  const server = await new EmbeddedProvider().start();
  try {
    const races = await benchRaceDetection(server, { seeds: raceSeeds, log: console.log });
    await mkdir('reports', { recursive: true });
    const previous = await readFile('reports/bench.json', 'utf8').then((text) => JSON.parse(text) as Record<string, unknown>, () => ({}));
    const cores = (await import('node:os')).cpus().length;
    await writeBenchDocument('reports/bench.json', { ...previous, races: { date: new Date().toISOString(), server: server.serverVersion, cores, rows: races } });
    console.log('wrote the race figures to reports/bench.json');
  } finally {
    await server.stop();
  }
  process.exit(0);
}
if (process.argv.includes('--startup-only')) {
  const startup = benchStartup(quick ? 5 : 11);
  await mkdir('reports', { recursive: true });
  await writeBenchDocument('reports/bench-startup.json', { startup });
  console.log('wrote reports/bench-startup.json');
  process.exit(0);
}
// Ctrl-C: exit normally, so that the embedded server's exit hook stops it and removes its files.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
const server = await new EmbeddedProvider().start();
const figures: Record<string, unknown> = { date: new Date().toISOString(), server: server.serverVersion, cores: (await import('node:os')).cpus().length };
try {
  figures.reset = { ...(await benchReset(server)), ...(await benchKitReset(server)) };
  console.log('reset (ms per reset):', figures.reset);
  if (!throughputOnly) {
    figures.perRule = await benchPerRule(server, quick ? 1 : 3, fieldDir);
    console.log('per rule (200 runs):', JSON.stringify(figures.perRule));
  }
  if (!scaleOnly) {
    figures.throughput = await benchThroughput(server);
    const throughput = figures.throughput as Awaited<ReturnType<typeof benchThroughput>>;
    for (const round of throughput.rounds) {
      console.log(`pass: raw ${round.raw.stepsPerSecond}, deterministic ${round.deterministic.stepsPerSecond} (${round.deterministicToRaw}), stress ${round.stress.stepsPerSecond} (${round.stressToRaw}) steps/s`);
    }
    console.log(`throughput (median of rounds): deterministic/raw ${throughput.deterministicToRaw} (target 0.5), stress/raw ${throughput.stressToRaw} (target 0.8)`);
    console.log('statements per scenario:', throughput.statementsPerScenario, '; observer queries per scenario (deterministic):', throughput.observerPerScenario);
    console.log('wait detection:', throughput.waitDetection);
    console.log('plain single-row inserts per second, for scale:', throughput.plainInserts);
    if (!throughputOnly) figures.detection = await benchDetection(server, quick ? 1 : 5);
    if (!throughputOnly) figures.races = await benchRaceDetection(server, { seeds: raceSeeds, log: console.log });
  }
  if (!throughputOnly && !scaleOnly) figures.startup = benchStartup(quick ? 5 : 11);
} finally {
  await server.stop();
}
await mkdir('reports', { recursive: true });
const output = throughputOnly ? 'reports/bench-throughput.json' : scaleOnly ? 'reports/bench-scale.json' : 'reports/bench.json';
await writeBenchDocument(output, figures);
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
    // Steps counted are statements sent to the server, for all three: a step the engine skips costs no round trip.
    const sent = (execution: Execution) => execution.history.filter((e) => e.sql).length;
    const histories: History[] = [];
    for (const scenario of scenarios) histories.push((await executor.execute(scenario)).history.filter((e) => e.sql));
    const clients: pg.Client[] = [];
    for (let i = 0; i < 4; i++) clients.push(await connect(settings));
    // The same statements over the same number of connections, sessions in parallel, nothing else.
    // It empties the table after itself: the engine's next execution skips its reset when its own last
    // one left the data clean, and must not find this loop's rows.
    const raw = async (history: History) => {
      const bySession = new Map<number, HistoryEvent[]>();
      for (const event of history) bySession.set(event.session, [...(bySession.get(event.session) ?? []), event]);
      await Promise.all(
        [...bySession].map(async ([session, events]) => {
          for (const event of events) await clients[session]!.query({ text: event.sql, values: [...event.params] }).catch(() => undefined);
          await clients[session]!.query('ROLLBACK').catch(() => undefined);
        }),
      );
      await clients[0]!.query(`DELETE FROM access_requests`);
      return history.length;
    };
    const loops: Record<'raw' | 'deterministic' | 'stress', (i: number) => Promise<number>> = {
      raw: (i) => raw(histories[i]!),
      deterministic: async (i) => sent(await executor.execute(scenarios[i]!)),
      stress: async (i) => sent(await executor.executeFree(scenarios[i]!)),
    };
    type Loop = keyof typeof loops;
    const names = Object.keys(loops) as Loop[];
    // Chunks of 20 scenarios, each run by all three in rotating order: a slow spell of a shared machine
    // (they last seconds here) weighs on all three alike. A warm-up pass first (JIT, server caches,
    // prepared statements); ratios are taken within a pass.
    const pass = async () => {
      const totals = Object.fromEntries(names.map((name) => [name, { steps: 0, ms: 0, cpuMs: 0 }])) as Record<Loop, { steps: number; ms: number; cpuMs: number }>;
      for (let from = 0, chunk = 0; from < scenarios.length; from += 20, chunk++) {
        for (let k = 0; k < names.length; k++) {
          const name = names[(chunk + k) % names.length]!;
          const t = performance.now();
          const cpu = process.cpuUsage();
          for (let i = from; i < Math.min(from + 20, scenarios.length); i++) totals[name].steps += await loops[name](i);
          totals[name].ms += performance.now() - t;
          const used = process.cpuUsage(cpu);
          totals[name].cpuMs += (used.user + used.system) / 1000;
        }
      }
      return Object.fromEntries(
        names.map((name) => {
          const { steps, ms, cpuMs } = totals[name];
          // nodeCpuShare: how much of the wall time this process's CPU took (the rest is the server and waiting).
          return [name, { steps, seconds: Number((ms / 1000).toFixed(2)), stepsPerSecond: Math.round(steps / (ms / 1000)), nodeCpuShare: Number((cpuMs / ms).toFixed(2)) }];
        }),
      ) as Record<Loop, { steps: number; seconds: number; stepsPerSecond: number; nodeCpuShare: number }>;
    };
    await pass();
    const rounds: Array<Awaited<ReturnType<typeof pass>>> = [];
    for (let r = 0; r < (quick ? 1 : 7); r++) rounds.push(await pass());
    // Round trips per scenario besides the steps themselves, in one more deterministic pass.
    const before = { ...executor.counts };
    for (const scenario of scenarios) await executor.execute(scenario);
    const observerPerScenario = Object.fromEntries(
      Object.entries(executor.counts).map(([purpose, n]) => [purpose, Number(((n - before[purpose as keyof typeof before]) / scenarios.length).toFixed(2))]),
    );
    const waitDetection = await benchWaitDetection(executor);
    const plainInserts = await benchPlainInserts(clients);
    await executor.close();
    await Promise.all(clients.map((c) => c.end()));
    const ratio = (round: (typeof rounds)[number], name: 'deterministic' | 'stress') => Number((round[name].stepsPerSecond / round.raw.stepsPerSecond).toFixed(2));
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    return {
      scenarios: scenarios.length,
      rounds: rounds.map((round) => ({ ...round, deterministicToRaw: ratio(round, 'deterministic'), stressToRaw: ratio(round, 'stress') })),
      observerPerScenario,
      plainInserts,
      statementsPerScenario: Number((histories.reduce((n, h) => n + h.length, 0) / scenarios.length).toFixed(2)),
      waitDetection,
      deterministicToRaw: median(rounds.map((round) => ratio(round, 'deterministic'))),
      stressToRaw: median(rounds.map((round) => ratio(round, 'stress'))),
      targets: { deterministicToRaw: 0.5, stressToRaw: 0.8 },
    };
  } finally {
    await sandbox.dispose();
  }
}

/**
 * For scale (the issue's pgbench and node-postgres figures): single-row inserts per second from a plain
 * node-postgres loop on one connection and on four, on the same server and table as the throughput figures.
 */
async function benchPlainInserts(clients: pg.Client[]) {
  const rate = async (connections: number, perConnection: number) => {
    await clients[0]!.query('DELETE FROM access_requests');
    const t = performance.now();
    await Promise.all(
      clients.slice(0, connections).map(async (client) => {
        for (let i = 0; i < perConnection; i++) {
          await client.query({
            text: `INSERT INTO access_requests (organization_id, user_id, status) VALUES (gen_random_uuid(), gen_random_uuid(), 'APPROVED')`,
            values: [],
          });
        }
      }),
    );
    return Math.round((connections * perConnection) / ((performance.now() - t) / 1000));
  };
  await rate(4, 500);
  const result = { oneConnection: await rate(1, 4000), fourConnections: await rate(4, 1000) };
  await clients[0]!.query('DELETE FROM access_requests');
  return result;
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
          const executor = await ScenarioExecutor.open(spec.rule, await sandbox.createWorkerDatabase(), {
          maxSessions: 4,
          modelDatabase: await modelDatabaseFor(spec.rule, () => sandbox.createWorkerDatabase()),
        });
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

/**
 * CLI start-up, median wall time of n runs each: the built CLI (bin/pgconform.js, run npm run build first) against
 * the same main() compiled on the fly by tsx's loader, and against the CLI as it was before it had a build (the
 * commit PRE_BUILD_REV, unpacked into a temporary folder: tsx's loader and every module imported up front). The
 * runs interleave, so a slow spell of a shared machine weighs on all of them alike.
 */
function benchStartup(n: number) {
  const viaTsx = "import { register } from 'tsx/esm/api'; register(); const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
  const preBuild = unpackPreBuildCli();
  const ways: Record<string, (args: string[]) => string[]> = {
    built: (args) => ['bin/pgconform.js', ...args],
    tsx: (args) => ['--input-type=module', '-e', viaTsx, '--', ...args],
    ...(preBuild ? { 'pre-build': (args: string[]) => [join(preBuild, 'bin', 'pgconform.js'), ...args] } : {}),
  };
  const commands = { version: ['--version'], list: ['list'] };
  const times: Record<string, number[]> = {};
  try {
    for (let i = 0; i < n; i++) {
      for (const [way, argsOf] of Object.entries(ways)) {
        for (const [command, args] of Object.entries(commands)) {
          const t = performance.now();
          const run = spawnSync(process.execPath, argsOf(args), { encoding: 'utf8', cwd: way === 'pre-build' ? preBuild : undefined });
          if (run.status !== 0) throw new Error(`${way} ${command} failed: ${run.stderr}`);
          (times[`${way} ${command}`] ??= []).push(performance.now() - t);
        }
      }
    }
  } finally {
    if (preBuild) rmSync(preBuild, { recursive: true, force: true });
  }
  const median = (values: number[]) => Math.round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!);
  const medians = Object.fromEntries(Object.entries(times).map(([key, values]) => [key, median(values)]));
  const ratio = (way: string, command: string) => (medians[`${way} ${command}`] ? Number((medians[`${way} ${command}`]! / medians[`built ${command}`]!).toFixed(1)) : null);
  const result = {
    runs: n,
    preBuildRev: preBuild ? PRE_BUILD_REV : null,
    medianMs: medians,
    tsxToBuilt: { version: ratio('tsx', 'version'), list: ratio('tsx', 'list') },
    preBuildToBuilt: { version: ratio('pre-build', 'version'), list: ratio('pre-build', 'list') },
  };
  console.log('start-up (median ms):', result.medianMs, 'tsx/built:', result.tsxToBuilt, 'pre-build/built:', result.preBuildToBuilt);
  return result;
}

/** That commit's CLI in a temporary folder sharing this clone's node_modules; undefined outside a git clone. */
function unpackPreBuildCli(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'pgconform-pre-build-'));
  const archive = spawnSync('sh', ['-c', `git archive ${PRE_BUILD_REV} package.json bin src specs fixtures | tar -x -C "${dir}"`], { encoding: 'utf8' });
  if (archive.status !== 0) {
    console.warn(`start-up: no pre-build CLI to compare with (${archive.stderr.trim()})`);
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  symlinkSync(join(process.cwd(), 'node_modules'), join(dir, 'node_modules'));
  return dir;
}
