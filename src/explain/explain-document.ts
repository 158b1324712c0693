import { z } from 'zod';
import type { Explanation } from './explanation.ts';

// explain.json: the enforcement map of each rule and what the confirming run made of it, versioned and
// validated here before it is written or printed. The counterexample's history keeps the shape report.json
// gives it (see report-document.ts), so it is checked there, not here.

/** The version of explain.json; bumped when a field changes meaning. */
export const EXPLAIN_SCHEMA_VERSION = 1;

const mappedObject = z.strictObject({
  kind: z.enum(['primary key', 'unique constraint', 'unique index', 'exclusion constraint', 'index', 'check constraint', 'foreign key', 'not null', 'trigger']),
  name: z.string(),
  table: z.string(),
  role: z.string(),
  definition: z.string(),
  enforces: z.boolean(),
  function: z.strictObject({ name: z.string(), definition: z.string() }).optional(),
});
const fragility = z.strictObject({ kind: z.string(), severity: z.enum(['warning', 'note']), object: z.string().optional(), summary: z.string(), reason: z.string(), columns: z.array(z.string()).optional() });
const confirmation = z.strictObject({
  status: z.enum(['confirmed', 'refuted', 'held', 'broken', 'error']),
  verdict: z.enum(['pass', 'violation', 'over-restrictive', 'error']),
  statement: z.string(),
  runs: z.number().int().min(0),
  durationMs: z.number().min(0),
  counterexample: z
    .looseObject({ kind: z.enum(['violation', 'over-restrictive']), steps: z.number().int(), sessions: z.number().int(), seed: z.number().int(), path: z.string(), history: z.array(z.unknown()) })
    .optional(),
});

/** The zod schema of explain.json. */
export const explainDocumentSchema = z.strictObject({
  schemaVersion: z.literal(EXPLAIN_SCHEMA_VERSION),
  tool: z.strictObject({ name: z.literal('pgconform'), version: z.string() }),
  server: z.strictObject({ provider: z.string(), version: z.number().int() }),
  run: z.strictObject({ seed: z.number().int(), runs: z.number().int() }).optional(),
  rules: z.array(
    z.strictObject({
      id: z.string(),
      title: z.string(),
      source: z.string(),
      schema: z.array(z.string()),
      map: z.strictObject({ ruleId: z.string(), tables: z.array(z.string()), objects: z.array(mappedObject), fragilities: z.array(fragility) }),
      confirmation: confirmation.optional(),
    }),
  ),
  error: z.string().optional(),
});

/** explain.json as a value. */
export type ExplainDocument = z.infer<typeof explainDocumentSchema>;

/** The explain.json of an explanation, validated. */
export function explainDocument(explanation: Explanation, version: string): ExplainDocument {
  return explainDocumentSchema.parse({ schemaVersion: EXPLAIN_SCHEMA_VERSION, tool: { name: 'pgconform', version }, ...JSON.parse(JSON.stringify(explanation)) });
}
