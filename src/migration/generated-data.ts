import fc from 'fast-check';
import { connect, type ConnectionSettings } from '../db/connection.ts';
import { isServerError } from '../db/sql-failure.ts';
import { ScenarioExecutor } from '../engine/executor.ts';
import { KitError } from '../errors/kit-error.ts';
import type { Rule } from '../rules/rule.ts';

/** How a database was filled. */
export interface GeneratedData {
  /** Operations the schema accepted, and refused. */
  readonly applied: number;
  readonly refused: number;
  /** Rows the rule's invariant returned once the filling stopped (groups of rows that break the rule). */
  readonly violations: number;
}

/** Options of the filling. */
export interface FillOptions {
  readonly seed: number;
  /** Operations applied at least, before the filling may stop (default 30). */
  readonly minOps?: number;
  /** Operations applied at most (default 400). */
  readonly maxOps?: number;
}

/**
 * Fills a database the way an application would have: the rule's generated operations, one autocommit
 * statement at a time, refusals ignored. The filling stops as soon as the committed rows break the rule
 * (after `minOps`), so that a migration meets what seeds 000 and 001 met in production: rows the new
 * constraint forbids. A schema that already enforces the rule never lets such rows in; the result says so.
 */
export async function fillWithGeneratedData(rule: Rule, settings: ConnectionSettings, options: FillOptions): Promise<GeneratedData> {
  const minOps = options.minOps ?? 30;
  const maxOps = options.maxOps ?? 400;
  const executor = await ScenarioExecutor.open(rule, settings, { maxSessions: 1 });
  const client = await connect(settings, { applicationName: 'pgconform-fill' });
  try {
    await executor.reset().catch((error: unknown) => {
      // The rule's setup rows do not go in: the schema's tables lack the rule's columns.
      if (isServerError(error)) throw new KitError('schema', `the schema does not fit rule ${rule.id}: ${error.message}`, { cause: error });
      throw error;
    });
    let applied = 0;
    let refused = 0;
    let violations = 0;
    for (const op of fc.sample(rule.operation, { numRuns: maxOps, seed: options.seed })) {
      const statement = rule.sql(op);
      try {
        await client.query({ text: statement.text, values: [...statement.values] });
        applied++;
      } catch (error) {
        if (!isServerError(error)) throw error;
        if (error.code.startsWith('42')) throw new KitError('schema', `the schema does not fit rule ${rule.id}: ${error.message}`, { cause: error });
        refused++;
      }
      if (applied + refused < minOps) continue;
      violations = (await executor.violations()).length;
      if (violations > 0) break;
    }
    return { applied, refused, violations };
  } finally {
    await client.end().catch(() => undefined);
    await executor.close();
  }
}
