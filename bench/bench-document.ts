import { writeFile } from 'node:fs/promises';
import { z } from 'zod';

// Every file the benchmark writes (bench.json and its partial runs: bench-scale, bench-startup, bench-races,
// bench-throughput, bench-false-positives) carries a schema version and is validated here before it is written.

/** The version of the benchmark files' shape. */
export const BENCH_SCHEMA_VERSION = 1;

/** The zod schema of a benchmark file: the version, when and where it ran, and its sections. */
export const benchDocumentSchema = z.looseObject({
  schemaVersion: z.literal(BENCH_SCHEMA_VERSION),
  date: z.string(),
  server: z.number().int().optional(),
  cores: z.number().int().optional(),
  reset: z.record(z.string(), z.unknown()).optional(),
  perRule: z.record(z.string(), z.unknown()).optional(),
  startup: z.record(z.string(), z.unknown()).optional(),
  races: z.looseObject({ date: z.string(), rows: z.array(z.looseObject({ rule: z.string(), fixture: z.string(), seeds: z.number().int(), misses: z.number().int() })) }).optional(),
  rows: z.array(z.looseObject({ rule: z.string(), fixture: z.string(), seeds: z.number().int() })).optional(),
});

/** Writes a benchmark file, versioned and validated. */
export async function writeBenchDocument(file: string, figures: Record<string, unknown>): Promise<void> {
  const document = benchDocumentSchema.parse({ date: new Date().toISOString(), ...figures, schemaVersion: BENCH_SCHEMA_VERSION });
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
}
