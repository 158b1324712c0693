// Detection probability of races: for every fixture whose failure needs concurrency (`-- needs: concurrency`
// in its header), the default budget over N seeds, deterministic mode, as a CI job runs it (one seed per run).
// Reports misses, time and runs to the first failure, and the size of the shrunk counterexample on the first
// seeds; next to it, a naive burst (plain clients sending random operations of the rule, no schedule) for
// the same wall time.
//
//   npx tsx bench/race-detection.ts [--url URL] [--seeds 30] [--fixture unlocked] [--no-baseline]
//   npx tsx bench/race-detection.ts --false-positives [--seeds 10] [--rule id,id]   (correct designs over many seeds)
import { mkdir } from 'node:fs/promises';
import fc from 'fast-check';
import type pg from 'pg';
import { connect } from '../src/db/connection.ts';
import type { StartedServer } from '../src/db/provider.ts';
import { Sandbox } from '../src/db/sandbox.ts';
import { readSchemaFiles } from '../src/db/schema-source.ts';
import { UrlProvider } from '../src/db/url-provider.ts';
import { modelDatabaseFor, ScenarioExecutor } from '../src/engine/executor.ts';
import { checkRule, DEFAULT_RUNS } from '../src/engine/rule-check.ts';
import { stepCount } from '../src/engine/scenario.ts';
import type { Rule } from '../src/rules/rule.ts';
import { expectedVerdict, readFixtures, type Fixture } from '../src/spec/fixture.ts';
import { defaultSpecsDir, loadSpecs, type LoadedSpec } from '../src/spec/loader.ts';
import { writeBenchDocument } from './bench-document.ts';

export interface RaceBenchOptions {
  readonly seeds: number;
  /** Seeds whose counterexample is shrunk and measured (the rest stop at the first failure, to save time). */
  readonly shrinkSeeds?: number;
  /** Only fixtures whose name contains this. */
  readonly fixture?: string;
  readonly baseline?: boolean;
  readonly log?: (line: string) => void;
}

/** One race fixture's figures. */
export interface RaceRow {
  rule: string;
  fixture: string;
  seeds: number;
  misses: number;
  medianMsToFailure: number | null;
  p90MsToFailure: number | null;
  medianRunsToFailure: number | null;
  /** Largest shrunk counterexample over the shrunk seeds. */
  shrunk: { seeds: number; maxSessions: number; maxSteps: number };
  baseline?: BurstRow;
}

interface BurstRow {
  clients: number;
  wallMs: number;
  bursts: number;
  found: number;
  medianMsToFailure: number | null;
}

/** The race fixtures of the built-in specs. */
export async function raceFixtures(filter?: string): Promise<Array<{ spec: LoadedSpec; fixture: Fixture }>> {
  const specs = await loadSpecs([], defaultSpecsDir());
  return specs.flatMap((spec) =>
    readFixtures(spec.fixtures!)
      .filter((f) => f.concurrency && expectedVerdict(f, spec.rule.id) === 'violation' && (!filter || `${spec.rule.id}/${f.name}`.includes(filter)))
      .map((fixture) => ({ spec, fixture })),
  );
}

export async function benchRaceDetection(server: StartedServer, options: RaceBenchOptions): Promise<RaceRow[]> {
  const rows: RaceRow[] = [];
  for (const { spec, fixture } of await raceFixtures(options.fixture)) {
    const row = await benchFixture(server, spec.rule, fixture, options);
    options.log?.(JSON.stringify(row));
    rows.push(row);
  }
  return rows;
}

async function benchFixture(server: StartedServer, rule: Rule, fixture: Fixture, options: RaceBenchOptions): Promise<RaceRow> {
  const sandbox = await Sandbox.create(server, await readSchemaFiles([fixture.file]));
  try {
    const settings = await sandbox.createWorkerDatabase();
    const modelDatabase = await modelDatabaseFor(rule, () => sandbox.createWorkerDatabase());
    const executor = await ScenarioExecutor.open(rule, settings, { maxSessions: 4, modelDatabase });
    try {
      return await measure(rule, fixture, executor, settings, options);
    } finally {
      await executor.close();
    }
  } finally {
    await sandbox.dispose();
  }
}

