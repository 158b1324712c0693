import type { CatalogConstraint, CatalogTrigger } from '../catalog/catalog.ts';
import type { BodyAnalysis } from './function-body.ts';
import type { RuleWrites } from './rule-writes.ts';

/** Why an enforcement can fail by construction, before any run. */
export type FragilityKind = 'unlocked-read' | 'no-update' | 'unwatched-update' | 'disabled' | 'unenforced' | 'shared-lock-only' | 'deferrable';

/** A weakness read from the schema: a warning says the rule can break; a note only says how it is enforced. */
export interface Fragility {
  readonly kind: FragilityKind;
  readonly severity: 'warning' | 'note';
  /** The object it belongs to; absent for the rule as a whole. */
  readonly object?: string;
  /** A few words, for the verdict line: "reads other rows without a lock". */
  readonly summary: string;
  /** One sentence: what is wrong and why it matters. */
  readonly reason: string;
  /** The columns it is about, as table.column (an UPDATE nothing reacts to): a run exercises it only by writing one of them. */
  readonly columns?: readonly string[];
}

/** The fragilities of a trigger that enforces a rule, from its definition and what its function does (`writes` by catalog table names). */
export function triggerFragilities(trigger: CatalogTrigger, analysis: BodyAnalysis, writes: RuleWrites, deferrable: boolean): Fragility[] {
  const table = trigger.table;
  const found: Fragility[] = [];
  const warn = (kind: FragilityKind, summary: string, reason: string) => found.push({ kind, severity: 'warning', object: trigger.name, summary, reason });
  if (!trigger.enabled) warn('disabled', 'is disabled', 'is disabled: it never fires');
  if (analysis.unlockedReads.length > 0) {
    const first = analysis.unlockedReads[0]!;
    const tables = [...new Set(analysis.unlockedReads.map((read) => read.table))].join(', ');
    const consequence = analysis.raises || analysis.returnsNull
      ? 'two transactions can both pass the check'
      : 'a concurrent transaction can change those rows between the read and the commit';
    warn('unlocked-read', 'reads other rows without a lock', `reads other rows (${tables}) without a lock (${first.statement}): ${consequence}`);
  } else if (analysis.locks.length > 0 && analysis.locks.every((lock) => lock.shared) && analysis.events.some((e) => e.kind === 'read')) {
    found.push({
      kind: 'shared-lock-only',
      severity: 'note',
      object: trigger.name,
      summary: 'locks only in shared mode',
      reason: `locks only in shared mode (${[...new Set(analysis.locks.map((l) => l.how))].join(', ')}): it keeps the rows it read from changing, but two transactions can hold it at once, so two writers are not serialised`,
    });
  }
  const updated = writes.updates.get(table);
  if (updated && updated.size > 0 && trigger.events.includes('INSERT') && !trigger.events.includes('UPDATE')) {
    warn('no-update', 'does not fire on UPDATE', `does not fire on UPDATE: the rule's updates of ${table} (${[...updated].join(', ')}) are never checked`);
  }
  const updateOf = updateOfColumns(trigger);
  if (updated && updateOf && trigger.events.includes('UPDATE')) {
    const unchecked = [...updated].filter((column) => !updateOf.includes(column));
    if (unchecked.length > 0) warn('no-update', `fires only on UPDATE OF ${updateOf.join(', ')}`, `fires only on UPDATE OF ${updateOf.join(', ')}: the rule's updates of ${unchecked.join(', ')} are never checked`);
  }
  if (deferrable) found.push({ kind: 'deferrable', severity: 'note', object: trigger.name, summary: 'is deferrable', reason: 'is deferrable: it may run at COMMIT, so the error arrives there rather than at the statement' });
  return found;
}

/** The note for a deferrable constraint. */
export function constraintFragilities(constraint: CatalogConstraint): Fragility[] {
  if (!constraint.deferrable || constraint.type === 't') return [];
  return [
    {
      kind: 'deferrable',
      severity: 'note',
      object: constraint.name,
      summary: 'is deferrable',
      reason: `is deferrable${constraint.deferred ? ' and initially deferred' : ''}: when deferred it is checked at COMMIT, so the error arrives there rather than at the statement`,
    },
  ];
}

/** The warning for a rule nothing in the schema enforces. */
export function unenforced(rowRule: boolean): Fragility {
  return {
    kind: 'unenforced',
    severity: 'warning',
    summary: 'nothing in the database enforces it',
    reason: rowRule
      ? "nothing in the database enforces it: no CHECK constraint, NOT NULL or trigger on its tables touches the rule's columns"
      : "nothing in the database enforces it: no unique index, exclusion constraint, foreign key or trigger on its tables touches the rule's columns",
  };
}

/** The warning for columns the rule updates that no enforcing object reacts to. */
export function unwatchedUpdate(table: string, columns: readonly string[]): Fragility {
  const names = columns.map((column) => `${table}.${column}`).join(', ');
  return {
    kind: 'unwatched-update',
    severity: 'warning',
    columns: columns.map((column) => `${table}.${column}`),
    summary: `nothing reacts to UPDATEs of ${names}`,
    reason: `nothing reacts to UPDATEs of ${names}: no constraint covers ${columns.length === 1 ? 'that column' : 'those columns'} and no enforcing trigger fires on ${columns.length === 1 ? 'its' : 'their'} update, so an UPDATE can break the rule unchecked unless another constraint already rules out the state it leads to`,
  };
}

/** The columns of `UPDATE OF a, b` in a trigger definition, or undefined when it fires on any column. */
export function updateOfColumns(trigger: CatalogTrigger): string[] | undefined {
  const match = /\bUPDATE OF (.+?) ON\b/.exec(trigger.definition);
  return match ? match[1]!.split(',').map((column) => column.trim().replace(/^"|"$/g, '')) : undefined;
}
