import type pg from 'pg';
import { readCatalog } from '../catalog/catalog.ts';
import { connect, describeSettings, quoteIdent, redactUrl, type ConnectionSettings } from '../db/connection.ts';
import { isServerError, toSqlFailure, type SqlFailure } from '../db/sql-failure.ts';
import { ExitCode, isKitError, KitError } from '../errors/kit-error.ts';
import { invariantText } from '../rules/predicate.ts';
import type { Rule } from '../rules/rule.ts';
import { schemaProblem, type SchemaProblem } from './schema-problem.ts';

/** How an audit reads: how many rows it keeps, how long it may wait, where it looks. */
export interface AuditOptions {
  /** Offending rows kept per rule (the count is always complete); default 10. */
  readonly limit?: number;
  /** Milliseconds one invariant query may run; default 30 000. */
  readonly statementTimeoutMs?: number;
  /** Milliseconds a query may wait for a lock another session holds; default 2 000 (waiting queues writers behind us). */
  readonly lockTimeoutMs?: number;
  /** Schemas the rules' unqualified table names resolve in (default: the role's own search_path). */
  readonly searchPath?: readonly string[];
}

/** The defaults of AuditOptions. */
export const AUDIT_DEFAULTS = { limit: 10, statementTimeoutMs: 30_000, lockTimeoutMs: 2_000 } as const;

/** What every rule's audit says about the rule, whatever its outcome. */
interface RuleAuditBase {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  /** The rule's invariant query, to run again in psql. */
  readonly invariant: string;
  readonly durationMs: number;
}

/** The outcome for one rule: it holds, rows break it, the database lacks what it names, or its query failed. */
export type RuleAudit =
  | (RuleAuditBase & { readonly status: 'holds' })
  | (RuleAuditBase & {
      readonly status: 'violated';
      /** How many rows the invariant returns (every one, not only those kept). */
      readonly offending: number;
      /** The first `limit` of them, column → value as JSON. */
      readonly rows: readonly Record<string, unknown>[];
    })
  | (RuleAuditBase & { readonly status: 'schema-mismatch'; readonly problem: SchemaProblem })
  /** A rule about row changes: data at rest does not show the changes that led to it. */
  | (RuleAuditBase & { readonly status: 'not-applicable'; readonly reason: string })
  | (RuleAuditBase & { readonly status: 'error'; readonly failure: Pick<SqlFailure, 'code' | 'message'>; readonly fix: string });

/** The result of auditing a database: one snapshot, every rule's outcome. */
export interface AuditResult {
  /** The database audited, without the password. */
  readonly database: string;
  readonly user: string;
  /** server_version, e.g. "17.2". */
  readonly serverVersion: string;
  /** The effective search path the rules' names resolved in. */
  readonly searchPath: readonly string[];
  readonly startedAt: string;
  readonly durationMs: number;
  readonly options: { readonly limit: number; readonly statementTimeoutMs: number; readonly lockTimeoutMs: number };
  readonly rules: readonly RuleAudit[];
}

/**
 * Runs every rule's invariant against the data a database already holds and returns the rows that
 * break each rule. Strictly read-only: one connection, one REPEATABLE READ READ ONLY transaction
 * (every rule sees the same snapshot), a statement and a lock timeout, nothing created, ROLLBACK at
 * the end; a role with SELECT on the tables and USAGE on their schema is enough.
 */
