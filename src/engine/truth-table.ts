import type { Rule, TruthTableCell } from '../rules/rule.ts';
import type { Execution, ScenarioExecutor } from './executor.ts';
import { formatOutcome } from './history.ts';
import type { IsolationLevel, Scenario } from './scenario.ts';

/** How the schema treated one truth-table cell, by INSERT and by UPDATE into the cell. */
export interface TruthTableRow {
  readonly cell: string;
  readonly values: TruthTableCell['values'];
  readonly expected: TruthTableCell['expected'];
  readonly insert: string;
  readonly update: string;
  /** The schema did what the rule demands for this cell. */
  readonly ok: boolean;
}

/** A checked truth table, printed in the report. */
export interface TruthTableResult {
  readonly columns: readonly string[];
  readonly rows: readonly TruthTableRow[];
}

/** A failing cell, as a ready counterexample. */
export interface TruthTableFailure {
  readonly scenario: Scenario;
  readonly execution: Execution;
}

/** Probes every cell once by INSERT and once by UPDATE, one session, nothing else in flight. */
export async function checkTruthTable(
  rule: Rule,
  executor: ScenarioExecutor,
  isolation: IsolationLevel,
): Promise<{ result: TruthTableResult; failures: TruthTableFailure[] }> {
  const table = rule.truthTable;
  if (!table) throw new Error(`${rule.id} has no truth table`);
  const rows: TruthTableRow[] = [];
  const failures: TruthTableFailure[] = [];
  for (const cell of table.cells) {
    const probes = table.probes(cell);
    const outcomes: string[] = [];
    let ok = true;
    for (const ops of [probes.insert, probes.update]) {
      const scenario: Scenario = { isolation, sessions: [ops.map((op) => ({ autocommit: op }))], schedule: [] };
      const execution = await executor.execute(scenario);
      const last = execution.history[execution.history.length - 1];
      outcomes.push(last ? (last.outcome.status === 'ok' ? 'committed' : formatOutcome(last)) : 'not run');
      if (execution.verdict.kind !== 'pass') {
        ok = false;
        failures.push({ scenario, execution });
      }
    }
    rows.push({ cell: table.describe(cell), values: cell.values, expected: cell.expected, insert: outcomes[0]!, update: outcomes[1]!, ok });
  }
  return { result: { columns: table.columns, rows }, failures };
}
