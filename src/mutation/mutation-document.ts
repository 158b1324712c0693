import { z } from 'zod';
import { MUTANT_KINDS } from './derive-mutants.ts';
import type { MutationResult } from './mutation-run.ts';

// mutate.json: what `pgconform mutate` found, versioned and validated here before it is written or printed.

/**
 * The version of mutate.json's shape; it changes when a field changes meaning or goes.
 * 2: options.isolation is a list and each rule names its level (a rule checked at several levels appears once
 * per level); a mutant of an object that does not enforce the rule is "not-run" (listed with why, never checked).
 */
export const MUTATION_SCHEMA_VERSION = 2;

const verdict = z.enum(['pass', 'violation', 'over-restrictive', 'error']);
const survivor = z.strictObject({
  kind: z.enum(['weak-spec', 'unjudged-change', 'no-change']),
  explanation: z.string(),
  diff: z.string(),
  scenarios: z.number().int().min(0),
  changedScenarios: z.number().int().min(0),
  example: z.array(z.string()).optional(),
});
const mutant = z.strictObject({
  name: z.string(),
  kind: z.enum(MUTANT_KINDS),
  sql: z.string(),
  status: z.enum(['killed', 'survived', 'not-applicable', 'not-run']),
  verdict: z.enum(['violation', 'over-restrictive']).optional(),
  counterexampleSteps: z.number().int().optional(),
  reason: z.string().optional(),
  survivor: survivor.optional(),
  apart: z.string().optional(),
  durationMs: z.number().int().min(0),
});

/** The zod schema of mutate.json. */
export const mutationDocumentSchema = z.strictObject({
  schemaVersion: z.literal(MUTATION_SCHEMA_VERSION),
  tool: z.strictObject({ name: z.literal('pgconform'), version: z.string() }),
  startedAt: z.string(),
  durationMs: z.number().int().min(0),
  server: z.strictObject({ provider: z.string(), version: z.number().int() }),
  options: z.strictObject({ seed: z.number().int(), runs: z.number().int(), isolation: z.array(z.string()).min(1), maxSessions: z.number().int() }),
  rules: z.array(
    z.strictObject({
      ruleId: z.string(),
      title: z.string(),
      specFile: z.string(),
      schema: z.array(z.string()),
      isolation: z.string(),
      baseline: z.strictObject({ verdict, counterexampleSteps: z.number().int().optional(), notes: z.array(z.string()) }),
      mutants: z.array(mutant),
      killed: z.number().int().min(0),
      survived: z.number().int().min(0),
      notApplicable: z.number().int().min(0),
      score: z.number().min(0).max(1).nullable(),
      unscored: z.number().int().min(0),
      weakSpec: z.number().int().min(0),
      durationMs: z.number().int().min(0),
    }),
  ),
  skipped: z.array(z.strictObject({ ruleId: z.string(), kind: z.enum(['no-tables', 'misfit']), reason: z.string() })),
});

/** mutate.json as a value. */
export type MutationDocument = z.infer<typeof mutationDocumentSchema>;

/** The mutate.json of a mutation run, validated. */
export function mutationDocument(result: MutationResult, version: string): MutationDocument {
  return mutationDocumentSchema.parse({ schemaVersion: MUTATION_SCHEMA_VERSION, tool: { name: 'pgconform', version }, ...JSON.parse(JSON.stringify(result)) });
}
