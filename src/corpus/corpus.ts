import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Counterexample } from '../engine/rule-check.ts';
import type { IsolationLevel, Scenario } from '../engine/scenario.ts';

/** Version of a corpus entry's format. */
export const CORPUS_SCHEMA_VERSION = 1;

const value = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const operation = z.object({ kind: z.string(), args: z.record(z.string(), value) });
const entrySchema = z.object({
  schemaVersion: z.literal(CORPUS_SCHEMA_VERSION),
  ruleId: z.string(),
  kind: z.enum(['violation', 'over-restrictive']),
  foundAt: z.string(),
  seed: z.number(),
  path: z.string(),
  schema: z.array(z.string()),
  scenario: z.object({
    isolation: z.enum(['read-committed', 'repeatable-read', 'serializable']),
    sessions: z.array(z.array(z.union([z.object({ autocommit: operation }), z.object({ transaction: z.array(operation), end: z.enum(['commit', 'rollback']) })]))),
    schedule: z.array(z.number()),
  }),
});

/** One saved counterexample: a concrete scenario that once broke a rule, replayed on every later run. */
export type CorpusEntry = z.infer<typeof entrySchema>;

/**
 * A folder of counterexamples the team commits (default .pgconform/corpus): one file per failure, under
 * the rule's id, named by a hash of the scenario so the same failure is saved once.
 */
export class Corpus {
  constructor(readonly dir: string) {}

  /** The saved scenarios of a rule at an isolation level; files that do not parse are skipped and named. */
  async load(ruleId: string, isolation: IsolationLevel): Promise<{ scenarios: Scenario[]; skipped: string[] }> {
    const folder = join(this.dir, ruleId);
    if (!existsSync(folder)) return { scenarios: [], skipped: [] };
    const scenarios: Scenario[] = [];
    const skipped: string[] = [];
    for (const name of (await readdir(folder)).filter((n) => n.endsWith('.json')).sort()) {
      const parsed = entrySchema.safeParse(JSON.parse(await readFile(join(folder, name), 'utf8').catch(() => 'null')));
      if (!parsed.success) skipped.push(join(folder, name));
      else if (parsed.data.scenario.isolation === isolation) scenarios.push(parsed.data.scenario as Scenario);
    }
    return { scenarios, skipped };
  }

  /** Saves a confirmed counterexample unless the same scenario is already there; returns the file written. */
  async save(ruleId: string, counterexample: Counterexample, schema: readonly string[]): Promise<string | undefined> {
    if (counterexample.kind === 'error' || !counterexample.replayable) return undefined;
    const id = createHash('sha1').update(JSON.stringify(counterexample.scenario)).digest('hex').slice(0, 12);
    const file = join(this.dir, ruleId, `${counterexample.kind}-${id}.json`);
    if (existsSync(file)) return undefined;
    const entry: CorpusEntry = {
      schemaVersion: CORPUS_SCHEMA_VERSION,
      ruleId,
      kind: counterexample.kind,
      foundAt: new Date().toISOString(),
      seed: counterexample.seed,
      path: counterexample.path,
      schema: [...schema],
      scenario: JSON.parse(JSON.stringify(counterexample.scenario)),
    };
    await mkdir(join(this.dir, ruleId), { recursive: true });
    await writeFile(file, `${JSON.stringify(entry, null, 2)}\n`);
    return file;
  }
}
