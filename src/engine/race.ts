import fc from 'fast-check';
import type { Operation, Rule, State } from '../rules/rule.ts';
import type { History } from './history.ts';
import type { Block, IsolationLevel, Scenario } from './scenario.ts';

/**
 * Two operations the rule's reference model says conflict: from the state the prefix leads to, each is
 * allowed on its own, but the second breaks the rule once the first has committed. A schema that checks
 * without a lock lets both commit when neither sees the other: the race the engine schedules on purpose.
 */
export interface ConflictPair {
  /** Operations committed one by one before the race (a row the race updates, a membership a demotion needs). */
  readonly prefix: readonly Operation[];
  readonly first: Operation;
  readonly second: Operation;
  /** An operation that changes nothing in that state (a delete of a missing row): a read that takes a snapshot. */
  readonly probe?: Operation;
}

/** The reference model as the search for conflicts sees it: operations in the server's value classes. */
interface Model {
  readonly rule: Rule & Pick<Required<Rule>, 'apply' | 'allows'>;
  readonly canonical: (op: Operation) => Operation;
}

/** A candidate operation with its canonical form (what the model judges) and its id (to tell duplicates). */
interface Candidate {
  readonly op: Operation;
  readonly model: Operation;
  readonly id: string;
  /** The same operation with one argument changed (another key, another value): the likeliest conflicts. */
  readonly neighbours: readonly Candidate[];
}

/** How many distinct operations the search for conflicts looks at, and from how many prefix states. */
const CANDIDATES = 16;
const PREFIXES = 4;
/** Variants tried beside each drawn operation. */
const NEIGHBOURS = 6;
/** Most ordered pairs judged in all: a bound on the model's work (a few tens of ms), the same on every machine. */
const PAIR_CHECKS = 1_500;

/**
 * Conflicting pairs found among operations drawn from the rule's generator (the seed picks them), from the
 * start state and from the states one committed operation leads to. Pairs come in round-robin over their
 * kind (which operations, which arguments they share), so the first few cover every kind of race the
 * model knows of, not the first kind many times.
 */
export function conflictPairs(rule: Rule, start: State, canonical: (op: Operation) => Operation, seed: number, limit: number): ConflictPair[] {
  if (!rule.apply || !rule.allows || limit <= 0) return [];
  const model: Model = { rule: rule as Model['rule'], canonical };
  const candidates = drawCandidates(model, seed);
  const budget = { checks: PAIR_CHECKS };
  const byKind = new Map<string, ConflictPair[]>();
  const seen = new Set<string>();
  const add = (kind: string, pair: ConflictPair) => {
    const id = JSON.stringify(pair);
    if (seen.has(id)) return;
    seen.add(id);
    const pairs = byKind.get(kind) ?? [];
    // A few of each kind: enough to vary keys and values, few enough to keep the search quick.
    if (pairs.length < 3) byKind.set(kind, [...pairs, pair]);
  };
  for (const { prefix, state } of prefixStates(model, start, candidates)) {
    const probe = probeIn(model, state, candidates);
    for (const [first, second] of conflictsFrom(model, state, candidates, budget)) {
      const pair = { prefix: prefix ? [prefix.op] : [], first: first.op, second: second.op, ...(probe ? { probe: probe.op } : {}) };
      add(kindOf(first, second), pair);
    }
  }
  return roundRobin([...byKind.values()], limit);
}

function drawCandidates(model: Model, seed: number): Candidate[] {
  const seen = new Map<string, Operation>();
  for (const op of fc.sample(model.rule.operation, { seed, numRuns: CANDIDATES * 5 })) {
    const id = JSON.stringify(model.canonical(op));
    if (!seen.has(id)) seen.set(id, op);
    if (seen.size >= CANDIDATES) break;
  }
  const ops = [...seen.values()];
  return ops.map((op) => ({ ...candidate(model, op), neighbours: neighboursOf(model, op, ops) }));
}

