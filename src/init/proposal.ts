import type { PoolBinding, RuleBinding } from '../config/rule-binding.ts';

/** A rule init proposes: a binding that loads as it is, with the comment saying what it was inferred from. */
export interface ProposedRule {
  readonly kind: 'rule';
  readonly binding: RuleBinding;
  /** Lines for people: the catalog objects it was inferred from, and what to review. */
  readonly comment: readonly string[];
}

/**
 * A rule init could only sketch: written commented out, with a placeholder where something must be
 * written by hand (it does not load until that is done), and the reason.
 */
export interface DraftRule {
  readonly kind: 'draft';
  readonly draft: Readonly<Record<string, unknown>>;
  readonly comment: readonly string[];
  /** Why it is not proposed as a working rule. */
  readonly reason: string;
}

/** A draft's reason: each problem once, in the order found (setup rows for four parents report the same column four times). */
export function draftReason(problems: readonly string[]): string {
  return [...new Set(problems)].join('; ');
}

/** Something in the schema init saw and could not turn into a rule (a trigger, an exclusion on ranges …). */
export interface InitNote {
  /** The catalog object(s), e.g. "trigger users_check on users". */
  readonly about: string;
  readonly message: string;
}

/** What init inferred from a catalog. */
export interface InitProposal {
  readonly rules: readonly (ProposedRule | DraftRule)[];
  readonly notes: readonly InitNote[];
}

/**
 * A pool init could not choose, in a draft: it does not load (a pool is an array or an object), so a
 * draft uncommented without being finished stops with a message naming the key.
 */
export const TODO_POOL = 'TODO: a pool of values for this column' as unknown as PoolBinding;

/** Rule ids derived from catalog names: lower-case, dashes, unique within one configuration. */
export class RuleIds {
  private readonly taken = new Set<string>();

  /** An id for this name (an index, a constraint, a trigger), made unique with -2, -3 … */
  allocate(name: string): string {
    const base =
      name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '') || 'rule';
    let id = /^[a-z0-9]/.test(base) ? base : `rule-${base}`;
    for (let n = 2; this.taken.has(id); n++) id = `${base}-${n}`;
    this.taken.add(id);
    return id;
  }
}