async function measure(rule: Rule, fixture: Fixture, executor: ScenarioExecutor, settings: Parameters<typeof connect>[0], options: RaceBenchOptions): Promise<RaceRow> {
  const found: Array<{ ms: number; runs: number }> = [];
  const shrunk = { seeds: 0, maxSessions: 0, maxSteps: 0 };
  for (let seed = 1; seed <= options.seeds; seed++) {
    const first = await firstFailure(rule, executor, seed, seed <= (options.shrinkSeeds ?? 5));
    if (first.failure) found.push(first.failure);
    if (first.size) {
      shrunk.seeds++;
      shrunk.maxSessions = Math.max(shrunk.maxSessions, first.size.sessions);
      shrunk.maxSteps = Math.max(shrunk.maxSteps, first.size.steps);
    }
  }
  const times = found.map((f) => f.ms);
  const row: RaceRow = {
    rule: rule.id,
    fixture: fixture.name,
    seeds: options.seeds,
    misses: options.seeds - found.length,
    medianMsToFailure: quantile(times, 0.5),
    p90MsToFailure: quantile(times, 0.9),
    medianRunsToFailure: quantile(found.map((f) => f.runs), 0.5),
    shrunk,
  };
  if (options.baseline !== false) {
    // The same wall time as the kit needs for nine seeds in ten, and never less than a 200 ms burst.
    const wallMs = Math.max(200, Math.ceil(row.p90MsToFailure ?? 0));
    row.baseline = await burstBaseline(settings, rule, executor, options.seeds, wallMs);
  }
  return row;
}

/** Runs one seed's check; the time and runs to the first failing execution, and the shrunk size when shrinking. */
async function firstFailure(rule: Rule, executor: ScenarioExecutor, seed: number, shrink: boolean) {
  const abort = new AbortController();
  let runs = 0;
  let failure: { ms: number; runs: number } | undefined;
  const t0 = performance.now();
  const check = await checkRule(rule, executor, {
    isolation: 'read-committed',
    runs: DEFAULT_RUNS,
    seed,
    signal: abort.signal,
    onExecution: (execution) => {
      runs++;
      if (failure || execution.verdict.kind !== 'violation') return;
      failure = { ms: performance.now() - t0, runs };
      if (!shrink) abort.abort('found');
    },
  });
  const scenario = check.verdict === 'violation' ? check.counterexample?.scenario : undefined;
  return { failure, size: scenario ? { sessions: scenario.sessions.length, steps: stepCount(scenario) } : undefined };
}

/**
 * The naive baseline: four plain clients send random operations of the rule (autocommit statements and
 * two-statement transactions) as fast as they can for `wallMs`, while an observer checks the invariant.
 */