function candidate(model: Model, op: Operation): Omit<Candidate, 'neighbours'> {
  const canonical = model.canonical(op);
  return { op, model: canonical, id: JSON.stringify(canonical) };
}

/**
 * Variants of an operation that differ in one argument, the value taken from another drawn operation of
 * its kind: two inserts of the same row under two ids, an update of the row another operation inserts.
 * Random draws rarely agree on every other argument; races need exactly that.
 */
function neighboursOf(model: Model, op: Operation, ops: readonly Operation[]): Candidate[] {
  const variants = new Map<string, Candidate>();
  for (const other of ops) {
    if (other === op || other.kind !== op.kind) continue;
    for (const [name, value] of Object.entries(other.args)) {
      if (!(name in op.args) || JSON.stringify(op.args[name]) === JSON.stringify(value)) continue;
      const variant = candidate(model, { kind: op.kind, args: { ...op.args, [name]: value } });
      if (variants.size < NEIGHBOURS && !variants.has(variant.id)) variants.set(variant.id, { ...variant, neighbours: [] });
    }
  }
  return [...variants.values()];
}

/** The start state, then the states that one allowed, state-changing candidate leads to. */
function* prefixStates(model: Model, start: State, candidates: readonly Candidate[]): Generator<{ prefix?: Candidate; state: State }> {
  yield { state: start };
  let prefixes = 0;
  const before = JSON.stringify(start);
  for (const candidate of candidates) {
    if (prefixes >= PREFIXES) return;
    const state = afterAllowed(model, start, candidate);
    if (!state || JSON.stringify(state) === before) continue;
    prefixes++;
    yield { prefix: candidate, state };
  }
}

/** Ordered pairs (a, b) of candidates, each allowed in `state`, where b after a breaks the rule. */
function* conflictsFrom(model: Model, state: State, candidates: readonly Candidate[], budget: { checks: number }): Generator<[Candidate, Candidate]> {
  const isAllowed = (c: Candidate) => model.rule.allows(state, c.model).allowed;
  const allowed = candidates.filter(isAllowed);
  // Each operation against its own variants first, then against every other drawn operation.
  const rounds = [(first: Candidate) => first.neighbours.filter(isAllowed), () => allowed];
  for (const seconds of rounds) {
    for (const first of allowed) {
      const next = model.rule.apply(state, first.model);
      if ('rejected' in next && typeof next.rejected === 'string') continue;
      for (const second of seconds(first)) {
        if (second.id === first.id) continue;
        if (budget.checks-- <= 0) return;
        if (model.rule.allows(next as State, second.model).allowed) continue;
        // A rejection the rule does not judge (a duplicate primary key) is no conflict of the rule.
        const after = model.rule.apply(next as State, second.model);
        if (!('rejected' in after && typeof after.rejected === 'string')) yield [first, second];
      }
    }
  }
}

/** A candidate the model allows in `state` that leaves it as it is (a delete of a missing row). */
function probeIn(model: Model, state: State, candidates: readonly Candidate[]): Candidate | undefined {
  const unchanged = JSON.stringify(state);
  return candidates.find((c) => {
    const after = afterAllowed(model, state, c);
    return after !== undefined && JSON.stringify(after) === unchanged;
  });
}

/** The state after a candidate the model allows in `state`, or undefined. */
function afterAllowed(model: Model, state: State, candidate: Candidate): State | undefined {
  if (!model.rule.allows(state, candidate.model).allowed) return undefined;
  const next = model.rule.apply(state, candidate.model);
  return 'rejected' in next && typeof next.rejected === 'string' ? undefined : (next as State);
}

/**
 * What kind of race a pair is: its operations' kinds and the arguments the two share. The prefix is left
 * out, so a race found from the start state is not tried again behind every prefix; a prefix adds the
 * races that need a row first (an update racing an insert, a demotion racing a second membership).
 */
