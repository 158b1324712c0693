import fc from 'fast-check';
import { sameValue } from '../rules/predicate.ts';
import type { Operation, Row, Rule, State, Value } from '../rules/rule.ts';

/** The values the rule's generator gives each argument, per operation kind. */
export type Domains = ReadonlyMap<string, ReadonlyMap<string, readonly Value[]>>;

/** Samples the rule's operation generator (fixed seed) to learn the values each argument takes. */
export function generatorDomains(rule: Rule, samples = 300): Domains {
  const domains = new Map<string, Map<string, Value[]>>();
  for (const op of fc.sample(rule.operation, { numRuns: samples, seed: 0 })) {
    const kind = domains.get(op.kind) ?? new Map<string, Value[]>();
    domains.set(op.kind, kind);
    for (const [column, value] of Object.entries(op.args)) {
      const values = kind.get(column) ?? [];
      if (!values.some((v) => sameValue(v, value))) values.push(value);
      kind.set(column, values);
    }
  }
  return domains;
}

/**
 * Says in the domain's words what an operation the rule allows has that the row in its way lacks:
 * "a primary in a second organization". Everything comes from the reference model and the data:
 *
 * - the operation must write a whole row (its arguments are columns of one of the rule's tables);
 * - key columns (a second row with the same value is refused whatever else it holds, like a primary
 *   key) never describe anything;
 * - a column is decisive against an existing row when the operation differs from that row there and
 *   the rule would refuse the operation if it took the row's value instead: "in a second <column>";
 * - the values both rows share that are words (role 'PRIMARY', status 'PENDING') name the thing.
 *
 * Returns undefined when the operation is not a row or no existing row explains it; callers then
 * fall back to the rule's own description of the operation.
 */
export function describeAllowedRow(rule: Rule, state: State, op: Operation, domains: Domains): string | undefined {
  if (!rule.allows) return undefined;
  const ruleAllows = rule.allows.bind(rule);
  const columns = Object.keys(op.args);
  const table = rule.tables.find((t) => (state[t] ?? []).some((row) => columns.length > 0 && columns.every((c) => c in row)));
  if (!table) return undefined;
  const rows = (state[table] ?? []).filter((row) => columns.every((c) => c in row));
  const allows = (s: State, args: Row) => ruleAllows(s, { kind: op.kind, args }).allowed;
  const withRows = (r: Row[]): State => ({ ...state, [table]: r });
  const domain = domains.get(op.kind);
  const otherValue = (column: string, value: Value): Value => domain?.get(column)?.find((v) => !sameValue(v, value)) ?? value;
  const r: Row = { ...op.args };

  // A key column: a row sharing only that value with an existing row is refused, though alone it is fine.
  const isKey = (column: string, x: Row): boolean => {
    const probe = Object.fromEntries(columns.map((c) => [c, c === column ? (x[c] ?? null) : otherValue(c, x[c] ?? null)]));
    return allows(withRows([]), probe) && !allows(withRows([x]), probe);
  };

  let best: { x: Row; keys: string[]; decisive: string[] } | undefined;
  for (const x of rows) {
    const keys = columns.filter((c) => isKey(c, x));
    const decisive = columns.filter(
      (c) => !keys.includes(c) && !sameValue(r[c] ?? null, x[c] ?? null) && !allows(state, { ...r, [c]: x[c] ?? null }),
    );
    if (decisive.length > 0 && (!best || decisive.length < best.decisive.length)) best = { x, keys, decisive };
  }
  if (best) {
    const { x, keys, decisive } = best;
    const shared = columns.filter((c) => !keys.includes(c) && !decisive.includes(c) && sameValue(r[c] ?? null, x[c] ?? null));
    const noun = words(shared.map((c) => r[c] ?? null)) || singular(table);
    return `${article(noun)} ${noun} in ${decisive.map((c) => `a second ${entity(c)}`).join(' and ')}`;
  }
  return contrast(table, rows, r, columns, isKey);
}

/** No single column explains it: contrast the row's words with those of the row most like it ("a pending access request beside an approved one"). */
function contrast(table: string, rows: readonly Row[], r: Row, columns: readonly string[], isKey: (column: string, x: Row) => boolean): string | undefined {
  const likeness = (x: Row) => columns.filter((c) => sameValue(r[c] ?? null, x[c] ?? null)).length;
  const x = [...rows].sort((a, b) => likeness(b) - likeness(a))[0];
  if (!x) return undefined;
  const differing = columns.filter((c) => !isKey(c, x) && !sameValue(r[c] ?? null, x[c] ?? null));
  const mine = words(differing.map((c) => r[c] ?? null));
  const theirs = words(differing.map((c) => x[c] ?? null));
  if (!mine || !theirs) return undefined;
  return `${article(mine)} ${mine} ${singular(table)} beside ${article(theirs)} ${theirs} one`;
}

/** The values that read as words (enum-like text), lower-cased: 'PRIMARY' → "primary". */
function words(values: readonly Value[]): string {
  return values
    .filter((v): v is string => typeof v === 'string' && /^[A-Za-z]+(?:[ _-][A-Za-z]+)*$/.test(v) && v.length <= 40)
    .map((v) => v.toLowerCase().replace(/_/g, ' '))
    .join(' ');
}

/** organization_id → "organization". */
function entity(column: string): string {
  return column.replace(/_?(id|Id|ID)$/, '').replace(/_/g, ' ') || column;
}

/** care_team_assignments → "care team assignment". */
function singular(table: string): string {
  const name = table.split('.').pop()!.replace(/"/g, '').replace(/_/g, ' ');
  return name.endsWith('ss') ? name : name.replace(/s$/, '');
}

function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? 'an' : 'a';
}
