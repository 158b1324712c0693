import { redactUrl } from '../db/connection.ts';
import type { HistoryEvent } from '../engine/history.ts';
import type { IsolationLevel } from '../engine/scenario.ts';
import { inlineParams } from '../rules/predicate.ts';

/** The part of a counterexample (report.json's or the engine's) an isolation spec is made from. */
export interface ReplayableHistory {
  readonly history: readonly HistoryEvent[];
  readonly scenario: { readonly isolation: IsolationLevel };
}

/** What an isolation spec needs besides the history: the SQL the run applied before the first step. */
export interface IsolationSpecSource {
  /** The schema's SQL: the schema files the run applied, in order. */
  readonly schema: string;
  /** The rule's fixed rows (Rule.setup), inserted after the schema. */
  readonly setup?: string;
  /** The rule's invariant query (Rule.invariant): a last session runs it, so the output shows the rows that break the rule. */
  readonly invariant?: string;
  /** Lines for the comment at the top (rule, verdict, replay command). */
  readonly comment?: readonly string[];
}

/**
 * A PostgreSQL isolation-tester spec (src/test/isolation) that replays a counterexample: one `session`
 * per session, one `step` per statement, and one `permutation` in the order the steps started.
 * The tester notices by itself a step that blocks on a lock and goes on with the next one, as the run did.
 */
export function toIsolationSpec(counterexample: ReplayableHistory, source: IsolationSpecSource): string {
  // Skipped steps were never sent (their transaction had already failed), so the spec does not send them either;
  // a step with no end tick was sent and still running (waiting) when the run reached its verdict: it is sent.
  const sent = [...counterexample.history]
    .filter((e) => e.outcome.status !== 'skipped' || e.endedAt < e.startedAt)
    .sort((a, b) => a.startedAt - b.startedAt);
  const sessions = [...new Set(sent.map((e) => e.session))].sort((a, b) => a - b);
  const parts = [
    ...(source.comment ?? []).map((line) => `# ${redactUrl(line).replace(/\n/g, ' ')}`),
    block('setup', [source.schema, source.setup ?? ''].filter((sql) => sql.trim() !== '').join('\n\n')),
    // The tester runs in a throwaway database (isolation_regression): emptying the schema undoes whatever setup made.
    block('teardown', 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;'),
    ...sessions.map((s) => sessionBlock(s, sent.filter((e) => e.session === s), counterexample.scenario.isolation)),
  ];
  const order = sent.map(stepName);
  if (source.invariant) {
    parts.push(`session invariant\n${block('step invariant', source.invariant)}`);
    order.push('invariant');
  }
  parts.push(`permutation ${order.join(' ')}`);
  return `${parts.join('\n\n')}\n`;
}

function sessionBlock(session: number, events: readonly HistoryEvent[], isolation: IsolationLevel): string {
  // As pgconform's sessions: autocommit statements run at the scenario's isolation level too.
  const setup = block('setup', `SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL ${isolation.replace('-', ' ').toUpperCase()};`);
  const steps = events.map((e) => `# step ${e.index + 1}: ${e.label.replace(/\n/g, ' ')}\n${block(`step ${stepName(e)}`, `${inlineParams(e.sql, e.params)};`)}`);
  return [`session s${session + 1}`, setup, ...steps].join('\n');
}

/** A unique, readable step name: session, position in the history, and what it does (s2_3_insert). */
function stepName(e: HistoryEvent): string {
  const word = e.kind === 'op' ? (e.label.match(/^[A-Za-z]+/)?.[0]?.toLowerCase() ?? 'op') : e.kind;
  return `s${e.session + 1}_${e.index + 1}_${word}`;
}

/** A named SQL block; the spec scanner ends a block at the first `}`, so SQL holding one cannot be written. */
function block(header: string, sql: string): string {
  if (sql.includes('}')) throw new Error(`an isolation spec cannot hold "}" inside a SQL block (${header})`);
  return `${header}\n{\n${indent(sql.trim())}\n}`;
}

function indent(sql: string): string {
  return sql
    .split('\n')
    .map((line) => (line.trim() === '' ? '' : `  ${line}`))
    .join('\n');
}

export { inlineParams };