function kindOf(first: Candidate, second: Candidate): string {
  const shared = Object.keys(first.model.args)
    .filter((name) => name in second.model.args && JSON.stringify(first.model.args[name]) === JSON.stringify(second.model.args[name]))
    .sort();
  return JSON.stringify([first.model.kind, second.model.kind, shared]);
}

/** Takes one of each group in turn until `limit`: every kind before a second of any. */
export function roundRobin<T>(groups: readonly (readonly T[])[], limit: number): T[] {
  const out: T[] = [];
  for (let round = 0; out.length < limit && groups.some((g) => g.length > round); round++) {
    for (const group of groups) if (round < group.length && out.length < limit) out.push(group[round]!);
  }
  return out;
}

/**
 * The canonical race schedules of a pair, two sessions each holding one write open: both statements run
 * before either COMMIT, and the first to write commits first or last. Under REPEATABLE READ and
 * SERIALIZABLE also the stale-snapshot schedule, a third statement between: the second session's
 * transaction reads first (a probe), the first operation commits, then the second writes.
 */
export function raceSchedules(pair: ConflictPair, isolation: IsolationLevel): Scenario[] {
  const prefix = pair.prefix.map((op): Block => ({ autocommit: op }));
  const sessions = [
    [...prefix, { transaction: [pair.first], end: 'commit' as const }],
    [{ transaction: [pair.second], end: 'commit' as const }],
  ];
  const setup = pair.prefix.map(() => 0);
  const scenarios: Scenario[] = [
    { isolation, sessions, schedule: picks(sessions, [...setup, 0, 0, 1, 1, 0, 1]) },
    { isolation, sessions, schedule: picks(sessions, [...setup, 0, 0, 1, 1, 1, 0]) },
  ];
  if (isolation !== 'read-committed' && pair.probe) {
    // The second session's snapshot is taken by a probe before the first commits; its write comes after.
    const stale = [
      [...prefix, { autocommit: pair.first }],
      [{ transaction: [pair.probe, pair.second], end: 'commit' as const }],
    ];
    scenarios.push({ isolation, sessions: stale, schedule: picks(stale, [...setup, 1, 1, 0, 1, 1]) });
  }
  return scenarios;
}

/**
 * The schedule (picks among runnable sessions) that runs sessions in the given order, if no step waits:
 * a step that waits on a lock leaves the others to go on, as in any schedule.
 */
export function picks(sessions: readonly (readonly Block[])[], order: readonly number[]): number[] {
  const left = sessions.map((blocks) => blocks.reduce((n, b) => n + ('autocommit' in b ? 1 : b.transaction.length + 2), 0));
  return order.map((session) => {
    const runnable = left.flatMap((n, i) => (n > 0 ? [i] : []));
    left[session]!--;
    return Math.max(0, runnable.indexOf(session));
  });
}

/** Race scenarios for the first `limit` runs: each pair's schedules, pair by pair. */
export function raceScenarios(pairs: readonly ConflictPair[], isolation: IsolationLevel, limit: number): Scenario[] {
  return pairs.flatMap((pair) => raceSchedules(pair, isolation)).slice(0, limit);
}

/**
 * Schedules a free-running (stress) execution may have followed, likeliest first: its steps in the order
 * they took effect (a statement when it started, its snapshot; a COMMIT or ROLLBACK when it ended, as a
 * statement started before that end did not see it), then in the order they started. Run by the
 * deterministic engine, one of them reproduces most stress findings, which then shrink and replay.
 */
export function schedulesFromHistory(scenario: Scenario, history: History): Scenario[] {
  const effect = (e: History[number]) => (e.kind === 'commit' || e.kind === 'rollback' ? e.endedAt : e.startedAt);
  const orders = [effect, (e: History[number]) => e.startedAt].map((at) => [...history].sort((a, b) => at(a) - at(b)).map((e) => e.session));
  const distinct = [...new Set(orders.map((order) => JSON.stringify(order)))].map((order) => JSON.parse(order) as number[]);
  return distinct.map((order) => ({ ...scenario, schedule: picks(scenario.sessions, order) }));
}
