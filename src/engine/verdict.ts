import type { Judgement, State } from '../rules/rule.ts';
import type { OffendingRow } from './history.ts';

/** The verdict kinds a rule gets, per isolation level. */
export type VerdictKind = 'pass' | 'violation' | 'over-restrictive' | 'error';

/** What one execution of a scenario showed. */
export type ExecutionVerdict =
  | { readonly kind: 'pass' }
  /** A committed state breaks the rule: the invariant returned rows after event `atEvent`. */
  | { readonly kind: 'violation'; readonly atEvent: number; readonly rows: OffendingRow[] }
  /** The schema rejected an operation the rule allows, with nothing else in flight. */
  | { readonly kind: 'over-restrictive'; readonly atEvent: number; readonly judgement: Judgement; readonly state: State }
  /** The run could not say: a timeout, a dropped connection, an error that is not an integrity error. */
  | { readonly kind: 'error'; readonly message: string; readonly atEvent?: number; readonly infrastructure: boolean };

/** Failure verdicts, most severe first: a committed violation outranks an over-restrictive schema. */
export const SEVERITY: readonly VerdictKind[] = ['error', 'violation', 'over-restrictive', 'pass'];
