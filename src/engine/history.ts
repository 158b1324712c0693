import type { SqlFailure } from '../db/sql-failure.ts';
import type { Value } from '../rules/rule.ts';
import type { GeneratorGap } from './generator-gap.ts';

/** A row the invariant query returned: it may hold nested JSON (keys, id lists). */
export type OffendingRow = Record<string, unknown>;

/** How a step ended. */
export type Outcome =
  | { readonly status: 'ok'; readonly rowCount: number }
  /** The server refused it: an integrity error or trigger (rejected), a 40001/40P01 (aborted), or anything else (error). */
  | { readonly status: 'rejected' | 'aborted' | 'error'; readonly failure: SqlFailure }
  /** Not sent: the transaction had already failed, so it could only roll back. */
  | { readonly status: 'skipped'; readonly reason: string };

/** One step as it happened: who sent what, when it started and ended (logical clock), and what came back. */
export interface HistoryEvent {
  /** Position in the history. */
  readonly index: number;
  /** 0-based session number. */
  readonly session: number;
  readonly kind: 'begin' | 'op' | 'commit' | 'rollback';
  /** How the operation reads, e.g. "insert request#1 (status='PENDING')". */
  readonly label: string;
  readonly sql: string;
  readonly params: readonly Value[];
  /** Logical times: every start and end of a step takes the next tick. */
  readonly startedAt: number;
  endedAt: number;
  outcome: Outcome;
  /** Sessions this step waited for (from pg_blocking_pids), when it blocked. */
  waitedFor?: number[];
  /** Rows the invariant returned after this step committed (present only when it found some). */
  violatingRows?: OffendingRow[];
  /** A rejection not judged: an object that enforces nothing the rule states refused the generated row. */
  gap?: GeneratorGap;
}

/** Everything that happened in one execution of a scenario. */
export type History = HistoryEvent[];

/** One line per event, for the console and replay. */
export function formatEvent(event: HistoryEvent): string {
  const waited = event.waitedFor?.length ? ` [waited for ${event.waitedFor.map((s) => `s${s + 1}`).join(', ')}]` : '';
  return `#${String(event.index + 1).padStart(2)} s${event.session + 1} ${event.label.padEnd(48)} → ${formatOutcome(event)}${waited}`;
}

/** The outcome of a step in a few words: "ok (1 row)", "rejected 23505 uq_x". */
export function formatOutcome(event: HistoryEvent): string {
  const outcome = event.outcome;
  switch (outcome.status) {
    case 'ok':
      return event.kind === 'op' ? `ok (${outcome.rowCount} row${outcome.rowCount === 1 ? '' : 's'})` : 'ok';
    case 'skipped':
      return `skipped (${outcome.reason})`;
    default: {
      const f = outcome.failure;
      const gap = event.gap ? ' (not judged: a generator gap)' : '';
      return `${outcome.status} ${f.code}${f.constraint ? ` ${f.constraint}` : ''}: ${f.message}${gap}`;
    }
  }
}
