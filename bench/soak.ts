// npm run soak [-- --minutes N]: every rule in stress mode on its reference schema, round after round,
// for N minutes (default 10), sampling memory; writes reports/soak.json. Memory should stay flat, and
// nothing but the expected verdicts should come out (any other is worth a look).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmbeddedProvider } from '../src/db/embedded-provider.ts';
import { Sandbox } from '../src/db/sandbox.ts';
import { readSchemaFiles } from '../src/db/schema-source.ts';
import { ScenarioExecutor } from '../src/engine/executor.ts';
import { checkRule } from '../src/engine/rule-check.ts';
import { expectedVerdict, parseFixture } from '../src/spec/fixture.ts';
import { defaultSpecsDir, loadSpecs } from '../src/spec/loader.ts';

const minutesArg = process.argv.indexOf('--minutes');
const minutes = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 10;
// Ctrl-C: exit normally, so that the embedded server's exit hook stops it and removes its files.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
const server = await new EmbeddedProvider().start();
const specs = await loadSpecs([], defaultSpecsDir());
const workers = [];
for (const spec of specs) {
  const sandbox = await Sandbox.create(server, await readSchemaFiles([join(spec.fixtures!, 'reference.sql')]));
  const executor = await ScenarioExecutor.open(spec.rule, await sandbox.createWorkerDatabase(), { maxSessions: 4 });
  // rule 1's reference is wrong for the strict variant by design: compare with what the fixture expects.
  const expected = expectedVerdict(parseFixture(join(spec.fixtures!, 'reference.sql'), 'reference'), spec.rule.id) ?? 'pass';
  workers.push({ spec, sandbox, executor, expected });
}
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const samples: Array<{ seconds: number; rssMb: number; heapUsedMb: number; steps: number }> = [];
const findings: Array<{ rule: string; verdict: string; error?: string; seed: number }> = [];
const started = performance.now();
let steps = 0;
let rounds = 0;
const sample = () => {
  const memory = process.memoryUsage();
  samples.push({ seconds: Math.round((performance.now() - started) / 1000), rssMb: mb(memory.rss), heapUsedMb: mb(memory.heapUsed), steps });
};
sample();
const timer = setInterval(sample, 15_000);
try {
  while (performance.now() - started < minutes * 60_000) {
    rounds++;
    for (const { spec, executor, expected } of workers) {
      const check = await checkRule(spec.rule, executor, { isolation: 'read-committed', runs: 100, seed: rounds, stress: true });
      steps += check.steps;
      if (check.verdict !== expected) findings.push({ rule: spec.rule.id, verdict: check.verdict, error: check.error, seed: rounds });
    }
    global.gc?.();
  }
} finally {
  clearInterval(timer);
  sample();
  for (const { executor, sandbox } of workers) {
    await executor.close();
    await sandbox.dispose();
  }
  await server.stop();
}
const seconds = (performance.now() - started) / 1000;
const first = samples[1] ?? samples[0]!;
const last = samples.at(-1)!;
const result = {
  date: new Date().toISOString(),
  minutes,
  rounds,
  steps,
  stepsPerSecond: Math.round(steps / seconds),
  memory: { startRssMb: first.rssMb, endRssMb: last.rssMb, peakRssMb: Math.max(...samples.map((s) => s.rssMb)), startHeapMb: first.heapUsedMb, endHeapMb: last.heapUsedMb },
  findings,
  samples,
};
await mkdir('reports', { recursive: true });
await writeFile('reports/soak.json', `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify({ ...result, samples: samples.length }, null, 2));
