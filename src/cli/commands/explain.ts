import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_SHAPE } from '../../engine/scenario.ts';
import { explainRules, explanationExitCode, type Explanation } from '../../explain/explanation.ts';
import { explanationLines } from '../../explain/explanation-text.ts';
import type { CommandContext } from '../context.ts';
import { handleInterrupts } from '../interrupt.ts';
import { selectRules, type RuleSelectionArgs } from '../rule-selection.ts';
import { schemaSourceOf, type SchemaArgs } from '../schema-options.ts';
import { VERSION } from '../version.ts';
import { providerOf, type ServerArgs } from '../server-options.ts';
import { explainDocument } from '../../explain/explain-document.ts';

/** Arguments of `pgconform explain`. */
export interface ExplainArgs extends RuleSelectionArgs, SchemaArgs, ServerArgs {
  runs: number;
  seed?: number;
  sessions: number;
  timeBudget?: number;
  /** False with --no-run: the map only. */
  run: boolean;
  json?: boolean;
  reportDir?: string;
  quiet?: boolean;
}

/** The version of explain.json (see explain-document.ts). */
export { EXPLAIN_SCHEMA_VERSION } from '../../explain/explain-document.ts';

/**
 * pgconform explain: which database objects enforce each rule, which are fragile by construction, and a
 * short run that confirms or refutes it (exit 1 when the run finds a failure; 0 with --no-run).
 */
export async function explainCommand(args: ExplainArgs, context: CommandContext): Promise<number> {
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 31);
  const specs = await selectRules(args);
  const provider = providerOf(args, context);
  if (!args.quiet) {
    const run = args.run ? `seed ${seed}, ${args.runs} runs` : 'no run';
    context.err(`pgconform ${VERSION} explain: ${specs.length} rule(s), ${run}, ${provider.name} server`);
  }
  const schema = await schemaSourceOf(args, context);
  const server = await provider.start();
  const stopOnSignal = handleInterrupts(server, context);
  let explanation: Explanation;
  try {
    explanation = await explainRules(server, {
      specs,
      schema,
      run: args.run
        ? { runs: args.runs, seed, timeBudgetMs: args.timeBudget ? args.timeBudget * 1000 : undefined, shape: { ...DEFAULT_SHAPE, maxSessions: args.sessions } }
        : undefined,
    });
  } finally {
    stopOnSignal();
    await server.stop();
  }
  const document = explainDocument(explanation, VERSION);
  if (args.json) context.out(JSON.stringify(document, null, 2));
  else for (const line of explanationLines(explanation)) context.out(line);
  if (args.reportDir) {
    const dir = resolve(args.reportDir);
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'explain.json');
    await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
    if (!args.quiet) context.err(`explain report: ${file}`);
  }
  return explanationExitCode(explanation);
}

