import { z } from 'zod';
import { auditExitCode, type AuditResult } from './audit.ts';

/** Version of audit.json's format; bumped on any incompatible change. */
export const AUDIT_SCHEMA_VERSION = 2;

const ruleBase = {
  id: z.string(),
  title: z.string(),
  source: z.string(),
  invariant: z.string(),
  durationMs: z.number(),
};
const problem = z.object({
  key: z.string(),
  table: z.string(),
  column: z.string().optional(),
  message: z.string(),
  fix: z.string(),
});

/** The zod schema of audit.json (and of `pgconform audit --json`): what a consumer may rely on. */
export const auditDocumentSchema = z.object({
  schemaVersion: z.literal(AUDIT_SCHEMA_VERSION),
  kind: z.literal('audit'),
  tool: z.object({ name: z.literal('pgconform'), version: z.string() }),
  startedAt: z.string(),
  durationMs: z.number(),
  exitCode: z.number().int().min(0).max(3),
  database: z.string(),
  user: z.string(),
  serverVersion: z.string(),
  searchPath: z.array(z.string()),
  options: z.object({ limit: z.number().int(), statementTimeoutMs: z.number(), lockTimeoutMs: z.number() }),
  summary: z.object({
    rules: z.number(),
    holds: z.number(),
    violated: z.number(),
    schemaMismatch: z.number(),
    error: z.number(),
    offendingRows: z.number(),
  }),
  rules: z.array(
    z.discriminatedUnion('status', [
      z.object({ ...ruleBase, status: z.literal('holds') }),
      z.object({ ...ruleBase, status: z.literal('violated'), offending: z.number().int().positive(), rows: z.array(z.record(z.string(), z.unknown())) }),
      z.object({ ...ruleBase, status: z.literal('schema-mismatch'), problem }),
      z.object({ ...ruleBase, status: z.literal('not-applicable'), reason: z.string() }),
      z.object({ ...ruleBase, status: z.literal('error'), failure: z.object({ code: z.string(), message: z.string() }), fix: z.string() }),
    ]),
  ),
});

/** audit.json, as written. */
export type AuditDocument = z.infer<typeof auditDocumentSchema>;

/** The versioned document of an audit, checked against its schema. */
export function toAuditDocument(result: AuditResult, options: { version: string }): AuditDocument {
  const count = (status: string) => result.rules.filter((rule) => rule.status === status).length;
  return auditDocumentSchema.parse({
    schemaVersion: AUDIT_SCHEMA_VERSION,
    kind: 'audit',
    tool: { name: 'pgconform', version: options.version },
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    exitCode: auditExitCode(result),
    database: result.database,
    user: result.user,
    serverVersion: result.serverVersion,
    searchPath: result.searchPath,
    options: result.options,
    summary: {
      rules: result.rules.length,
      holds: count('holds'),
      violated: count('violated'),
      schemaMismatch: count('schema-mismatch'),
      error: count('error'),
      offendingRows: result.rules.reduce((sum, rule) => sum + (rule.status === 'violated' ? rule.offending : 0), 0),
    },
    rules: result.rules,
  });
}