export async function auditDatabase(settings: ConnectionSettings, rules: readonly Rule[], options: AuditOptions = {}): Promise<AuditResult> {
  const limit = options.limit ?? AUDIT_DEFAULTS.limit;
  const statementTimeoutMs = options.statementTimeoutMs ?? AUDIT_DEFAULTS.statementTimeoutMs;
  const lockTimeoutMs = options.lockTimeoutMs ?? AUDIT_DEFAULTS.lockTimeoutMs;
  const startedAt = new Date();
  const started = performance.now();
  const client = await connect(settings, { applicationName: 'pgconform-audit', statementTimeoutMs });
  let phase = 'starting its transaction';
  try {
    // Belt and braces: the session refuses writes too, should anything run outside the transaction.
    await client.query('SET default_transaction_read_only = on');
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)`, [
      `${statementTimeoutMs}ms`,
      `${lockTimeoutMs}ms`,
    ]);
    if (options.searchPath) await client.query(`SELECT set_config('search_path', $1, true)`, [options.searchPath.map(quoteIdent).join(', ')]);
    const facts = await client.query<{ version: string; user: string; schemas: string[] }>(
      `SELECT split_part(current_setting('server_version'), ' ', 1) AS version, current_user AS user, current_schemas(false)::text[] AS schemas`,
    );
    const { version, user, schemas } = facts.rows[0]!;
    phase = 'reading the catalog';
    const catalog = await readCatalog(client);
    phase = 'auditing the rules';
    const audits: RuleAudit[] = [];
    for (const rule of rules) {
      if (rule.transitions?.length) {
        audits.push({ ...base(rule, 0), status: 'not-applicable', reason: 'it judges row changes, which the data at rest does not show (check it with pgconform run)' });
        continue;
      }
      const problem = schemaProblem(rule, catalog, schemas);
      audits.push(problem ? { ...base(rule, 0), status: 'schema-mismatch', problem } : await auditRule(client, rule, limit, { statementTimeoutMs, lockTimeoutMs }));
    }
    return {
      database: describeSettings(settings),
      user,
      serverVersion: version,
      searchPath: schemas,
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(performance.now() - started),
      options: { limit, statementTimeoutMs, lockTimeoutMs },
      rules: audits,
    };
  } catch (error) {
    throw asInfrastructureError(settings, phase, error);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** The exit code of an audit: 3 when a query failed, 2 when a rule does not match the schema, 1 when rows break a rule, else 0. */
export function auditExitCode(result: AuditResult): number {
  const statuses = result.rules.map((rule) => rule.status);
  if (statuses.includes('error')) return ExitCode.Infrastructure;
  if (statuses.includes('schema-mismatch')) return ExitCode.BadInput;
  if (statuses.includes('violated')) return ExitCode.RuleFailed;
  return ExitCode.Pass;
}

/** The invariant wrapped so that one execution returns the total and the first rows. */
function offendingRowsSql(invariant: string, limitParameter: number): string {
  // `offending.*` is the whole row even when the invariant has a column named offending; a newline
  // before the closing parenthesis, as the invariant may end in a -- comment.
  return `SELECT count(*) OVER () AS total, to_json(offending.*) AS row FROM (\n${invariant.trim().replace(/;+\s*$/, '')}\n) AS offending LIMIT $${limitParameter}`;
}

const SAVEPOINT = 'pgconform_audit_rule';

/** Undefined table, column, function, type or schema: the invariant names what the database lacks. */
const SCHEMA_CODES = new Set(['42P01', '42703', '42883', '42704', '3F000']);

/** One rule's invariant, inside a savepoint so that a failed query (a timeout) leaves the other rules their turn. */
async function auditRule(
  client: pg.Client,
  rule: Rule,
  limit: number,
  timeouts: { statementTimeoutMs: number; lockTimeoutMs: number },
): Promise<RuleAudit> {
  const started = performance.now();
  await client.query(`SAVEPOINT ${SAVEPOINT}`);
  try {
    // One row more than none, so that --limit 0 still learns the count.
    const { rows } = await client.query<{ total: string; row: Record<string, unknown> }>(offendingRowsSql(rule.invariant, (rule.invariantValues?.length ?? 0) + 1), [...(rule.invariantValues ?? []), Math.max(limit, 1)]);
    await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    const offending = Number(rows[0]?.total ?? 0);
    const head = base(rule, performance.now() - started);
    return offending === 0 ? { ...head, status: 'holds' } : { ...head, status: 'violated', offending, rows: rows.slice(0, limit).map((r) => r.row) };
  } catch (error) {
    if (!isServerError(error)) throw error;
    await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    const failure = toSqlFailure(error);
    const head = base(rule, performance.now() - started);
    if (SCHEMA_CODES.has(failure.code)) {
      const fix = "the rule's invariant names something this database lacks; bind the rule to your tables and columns, or pass --search-path";
      return { ...head, status: 'schema-mismatch', problem: { key: 'invariant', table: rule.tables.join(', '), message: `the invariant does not run: ${failure.message}`, fix } };
    }
    return { ...head, status: 'error', failure: { code: failure.code, message: failure.message }, fix: fixFor(failure.code, rule, timeouts) };
  }
}

function base(rule: Rule, durationMs: number): RuleAuditBase {
  return { id: rule.id, title: rule.title, source: rule.source, invariant: invariantText(rule), durationMs: Math.round(durationMs) };
}

function fixFor(code: string, rule: Rule, timeouts: { statementTimeoutMs: number; lockTimeoutMs: number }): string {
  switch (code) {
    case '57014':
      return `the invariant ran longer than the statement timeout (${timeouts.statementTimeoutMs} ms): raise --statement-timeout, or audit at a quieter time`;
    case '55P03':
      return `another session held a lock on ${rule.tables.join(', ')} longer than the lock timeout (${timeouts.lockTimeoutMs} ms): retry later, or raise --lock-timeout`;
    case '42501':
      return `grant the role SELECT on ${rule.tables.join(', ')} and USAGE on their schema`;
    case '25006':
      return 'the invariant tried to write; an audit only reads: fix the rule so that its invariant is a query';
    default:
      return 'run the invariant in psql to see why it fails';
  }
}

/** Anything that escapes the per-rule handling is the database's or the connection's fault: one line, exit 3. */
function asInfrastructureError(settings: ConnectionSettings, phase: string, error: unknown): KitError {
  if (isKitError(error)) return error;
  const where = describeSettings(settings);
  if (isServerError(error)) {
    const failure = toSqlFailure(error);
    const fix =
      failure.code === '55P03'
        ? 'another session holds a lock on a table (a migration?): retry later, or raise --lock-timeout'
        : failure.code === '57014'
          ? 'raise --statement-timeout, or audit at a quieter time'
          : 'check the server and the role';
    return new KitError('infrastructure', `the audit failed while ${phase}: ${redactUrl(failure.message)} (SQLSTATE ${failure.code})`, { where, fix, cause: error });
  }
  const message = redactUrl(error instanceof Error ? error.message : String(error));
  return new KitError('infrastructure', `lost the connection while ${phase}: ${message}`, { where, fix: 'check that the server is running and reachable', cause: error });
}
