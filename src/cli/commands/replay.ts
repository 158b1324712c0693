import { replaySetup } from '../../rules/transition-log.ts';
import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chooseProvider } from '../../db/provider-choice.ts';
import { readSchemaFiles } from '../../db/schema-source.ts';
import { inlineParams, toIsolationSpec } from '../../report/export-isolation.ts';
import { toVitestRegression } from '../../report/export-vitest.ts';
import { replayScenario } from '../../engine/replay.ts';
import type { Scenario } from '../../engine/scenario.ts';
import { KitError } from '../../errors/kit-error.ts';
import { readReport } from '../../report/read-report.ts';
import { timeline } from '../../report/timeline.ts';
import { invariantText } from '../../rules/predicate.ts';
import { loadSpecFile } from '../../spec/loader.ts';
import type { CommandContext } from '../context.ts';

/** Arguments of `pgconform replay`. */
export interface ReplayArgs {
  report: string;
  rule?: string;
  isolation?: string;
  url?: string;
  docker?: boolean;
  pgVersion?: string;
  sql?: boolean;
  /** Write the counterexample as a PostgreSQL isolation-tester spec or a vitest regression test. */
  export?: 'isolation' | 'vitest';
  /** File for --export (default: standard output). */
  out?: string;
}

type ReportRule = Awaited<ReturnType<typeof readReport>>['rules'][number];
/** One counterexample of a report, with its rule and check. */
interface ReplayCase {
  readonly rule: ReportRule;
  readonly check: ReportRule['checks'][number];
  readonly counterexample: NonNullable<ReportRule['checks'][number]['counterexample']>;
}

/** pgconform replay: executes saved counterexamples again; exit 1 when a failure reproduces. */
export async function replayCommand(args: ReplayArgs, context: CommandContext): Promise<number> {
  const document = await readReport(args.report);
  const cases: ReplayCase[] = document.rules.flatMap((rule) =>
    rule.checks
      .filter((check) => check.counterexample && (!args.rule || rule.id === args.rule) && (!args.isolation || check.isolation === args.isolation))
      .map((check) => ({ rule, check, counterexample: check.counterexample! })),
  );
  if (cases.length === 0) {
    throw new KitError('usage', `no counterexample${args.rule ? ` for rule "${args.rule}"` : ''} in ${args.report}`, {
      fix: `rules with one: ${document.rules.filter((r) => r.checks.some((c) => c.counterexample)).map((r) => r.id).join(', ') || 'none'}`,
    });
  }
  if (args.export === 'isolation' && cases.length > 1) return exportIsolationSpecs(args, cases, context);
  if (args.export) {
    const texts: string[] = [];
    for (const { rule, counterexample } of cases) {
      const spec = await specFor(rule);
      const schema = rule.schema.map((p) => resolve(p));
      texts.push(
        args.export === 'isolation'
          ? toIsolationSpec(counterexample, {
              schema: (await readSchemaFiles(schema)).map((f) => f.sql).join('\n'),
              setup: replaySetup(spec.rule),
              invariant: invariantText(spec.rule),
              comment: [counterexample.replay],
            })
          : toVitestRegression(counterexample, { ruleId: rule.id, schemaFiles: rule.schema, setup: replaySetup(spec.rule), invariant: invariantText(spec.rule) }),
      );
    }
    if (args.out) {
      await writeFile(args.out, texts.join('\n'));
      context.err(`wrote ${args.out}`);
    } else context.out(texts.join('\n'));
    return 0;
  }
  if (args.sql) {
    for (const { rule, counterexample } of cases) {
      const spec = await specFor(rule);
      context.out(`-- ${rule.id}: ${counterexample.kind}; on a database built from its schema, run the setup, then each step in the psql session it names, in this order`);
      // The rows the steps refer to (tenants, users …): without them the first foreign key refuses the first step.
      if (replaySetup(spec.rule).trim()) context.out(`-- setup, in any session\n${replaySetup(spec.rule).trim().replace(/;?$/, ';')}`);
      for (const event of counterexample.history) {
        if (event.outcome.status === 'skipped') continue;
        context.out(`-- step ${event.index + 1}, session ${event.session + 1}: ${event.label}`);
        context.out(`${inlineParams(event.sql, event.params)};`);
      }
      context.out(`-- then the rows that break the rule:\n${invariantText(spec.rule).trim().replace(/;?$/, ';')}`);
    }
    return 0;
  }
  const server = await chooseProvider(args).start();
  let reproduced = 0;
  try {
    for (const { rule, check, counterexample } of cases) {
      const spec = await specFor(rule);
      const execution = await replayScenario(server, spec.rule, rule.schema.map((p) => resolve(p)), counterexample.scenario as Scenario);
      const same = execution.verdict.kind === counterexample.kind;
      if (same) reproduced++;
      context.out(`${rule.id} [${check.isolation}] replay of a ${counterexample.kind}:`);
      const at = 'atEvent' in execution.verdict ? execution.verdict.atEvent : undefined;
      for (const line of timeline(execution.history, { highlight: at })) context.out(`  ${line}`);
      if (execution.verdict.kind === 'violation') for (const row of execution.verdict.rows) context.out(`  offending row: ${JSON.stringify(row)}`);
      context.out(same ? `  reproduced: ${execution.verdict.kind}` : `  did not reproduce (got ${execution.verdict.kind})`);
    }
  } finally {
    await server.stop();
  }
  return reproduced > 0 ? 1 : 0;
}

/** The spec a report's rule came from, loaded again. */
async function specFor(rule: { id: string; specFile: string }) {
  const [spec] = (await loadSpecFile(resolve(rule.specFile))).filter((s) => s.rule.id === rule.id);
  if (!spec) throw new KitError('spec', `rule "${rule.id}" is no longer in ${rule.specFile}`, { fix: 'replay with the spec the report was made with' });
  return spec;
}


/**
 * isolationtester reads one spec per file: several counterexamples go into a folder, one `<rule>-<isolation>.spec`
 * each; without a folder to write to, the user picks one with --rule and --isolation.
 */
async function exportIsolationSpecs(args: ReplayArgs, cases: readonly ReplayCase[], context: CommandContext): Promise<number> {
  const folder = args.out && (args.out.endsWith('/') || (existsSync(args.out) && statSync(args.out).isDirectory())) ? args.out : undefined;
  if (!folder) {
    throw new KitError('usage', `the report has ${cases.length} counterexamples (${cases.map((c) => `${c.rule.id} [${c.check.isolation}]`).join(', ')}), and an isolation-tester spec holds one`, {
      fix: 'pass --out a folder (one .spec per counterexample), or choose one with --rule and --isolation',
    });
  }
  await mkdir(folder, { recursive: true });
  for (const { rule, check, counterexample } of cases) {
    const spec = await specFor(rule);
    const schema = (await readSchemaFiles(rule.schema.map((p) => resolve(p)))).map((f) => f.sql).join('\n');
    const file = join(folder, `${rule.id}-${check.isolation}.spec`);
    await writeFile(file, toIsolationSpec(counterexample, { schema, setup: replaySetup(spec.rule), invariant: invariantText(spec.rule), comment: [counterexample.replay] }));
    context.err(`wrote ${file}`);
  }
  return 0;
}
