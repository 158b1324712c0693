import fc from 'fast-check';
import type pg from 'pg';
import type { Catalog } from '../catalog/catalog.ts';
import { bindRule, ruleBindingSchema, type RuleBinding } from '../config/rule-binding.ts';
import { isServerError, toSqlFailure, type SqlFailure } from '../db/sql-failure.ts';
import type { Value } from '../rules/rule.ts';
import type { InitProposal } from './proposal.ts';

// Where init builds the schema in a sandbox, the server is the last judge of what init wrote: each
// proposed rule's setup is run, then a sample of its operations, in a transaction that is rolled back.
// A setup the schema rejects, or an operation rejected by a constraint the rule does not judge (a
// CHECK of a scoped-unique rule, a foreign key of a row-predicate rule), makes the rule a draft whose
// reason names the constraint: init never proposes a rule whose run would blame the schema for init.

/** Operations sampled per rule. */
const SAMPLE = 40;

/**
 * SQLSTATEs of rejections that are never the template's business, per template: a foreign key, a CHECK, a
 * NOT NULL or a value of the wrong type or length. Unique keys are left to the run (a second row may
 * rightly be refused); a trigger's rules (at-most-one-child) are the rule itself.
 */
const GAPS: Readonly<Record<RuleBinding['template'], readonly string[]>> = {
  'scoped-unique': ['23503', '23514', '23502'],
  'row-predicate': ['23503'],
  'child-requires-parent': ['23514', '23502'],
  'at-most-one-child': [],
  // A rule written in SQL says what it demands in its own words: only a wrong type is never its business.
  sql: ['22P02'],
};

/** Why the server refused what init wrote for each rule id of a catalog, found by trySetups. */
const refused = new WeakMap<Catalog, ReadonlyMap<string, string>>();

/** Why the server refused the setup or generated rows of this rule (by id), if it did. */
export function setupRefusal(catalog: Catalog, ruleId: string): string | undefined {
  return refused.get(catalog)?.get(ruleId);
}

/**
 * Tries every rule of the proposal on the schema the client is connected to (a sandbox: it writes, in
 * transactions rolled back), and remembers for the catalog which ones the server refused and why.
 */
export async function trySetups(client: pg.ClientBase, catalog: Catalog, proposal: InitProposal): Promise<number> {
  const found = new Map<string, string>();
  for (const rule of proposal.rules) {
    if (rule.kind !== 'rule') continue;
    const reason = await tryRule(client, rule.binding);
    if (reason) found.set(rule.binding.id, reason);
  }
  refused.set(catalog, found);
  return found.size;
}

async function tryRule(client: pg.ClientBase, binding: RuleBinding): Promise<string | undefined> {
  const parsed = ruleBindingSchema.safeParse(binding);
  if (!parsed.success) return undefined; // validated() drafts it with the loader's reason
  const rule = bindRule(parsed.data);
  await client.query("BEGIN; SET LOCAL statement_timeout = '10s'; SET LOCAL lock_timeout = '2s'");
  try {
    const setup = await attempt(client, rule.setup, []);
    if (setup) return `the schema rejects its setup rows: ${describe(setup)}; write the setup by hand`;
    const gaps = GAPS[binding.template];
    // A CHECK the rule's model knows (otherChecks) rejects rows on purpose: the model expects those rejections.
    const modelled = new Set('otherChecks' in binding ? (binding.otherChecks ?? []).map((c) => c.name) : []);
    const gap = (failure: SqlFailure) => (gaps.includes(failure.code) || failure.code.startsWith('22')) && !(failure.code === '23514' && modelled.has(failure.constraint ?? ''));
    // Each operation alone on the setup (rolled back after it): a row refused there is refused for what it is.
    for (const op of fc.sample(rule.operation, { seed: 1, numRuns: SAMPLE })) {
      const statement = rule.sql(op);
      const failure = await attempt(client, statement.text, statement.values, true);
      if (failure && gap(failure)) return `the schema rejects a row init generates (${rule.describe(op)}): ${describe(failure)}; bind that column's values or add it to perRow by hand`;
    }
    return undefined;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** Runs a statement in a savepoint (undone afterwards when `undo`): the server's refusal, or undefined when it was accepted. */
async function attempt(client: pg.ClientBase, text: string, values: readonly Value[], undo = false): Promise<SqlFailure | undefined> {
  if (text.trim() === '') return undefined;
  await client.query('SAVEPOINT pgconform_try');
  try {
    await client.query(text, values as Value[]);
    await client.query(undo ? 'ROLLBACK TO SAVEPOINT pgconform_try' : 'RELEASE SAVEPOINT pgconform_try');
    return undefined;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT pgconform_try');
    if (!isServerError(error)) throw error;
    return toSqlFailure(error);
  }
}

function describe(failure: SqlFailure): string {
  const where = [failure.constraint && `constraint ${failure.constraint}`, failure.table && `on ${failure.table}`].filter(Boolean).join(' ');
  return `${failure.message}${where ? ` (${where})` : ''}${failure.detail ? ` ${failure.detail}` : ''}`;
}