async function burstBaseline(settings: Parameters<typeof connect>[0], rule: Rule, executor: ScenarioExecutor, bursts: number, wallMs: number): Promise<BurstRow> {
  const clients = await Promise.all(Array.from({ length: 4 }, () => connect(settings)));
  const times: number[] = [];
  try {
    for (let burst = 1; burst <= bursts; burst++) {
      await executor.reset();
      const ms = await oneBurst(clients, rule, executor, burst, wallMs);
      if (ms !== undefined) times.push(ms);
    }
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
  await executor.reset();
  return { clients: clients.length, wallMs, bursts, found: times.length, medianMsToFailure: quantile(times, 0.5) };
}

async function oneBurst(clients: pg.Client[], rule: Rule, executor: ScenarioExecutor, seed: number, wallMs: number): Promise<number | undefined> {
  const ops = fc.sample(rule.operation, { seed, numRuns: 2000 });
  let next = 0;
  const t0 = performance.now();
  let foundAt: number | undefined;
  const over = () => foundAt !== undefined || performance.now() - t0 >= wallMs;
  const send = async (client: pg.Client) => {
    while (!over()) {
      const inTransaction = next % 2 === 1;
      const batch = [ops[next++ % ops.length]!, ...(inTransaction ? [ops[next++ % ops.length]!] : [])];
      try {
        if (inTransaction) await client.query('BEGIN');
        for (const op of batch) {
          const statement = rule.sql(op);
          await client.query(statement.text, [...statement.values]);
        }
        if (inTransaction) await client.query('COMMIT');
      } catch {
        if (inTransaction) await client.query('ROLLBACK').catch(() => undefined);
      }
    }
  };
  const watch = async () => {
    while (!over()) {
      if ((await executor.violations()).length > 0) foundAt ??= performance.now() - t0;
    }
  };
  await Promise.all([...clients.map(send), watch()]);
  if (foundAt === undefined && (await executor.violations()).length > 0) foundAt = performance.now() - t0;
  return foundAt;
}

/**
 * False positives: every fixture of a rule with races that must pass (references, equivalents), the
 * default budget over N seeds; any other verdict is counted with its seed.
 */
export async function benchFalsePositives(server: StartedServer, seeds: number, filter?: string, log?: (line: string) => void, rules?: readonly string[]) {
  const specs = (await loadSpecs([], defaultSpecsDir())).filter((spec) => !rules || rules.includes(spec.rule.id));
  const rows: Array<{ rule: string; fixture: string; seeds: number; failures: string[] }> = [];
  // Rules with a model of their own that can design races, and rules the database model designs races for.
  for (const spec of specs.filter((s) => s.rule.apply || !s.rule.allows)) {
    for (const fixture of readFixtures(spec.fixtures!).filter((f) => expectedVerdict(f, spec.rule.id) === 'pass' && (!filter || f.name.includes(filter)))) {
      const sandbox = await Sandbox.create(server, await readSchemaFiles([fixture.file]));
      const failures: string[] = [];
      try {
        const executor = await ScenarioExecutor.open(spec.rule, await sandbox.createWorkerDatabase(), {
          maxSessions: 4,
          modelDatabase: await modelDatabaseFor(spec.rule, () => sandbox.createWorkerDatabase()),
        });
        try {
          for (let seed = 1; seed <= seeds; seed++) {
            const check = await checkRule(spec.rule, executor, { isolation: 'read-committed', runs: DEFAULT_RUNS, seed });
            if (check.verdict !== 'pass') failures.push(`seed ${seed}: ${check.verdict}`);
          }
        } finally {
          await executor.close();
        }
      } finally {
        await sandbox.dispose();
      }
      const row = { rule: spec.rule.id, fixture: fixture.name, seeds, failures };
      log?.(JSON.stringify(row));
      rows.push(row);
    }
  }
  return rows;
}

function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! * 10) / 10;
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await new UrlProvider(argument('--url') ?? 'postgresql://postgres@127.0.0.1:5432/postgres').start();
  if (process.argv.includes('--false-positives')) {
    const rules = argument('--rule')?.split(',');
    const rows = await benchFalsePositives(server, Number(argument('--seeds') ?? 10), argument('--fixture'), console.log, rules);
    await mkdir('reports', { recursive: true });
    await writeBenchDocument(`reports/bench-false-positives${rules ? `-${rules.join('-')}` : ''}.json`, { rows });
    process.exit(0);
  }
  const rows = await benchRaceDetection(server, {
    seeds: Number(argument('--seeds') ?? 100),
    fixture: argument('--fixture'),
    baseline: !process.argv.includes('--no-baseline'),
    log: console.log,
  });
  await mkdir('reports', { recursive: true });
  await writeBenchDocument('reports/bench-races.json', { server: server.serverVersion, rows });
  console.log('wrote reports/bench-races.json');
}
