import fc from 'fast-check';
import type { Rule } from '../rules/rule.ts';
import { TABLE_NAME } from '../catalog/definition-text.ts';
import { unquote } from './function-body.ts';

/** What a rule's operation vocabulary writes: the ways the rule can be broken. Tables by the names its SQL uses, unquoted. */
export interface RuleWrites {
  readonly inserts: ReadonlySet<string>;
  /** Table → the columns its UPDATEs set. */
  readonly updates: ReadonlyMap<string, ReadonlySet<string>>;
  readonly deletes: ReadonlySet<string>;
}

/** Enough draws to meet every operation kind and every mutable column of the built-in templates many times over. */
const SAMPLES = 400;


/**
 * Samples the rule's operation generator (fixed seed, so the answer is stable) and reads the SQL it
 * renders: which tables it inserts into, updates (and which columns), and deletes from.
 */
export function ruleWrites(rule: Rule): RuleWrites {
  const inserts = new Set<string>();
  const updates = new Map<string, Set<string>>();
  const deletes = new Set<string>();
  for (const op of fc.sample(rule.operation, { numRuns: SAMPLES, seed: 1 })) {
    const text = rule.sql(op).text;
    const insert = new RegExp(String.raw`^\s*INSERT\s+INTO\s+${TABLE_NAME}`, 'i').exec(text);
    const update = new RegExp(String.raw`^\s*UPDATE\s+${TABLE_NAME}\s+SET\s+([\s\S]*?)(?:\s+WHERE\b|$)`, 'i').exec(text);
    const remove = new RegExp(String.raw`^\s*DELETE\s+FROM\s+${TABLE_NAME}`, 'i').exec(text);
    if (insert) inserts.add(unquote(insert[1]!));
    if (remove) deletes.add(unquote(remove[1]!));
    if (update) {
      const table = unquote(update[1]!);
      const columns = updates.get(table) ?? new Set<string>();
      for (const m of update[2]!.matchAll(/("(?:[^"]|"")+"|[\w$]+)\s*=/g)) columns.add(unquote(m[1]!));
      updates.set(table, columns);
    }
  }
  return { inserts, updates, deletes };
}
