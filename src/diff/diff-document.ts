import { z } from 'zod';
import type { MigrationCheck } from '../migration/migration-check.ts';
import type { SchemaDiff } from './diff-schemas.ts';

// diff.json: what `pgconform diff` found, versioned and validated here before it is written or printed,
// so that a CI job can read it (the verdict, each rule's change and why it is a regression).

/** The version of diff.json's shape; it changes when a field changes meaning or goes. */
export const DIFF_SCHEMA_VERSION = 1;

const change = z.strictObject({
  direction: z.enum(['newly-accepted', 'newly-rejected']),
  judged: z.enum(['allowed', 'breaks', 'unjudged']),
  scenarios: z.number().int().min(0),
  description: z.string(),
});

/** The zod schema of diff.json. */
export const diffDocumentSchema = z.strictObject({
  schemaVersion: z.literal(DIFF_SCHEMA_VERSION),
  tool: z.strictObject({ name: z.literal('pgconform'), version: z.string() }),
  /** regression: a rule now fails or an allowed operation is now rejected (exit 1); unsafe-migration likewise; nothing-compared: exit 2. */
  verdict: z.enum(['no-regression', 'regression', 'unsafe-migration', 'nothing-compared']),
  seed: z.number().int(),
  runs: z.number().int().min(1),
  isolation: z.array(z.string()).min(1),
  before: z.array(z.string()),
  after: z.array(z.string()).optional(),
  rules: z.array(
    z.strictObject({
      ruleId: z.string(),
      title: z.string(),
      isolation: z.string(),
      verdicts: z.strictObject({ before: z.string(), after: z.string() }).optional(),
      summary: z.string(),
      regressions: z.array(z.string()),
      changes: z.array(change),
    }),
  ),
  skipped: z.array(z.strictObject({ ruleId: z.string(), kind: z.enum(['no-tables', 'misfit']), reason: z.string() })),
  migrations: z.array(z.strictObject({ ruleId: z.string(), migration: z.string(), summary: z.string(), problems: z.array(z.string()) })),
});

/** diff.json as a value. */
export type DiffDocument = z.infer<typeof diffDocumentSchema>;

/** The diff.json of a diff run, validated. */
export function diffDocument(input: {
  version: string;
  seed: number;
  runs: number;
  isolation: readonly string[];
  before: readonly string[];
  after?: readonly string[];
  diffs: readonly SchemaDiff[];
  migrations: readonly MigrationCheck[];
}): DiffDocument {
  const rules = input.diffs.flatMap((diff) => diff.rules);
  const regression = rules.some((rule) => rule.regressions.length > 0);
  const unsafe = input.migrations.some((check) => check.problems.length > 0);
  return diffDocumentSchema.parse({
    schemaVersion: DIFF_SCHEMA_VERSION,
    tool: { name: 'pgconform', version: input.version },
    verdict: regression ? 'regression' : unsafe ? 'unsafe-migration' : rules.length + input.migrations.length === 0 ? 'nothing-compared' : 'no-regression',
    seed: input.seed,
    runs: input.runs,
    isolation: [...input.isolation],
    before: [...input.before],
    ...(input.after ? { after: [...input.after] } : {}),
    rules: rules.map((rule) => ({
      ruleId: rule.ruleId,
      title: rule.title,
      isolation: rule.isolation,
      ...(rule.verdicts ? { verdicts: { before: rule.verdicts.before.verdict, after: rule.verdicts.after.verdict } } : {}),
      summary: rule.summary,
      regressions: [...rule.regressions],
      changes: rule.changes.map((c) => ({ direction: c.direction, judged: c.judged, scenarios: c.scenarios, description: c.description })),
    })),
    skipped: input.diffs[0]?.skipped.map((s) => ({ ruleId: s.ruleId, kind: s.kind, reason: s.reason })) ?? [],
    migrations: input.migrations.map((check) => ({ ruleId: check.ruleId, migration: check.migration, summary: check.summary, problems: [...check.problems] })),
  });
}
