/** What went wrong, as the CLI's exit code sees it. */
export type KitErrorKind = 'usage' | 'spec' | 'config' | 'schema' | 'infrastructure';

/** Exit codes of the pgconform CLI. */
export const ExitCode = {
  /** Every rule holds. */
  Pass: 0,
  /** At least one rule failed (violation or over-restrictive). */
  RuleFailed: 1,
  /** Usage, spec, configuration or schema error. */
  BadInput: 2,
  /** Database or infrastructure error. */
  Infrastructure: 3,
} as const;

/** An error the user can act on: what is wrong, where, and how to fix it, in one line. */
export class KitError extends Error {
  readonly kind: KitErrorKind;
  readonly where: string | undefined;
  readonly fix: string | undefined;

  constructor(kind: KitErrorKind, message: string, options: { where?: string; fix?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KitError';
    this.kind = kind;
    this.where = options.where;
    this.fix = options.fix;
  }

  /** The exit code this error maps to. */
  get exitCode(): number {
    return this.kind === 'infrastructure' ? ExitCode.Infrastructure : ExitCode.BadInput;
  }

  /** The single line shown to the user. */
  toLine(): string {
    const where = this.where ? `${this.where}: ` : '';
    const fix = this.fix ? ` (${this.fix})` : '';
    return `pgconform: ${where}${this.message}${fix}`;
  }
}

/** True when `error` is a KitError. Works across module copies, unlike instanceof. */
export function isKitError(error: unknown): error is KitError {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'KitError';
}
