/** The facts PostgreSQL sends with an error, as node-postgres' DatabaseError carries them. */
export interface SqlFailure {
  /** SQLSTATE, e.g. 23505. */
  code: string;
  message: string;
  severity?: string;
  constraint?: string;
  table?: string;
  column?: string;
  schema?: string;
  detail?: string;
  hint?: string;
  /** Call stack inside the server, e.g. "PL/pgSQL function f() line 4 at RAISE". */
  where?: string;
  /** 1-based character offset of the error in the statement. */
  position?: number;
}

const FIELDS = ['severity', 'constraint', 'table', 'column', 'schema', 'detail', 'hint', 'where'] as const;

/** True when `error` came from the server (it carries a SQLSTATE). */
export function isServerError(error: unknown): error is Error & { code: string } {
  return (
    error instanceof Error &&
    typeof (error as { code?: unknown }).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((error as unknown as { code: string }).code)
  );
}

/** Copies the server's error fields into a plain, serialisable value. */
export function toSqlFailure(error: Error & { code: string }): SqlFailure {
  const source = error as unknown as Record<string, unknown>;
  const failure: SqlFailure = { code: error.code, message: error.message };
  for (const field of FIELDS) {
    const value = source[field];
    if (typeof value === 'string' && value !== '') failure[field] = value;
  }
  const position = Number(source.position);
  if (Number.isFinite(position) && position > 0) failure.position = position;
  return failure;
}

/** Class 23 (integrity constraint violation): unique, exclusion, check, foreign key, not null. */
export function isIntegrityViolation(failure: SqlFailure): boolean {
  return failure.code.startsWith('23');
}

/**
 * SQLSTATE classes the server raises on its own, whatever code is running: connection (08), invalid
 * transaction state (25), rollback (40), syntax or access (42), resources (53, 54), object state (55),
 * operator intervention such as a statement timeout (57), system (58), PL/pgSQL internals (P0002-P0004), internal (XX).
 */
const SYSTEM_CODES = /^(08|25|40|42|53|54|55|57|58|F0|HV|XX)|^P000[2-4]$/;

/** Raised by a trigger or function: P0001 (RAISE EXCEPTION), or any code a trigger chose to raise. */
export function isRaisedByTrigger(failure: SqlFailure): boolean {
  if (failure.code === 'P0001') return true;
  return /PL\/pgSQL function/.test(failure.where ?? '') && !SYSTEM_CODES.test(failure.code);
}

/** A rejection that counts as the schema enforcing a rule (RULES.md). */
export function isRuleRejection(failure: SqlFailure): boolean {
  return isIntegrityViolation(failure) || isRaisedByTrigger(failure);
}

/** Serialization failure or deadlock: the server's correct answer to a conflicting interleaving. */
export function isConcurrencyAbort(failure: SqlFailure): boolean {
  return failure.code === '40001' || failure.code === '40P01';
}
