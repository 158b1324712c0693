import pg from 'pg';
import { connect, type ConnectionSettings } from '../db/connection.ts';
import { planReset } from '../db/reset.ts';
import { contentsOf, readTemplateContents, rememberContents } from '../db/template-contents.ts';
import { isConcurrencyAbort, isRuleRejection, isServerError, toSqlFailure, type SqlFailure } from '../db/sql-failure.ts';
import type { Judgement, Operation, Rule, State, Value } from '../rules/rule.ts';
import { CLEAR_CHANGE_LOG, installChangeLog } from '../rules/transition-log.ts';
import type { CanonicalValues, RawState } from '../values/canonical-values.ts';
import { readValueClasses } from '../values/value-classes.ts';
import { DatabaseModel, type Conflict } from './database-model.ts';
import type { GapClassifier } from './generator-gap.ts';
import type { History, HistoryEvent, OffendingRow, Outcome } from './history.ts';
import { resetScope, type ResetScope } from './reset-scope.ts';
import { beginSql, stepsOf, type IsolationLevel, type Scenario, type Step } from './scenario.ts';
import type { ExecutionVerdict } from './verdict.ts';

/** Options of an executor. */
export interface ExecutorOptions {
  /** Most sessions any scenario will use (connections opened up front). */
  maxSessions: number;
  /** Per-statement timeout; a step that hits it is an infrastructure error, never a verdict. */
  statementTimeoutMs?: number;
  /** How often a running step is checked for a lock wait. */
  pollMs?: number;
  /** The rule's values as the server sees them (read at start-up); read on open when absent. */
  values?: CanonicalValues;
  /** Tells generator gaps from the rule's rejections; without it every rejection is judged. */
  gaps?: GapClassifier;
  /**
   * A fresh database of the same schema, for the database model (see database-model.ts): needed by a rule
   * without a reference model of its own, or by the 'database' and 'both' oracles. Without it such a rule's
   * rejections are not judged.
   */
  modelDatabase?: ConnectionSettings;
  /** Which reference model judges rejections: the rule's own (default when it has one), the database, or both (they must agree). */
  oracle?: Oracle;
}

/** Which reference model judges a rejection; 'both' runs the two and makes their disagreement an error verdict. */
export type Oracle = 'model' | 'database' | 'both';

/** Whether a rule checked with `oracle` needs a model database. */
export function needsModelDatabase(rule: Rule, oracle: Oracle = 'model'): boolean {
  return !rule.allows || oracle !== 'model';
}

/** A database for the rule's database model when it needs one, made by `create` (a sandbox's createWorkerDatabase). */
export async function modelDatabaseFor(rule: Rule, create: () => Promise<ConnectionSettings>, oracle?: Oracle): Promise<ConnectionSettings | undefined> {
  return needsModelDatabase(rule, oracle) ? create() : undefined;
}

/** What the observer connection did, by purpose: the cost of watching and checking (a final check and the reset after it share one round trip). */
export interface ObserverCounts {
  resets: number;
  invariantChecks: number;
  lockChecks: number;
  snapshots: number;
}

/** What one execution produced. */
export interface Execution {
  readonly history: History;
  readonly verdict: ExecutionVerdict;
  readonly steps: number;
}

interface PendingStep {
  readonly event: HistoryEvent;
  readonly step: Step;
  /** Another session had a transaction open when this step started. */
  readonly concurrent: boolean;
  settled: boolean;
  /** The sessions it was last seen waiting for, with their progress then (see SessionState.progress). */
  blockers?: ReadonlyMap<number, Progress>;
  result?: pg.QueryResult;
  error?: unknown;
  readonly done: Promise<void>;
}

interface SessionState {
  readonly index: number;
  readonly client: pg.Client;
  readonly pid: number;
  steps: Step[];
  next: number;
  inTransaction: boolean;
  aborted: boolean;
  /** Successful writes in the open transaction (for judging commit-time rejections). */
  txWrites: Operation[];
  /** Another session ran a step while this transaction was open. */
  othersActed: boolean;
  pending?: PendingStep;
  /** Steps completed, and transactions ended, in this execution: a waiter need not be asked about again until a blocker moves. */
  progress: Progress;
}

interface Progress {
  readonly steps: number;
  readonly released: number;
}

/** Raised when the infrastructure fails mid-scenario: a dropped connection, a timeout. */
export class InfrastructureFailure extends Error {
  constructor(message: string, readonly failure?: SqlFailure) {
    super(message);
    this.name = 'InfrastructureFailure';
  }
}

/**
 * Runs scenarios one step at a time on real connections, PostgreSQL isolation-tester style: a step that
 * waits on a lock held by another session is recognised from the server's lock tables and the schedule
 * moves on, coming back when the wait ends. Invariants are checked after every commit.
 * The executor owns its worker database: an execution whose final check also reset the data lets the
 * next one skip its reset, so code that writes to the database between executions calls reset() first.
 */
export class ScenarioExecutor implements AsyncDisposable {
  private tick = 0;
  /** The reset after an execution: the tables an execution can write (see resetScope). */
  private resetSql = '';
  /** The first reset covers every table: the database may hold what another rule left (diff and mutation reuse worker databases). */
  private fullResetSql = '';
  private fullResetDone = false;
  private scopeOfReset: ResetScope = { kind: 'all', reason: 'not prepared' };
  /** The default isolation level each session connection was last set to. */
  private readonly sessionIsolation = new Map<number, IsolationLevel>();
  private snapshotSql = '';
  /** The values the reference model sees: operations and snapshots in the server's classes. */
  private values!: CanonicalValues;
  /** Observer queries since the executor opened. */
  readonly counts: ObserverCounts = { resets: 0, invariantChecks: 0, lockChecks: 0, snapshots: 0 };
  /** The data is as reset() leaves it: the last execution ended with its final check and the reset in one round trip. */
  private clean = false;
  private invariantPrepared = false;
  /** Names of prepared statements by text: repeated statements skip the server's parse and plan. */
  private readonly statementNames = new Map<string, string>();

  private constructor(
    readonly rule: Rule,
    private readonly observer: pg.Client,
    private readonly sessions: SessionState[],
    private readonly options: Required<Omit<ExecutorOptions, 'values' | 'gaps' | 'modelDatabase'>> & Pick<ExecutorOptions, 'values'>,
    /** @internal */
    readonly gaps: GapClassifier | undefined,
    /** @internal The database model, when the rule has no model or the oracle asks for it. */
    readonly model: DatabaseModel | undefined,
  ) {}

  /** Opens the observer and `maxSessions` session connections to a worker database. */
  static async open(rule: Rule, settings: ConnectionSettings, options: ExecutorOptions): Promise<ScenarioExecutor> {
    const { gaps, modelDatabase, ...rest } = options;
    const full = { statementTimeoutMs: 5_000, pollMs: 1, oracle: 'model' as Oracle, ...rest };
    const observer = await connect(settings, { applicationName: 'pgconform-observer', statementTimeoutMs: 30_000 });
    const sessions: SessionState[] = [];
    let model: DatabaseModel | undefined;
    try {
      if (modelDatabase && needsModelDatabase(rule, full.oracle)) model = await DatabaseModel.open(rule, modelDatabase);
      for (let index = 0; index < full.maxSessions; index++) {
        const client = await connect(settings, { applicationName: `pgconform-s${index + 1}`, statementTimeoutMs: full.statementTimeoutMs });
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // Deadlocks between sessions are an outcome to record; find them fast (superusers only; ignored otherwise).
        await client.query("SET deadlock_timeout = '100ms'").catch(() => undefined);
        sessions.push(blankSession(index, client, rows[0]!.pid));
      }
      const executor = new ScenarioExecutor(rule, observer, sessions, full, gaps, model);
      await executor.prepare(settings);
      return executor;
    } catch (error) {
      await model?.close();
      await Promise.all([observer, ...sessions.map((s) => s.client)].map((c) => c.end().catch(() => undefined)));
      throw error;
    }
  }

  /** What the reset after an execution covers: the tables an execution of the rule can write, or every table. */
  get scope(): ResetScope {
    return this.scopeOfReset;
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    await this.model?.close();
    await Promise.all([this.observer, ...this.sessions.map((s) => s.client)].map((c) => c.end().catch(() => undefined)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Returns the tables to the template's contents (rows the schema seeded stay) and inserts the rule's setup rows. */
  async reset(): Promise<void> {
    this.counts.resets++;
    await this.observerQuery(this.fullResetDone ? this.resetSql : this.fullResetSql);
    this.fullResetDone = true;
  }

  /**
   * Resets once and reports the server's refusal of the rule's setup rows, if any: a configuration
   * problem found before any scenario, not an infrastructure failure. Other failures are thrown.
   */
  async setupFailure(): Promise<SqlFailure | undefined> {
    try {
      await this.reset();
      return undefined;
    } catch (error) {
      if (this.rule.setup.trim() === '') throw error;
      const failure = error instanceof InfrastructureFailure ? error.failure : isServerError(error) ? toSqlFailure(error) : undefined;
      if (failure && /^(2[2-3]|42|P0)/.test(failure.code)) return failure;
      if (failure && isRuleRejection(failure)) return failure;
      throw error;
    }
  }

  /** The committed contents of the rule's tables, as the reference model sees them. */
  async snapshot(): Promise<State> {
    return this.values.state(await this.rawSnapshot());
  }

  /** The committed contents of the rule's tables as read (the database model loads them as they are). */
  private async rawSnapshot(): Promise<RawState> {
    this.counts.snapshots++;
    const { rows } = await this.observerQuery<RawState>(this.snapshotSql, [], true);
    return rows[0] ?? {};
  }

  /**
   * The database model's judgement. What the rule's model says the schema may refuse whatever the rule says
   * (a duplicate primary key, a NULL the rule leaves to the schema) is not the database model's to judge.
   */
  private async databaseJudgement(raw: RawState, state: State, op: Operation): Promise<Judgement> {
    const canonical = this.canonical(op);
    const refusable = this.rule.refusable?.(canonical);
    if (refusable) return { allowed: false, reason: refusable };
    const step = this.rule.apply?.(state, canonical);
    if (step && 'rejected' in step && typeof step.rejected === 'string') return { allowed: false, reason: step.rejected };
    return this.model!.judge(raw, op);
  }

  /** @internal Conflicting pairs by the database model from the committed state (see DatabaseModel.conflicts). */
  async databaseConflicts(candidates: readonly Operation[], limit: number): Promise<Conflict[]> {
    if (!this.model) return [];
    return this.model.conflicts(await this.rawSnapshot(), candidates, limit);
  }

  /**
   * @internal Judges an operation the schema rejected with nothing in flight, on the committed state: by the
   * rule's model, the database model, or both (a disagreement is returned as such). Undefined: no model.
   */
  async judge(op: Operation): Promise<{ state: State; judgement: Judgement } | { state: State; disagreement: string } | undefined> {
    const raw = await this.rawSnapshot();
    const state = this.values.state(raw);
    const own = this.rule.allows && this.options.oracle !== 'database' ? this.rule.allows(state, this.canonical(op)) : undefined;
    const database = this.model && (!own || this.options.oracle === 'both') ? await this.databaseJudgement(raw, state, op) : undefined;
    if (own && database && own.allowed !== database.allowed) {
      return { state, disagreement: `the rule's model says ${own.allowed ? 'allowed' : 'forbidden'} (${own.reason}); the database model says ${database.allowed ? 'allowed' : 'forbidden'} (${database.reason})` };
    }
    const judgement = own ?? database;
    return judgement ? { state, judgement } : undefined;
  }

  /** Runs the invariant query; rows returned break the rule. */
  async violations(): Promise<OffendingRow[]> {
    this.counts.invariantChecks++;
    const { rows } = await this.observerQuery<OffendingRow>(this.rule.invariant, [...(this.rule.invariantValues ?? [])], true);
    return rows;
  }

  /**
   * @internal The final invariant check of an execution and the reset for the next one, in one round
   * trip: a simple-protocol query that EXECUTEs the invariant, prepared once with PREPARE, then resets.
   * The values are EXECUTE's arguments as untyped literals, which the server coerces to the parameters'
   * inferred types just as it does for protocol-level parameters.
   */
  async violationsThenReset(): Promise<OffendingRow[]> {
    if (!this.invariantPrepared) {
      await this.observerQuery(`PREPARE pgconform_invariant AS ${this.rule.invariant}`);
      this.invariantPrepared = true;
    }
    this.counts.invariantChecks++;
    this.counts.resets++;
    const args = (this.rule.invariantValues ?? []).map((v) => (v === null ? 'NULL' : pg.escapeLiteral(String(v))));
    const execute = `EXECUTE pgconform_invariant${args.length > 0 ? `(${args.join(', ')})` : ''}`;
    const reset = this.fullResetDone ? this.resetSql : this.fullResetSql;
    const results = (await this.observerQuery<OffendingRow>(`${execute};\n${reset}`)) as unknown as pg.QueryResult<OffendingRow>[];
    this.fullResetDone = true;
    this.clean = true;
    return results[0]!.rows;
  }

  /**
   * Resets the database and executes one scenario deterministically. The data afterwards is not
   * necessarily the scenario's final state: the final check may have reset it for the next execution.
   */
  async execute(scenario: Scenario): Promise<Execution> {
    if (scenario.sessions.length > this.sessions.length) {
      throw new Error(`scenario has ${scenario.sessions.length} sessions; executor has ${this.sessions.length}`);
    }
    await this.prepareRun(scenario);
    const run = new ScheduledRun(this, scenario);
    try {
      return await run.execute();
    } finally {
      await this.quiesce();
    }
  }

  /** Executes a scenario with free concurrency: every session runs as fast as it can (stress mode). */
  async executeFree(scenario: Scenario): Promise<Execution> {
    await this.prepareRun(scenario);
    const run = new ScheduledRun(this, scenario);
    try {
      return await run.executeFree();
    } finally {
      await this.quiesce();
    }
  }

  /** Resets the data and gives every session the scenario's isolation level, autocommit statements included. */
  private async prepareRun(scenario: Scenario): Promise<void> {
    if (!this.clean) await this.reset();
    this.clean = false;
    this.tick = 0;
    await Promise.all(
      this.sessions.slice(0, scenario.sessions.length).map(async (session) => {
        if (this.sessionIsolation.get(session.index) === scenario.isolation) return;
        await session.client.query(`SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL ${scenario.isolation.replace('-', ' ').toUpperCase()}`);
        this.sessionIsolation.set(session.index, scenario.isolation);
      }),
    );
  }

  /** @internal Session connections used by a run. */
  sessionStates(): SessionState[] {
    return this.sessions;
  }

  /** @internal Next logical time. */
  nextTick(): number {
    return this.tick++;
  }

  /** @internal Timing knobs. */
  get pollMs(): number {
    return this.options.pollMs;
  }

  /** @internal Is this session's backend waiting on a lock held by another of our sessions? */
  async blockedBy(session: SessionState, others: number[]): Promise<number[] | undefined> {
    this.counts.lockChecks++;
    const { rows } = await this.observerQuery<{ blocked: boolean; by: number[] }>(
      'SELECT pg_isolation_test_session_is_blocked($1, $2) AS blocked, pg_blocking_pids($1) AS by',
      [session.pid, others],
      true,
    );
    const row = rows[0];
    if (!row?.blocked) return undefined;
    return row.by.map((pid) => this.sessions.findIndex((s) => s.pid === pid)).filter((i) => i >= 0);
  }

  /** Ends whatever a stopped scenario left open, so the next one starts clean. */
  private async quiesce(): Promise<void> {
    const waiting = this.sessions.filter((s) => s.pending && !s.pending.settled);
    if (waiting.length > 0) {
      await this.observerQuery('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [waiting.map((s) => s.pid)]);
      await Promise.all(waiting.map((s) => s.pending!.done));
    }
    await Promise.all(
      this.sessions.map(async (s) => {
        if (s.inTransaction || s.pending) await s.client.query('ROLLBACK').catch(() => undefined);
        Object.assign(s, blankSession(s.index, s.client, s.pid));
      }),
    );
  }

  /**
   * Plans the resets. What the schema itself put in the tables is read once per database (the sandbox
   * read it from the template, or this is the database's first executor and it is still fresh).
   */
  private async prepare(settings: ConnectionSettings): Promise<void> {
    this.values = this.options.values ?? (await readValueClasses(this.observer, this.rule));
    let contents = contentsOf(settings);
    if (!contents) rememberContents(settings, (contents = await readTemplateContents(this.observer)));
    // A rule about changes reads the log of row changes the engine keeps in this worker database.
    const transitions = this.rule.transitions ?? [];
    if (transitions.length > 0) await this.observer.query(installChangeLog(transitions));
    const clearLog = transitions.length > 0 ? `\n${CLEAR_CHANGE_LOG}` : '';
    const full = await planReset(this.observer, { contents });
    if (full.prepare) await this.observer.query(full.prepare);
    const scope = (this.scopeOfReset = await resetScope(this.observer, this.rule, contents));
    const narrow = scope.kind === 'narrow' ? await planReset(this.observer, { contents, tables: scope.tables, sequences: scope.sequences }) : full;
    this.fullResetSql = `${full.sql}\n${this.rule.setup}${clearLog}`;
    this.resetSql = `${narrow.sql}\n${this.rule.setup}${clearLog}`;
    this.snapshotSql = this.values.snapshotSql(this.rule.tables);
  }

  /** @internal An operation as the reference model sees it: each value the representative of its class. */
  canonical(op: Operation): Operation {
    return this.values.operation(op);
  }

  private observerQueue: Promise<unknown> = Promise.resolve();

  /**
   * The query config for a statement the engine sends many times: a named prepared statement, so the
   * server parses and plans it once per connection. Transaction control (BEGIN, COMMIT) goes through the
   * simple protocol instead, which is one message.
   */
  queryConfig(text: string, values: readonly unknown[], prepared = true): pg.QueryConfig {
    if (!prepared) return { text, values: [...values] };
    let name = this.statementNames.get(text);
    if (!name) this.statementNames.set(text, (name = `pgconform_${this.statementNames.size + 1}`));
    return { name, text, values: [...values] };
  }

  /** One query at a time on the observer, even when stress-mode sessions check concurrently. */
  private async observerQuery<R extends object>(text: string, values: unknown[] = [], prepared = false): Promise<pg.QueryResult<R>> {
    const config = this.queryConfig(text, values, prepared);
    const query = this.observerQueue.then(() => this.observer.query<R>(config));
    this.observerQueue = query.catch(() => undefined);
    try {
      return await query;
    } catch (error) {
      if (isServerError(error) && error.code.startsWith('42')) throw error;
      throw new InfrastructureFailure(`the observer connection failed: ${(error as Error).message}`, isServerError(error) ? toSqlFailure(error) : undefined);
    }
  }
}

function blankSession(index: number, client: pg.Client, pid: number): SessionState {
  // pending must be cleared explicitly: Object.assign leaves a key the blank state does not name.
  return { index, client, pid, steps: [], next: 0, inTransaction: false, aborted: false, txWrites: [], othersActed: false, pending: undefined, progress: { steps: 0, released: 0 } };
}

/** One execution of one scenario: the schedule, the sessions' states, the history. */
class ScheduledRun {
  private readonly history: History = [];
  private verdict: ExecutionVerdict | undefined;
  private readonly sessions: SessionState[];
  private cursor = 0;
  /** Free concurrency (stress): the committed state is never quiescent, so nothing is judged over-restrictive. */
  private free = false;
  /** The last step that committed since the invariant was checked. */
  private uncheckedCommit: number | undefined;

  constructor(
    private readonly executor: ScenarioExecutor,
    private readonly scenario: Scenario,
  ) {
    this.sessions = executor.sessionStates().slice(0, scenario.sessions.length);
    scenario.sessions.forEach((blocks, i) => (this.sessions[i]!.steps = stepsOf(blocks)));
  }

  async execute(): Promise<Execution> {
    while (!this.verdict) {
      const runnable = this.sessions.filter((s) => !s.pending && s.next < s.steps.length);
      const waiting = this.sessions.filter((s) => s.pending);
      if (runnable.length === 0 && waiting.length === 0) break;
      if (runnable.length === 0) {
        // Everyone left is waiting: the server will end it (deadlock detection or a timeout).
        await Promise.race(waiting.map((s) => s.pending!.done));
      } else {
        const pick = this.scenario.schedule[this.cursor++] ?? 0;
        const session = runnable[pick % runnable.length]!;
        await this.start(session);
      }
      // A COMMIT may release waiting steps that commit too: let them end (or wait again) before checking.
      await this.settleWaiters();
      await this.checkCommitted(this.finished());
    }
    return this.finish();
  }

  async executeFree(): Promise<Execution> {
    this.free = true;
    await Promise.all(
      this.sessions.map(async (session) => {
        while (!this.verdict && session.next < session.steps.length) {
          const pending = this.send(session);
          if (!pending) continue;
          await pending.done;
          await this.complete(session);
        }
      }),
    );
    if (!this.verdict) await this.checkInvariant(this.history.length - 1, this.finished());
    return this.finish();
  }

  /** Every step has ended and no transaction is open: what is committed now is the final state. */
  private finished(): boolean {
    return this.sessions.every((s) => !s.pending && !s.inTransaction && s.next >= s.steps.length);
  }

  private finish(): Execution {
    return { history: this.history, verdict: this.verdict ?? { kind: 'pass' }, steps: this.history.length };
  }

  /** Starts the session's next step and waits until it ends or is seen waiting on a lock. */
  private async start(session: SessionState): Promise<void> {
    const pending = this.send(session);
    if (pending) await this.settleOrBlock(session);
  }

  /** Sends the next step; returns undefined when it was skipped without a round trip. */
  private send(session: SessionState): PendingStep | undefined {
    const step = session.steps[session.next++]!;
    for (const other of this.sessions) if (other !== session && other.inTransaction) other.othersActed = true;
    if (step.kind === 'op' && session.aborted) {
      this.recordSkipped(session, step, 'the transaction had already failed');
      return undefined;
    }
    const { sql, params, label } = this.render(session, step);
    const event: HistoryEvent = {
      index: this.history.length,
      session: session.index,
      kind: step.kind,
      label,
      sql,
      params,
      startedAt: this.executor.nextTick(),
      endedAt: -1,
      outcome: { status: 'skipped', reason: 'running' },
    };
    this.history.push(event);
    const pending: PendingStep = {
      event,
      step,
      concurrent: this.othersBusy(session),
      settled: false,
      done: session.client.query(this.executor.queryConfig(sql, params, step.kind === 'op')).then(
        (result) => {
          pending.result = result;
          pending.settled = true;
        },
        (error: unknown) => {
          pending.error = error;
          pending.settled = true;
        },
      ),
    };
    session.pending = pending;
    return pending;
  }

  private render(session: SessionState, step: Step): { sql: string; params: Value[]; label: string } {
    switch (step.kind) {
      case 'begin':
        return { sql: beginSql(this.scenario.isolation), params: [], label: 'BEGIN' };
      case 'commit':
        return session.aborted
          ? { sql: 'ROLLBACK', params: [], label: 'ROLLBACK (the transaction had failed)' }
          : { sql: 'COMMIT', params: [], label: 'COMMIT' };
      case 'rollback':
        return { sql: 'ROLLBACK', params: [], label: 'ROLLBACK' };
      case 'op': {
        const statement = this.executor.rule.sql(step.op);
        return { sql: statement.text, params: [...statement.values], label: this.executor.rule.describe(step.op) };
      }
    }
  }

  /** Waits for the session's step: either it ends, or the server says it waits for another session. */
  private async settleOrBlock(session: SessionState): Promise<void> {
    const pending = session.pending!;
    const others = this.sessions.filter((s) => s !== session).map((s) => s.pid);
    // A new step usually ends within the poll interval, and so does a waiter whose blocker has just
    // ended its transaction. A waiter whose blockers only ran statements inside their transactions
    // usually still waits, so ask the lock table first rather than sleep a poll interval.
    let sleepFirst = this.waitMayHaveEnded(pending);
    if (sleepFirst === undefined) return;
    for (;;) {
      if (sleepFirst && (await settledWithin(pending, this.executor.pollMs))) return this.complete(session);
      sleepFirst = true;
      if (pending.settled) return this.complete(session);
      const by = await this.executor.blockedBy(session, others);
      if (pending.settled) return this.complete(session);
      if (by) {
        pending.event.waitedFor = [...new Set([...(pending.event.waitedFor ?? []), ...by])];
        // Only this run's sessions can move; a blocker outside them leaves the map empty, so the step is asked about every time.
        pending.blockers = new Map(by.filter((i) => i < this.sessions.length).map((i) => [i, this.sessions[i]!.progress]));
        return;
      }
    }
  }

  /**
   * For a step already seen waiting: undefined while none of its blockers has completed a step since
   * (its locks cannot have been released; an error such as a deadlock shows as the step settling),
   * true when a blocker has ended a transaction, false when a blocker only made progress inside one.
   * A step never seen waiting gives true.
   */
  private waitMayHaveEnded(pending: PendingStep): boolean | undefined {
    if (pending.settled || !pending.blockers || pending.blockers.size === 0) return true;
    let moved = false;
    for (const [index, seen] of pending.blockers) {
      const now = this.sessions[index]!.progress;
      if (now.released !== seen.released) return true;
      if (now.steps !== seen.steps) moved = true;
    }
    return moved ? false : undefined;
  }

  /** After a step: every waiting session either ends or is seen still waiting, in session order. */
  private async settleWaiters(): Promise<void> {
    for (let progressed = true; progressed && !this.verdict; ) {
      progressed = false;
      for (const session of this.sessions) {
        if (!session.pending || this.verdict) continue;
        await this.settleOrBlock(session);
        if (!session.pending) progressed = true;
      }
    }
  }

  /** Records the outcome of the session's finished step and updates its transaction state. */
  private async complete(session: SessionState): Promise<void> {
    try {
      await this.record(session);
    } finally {
      const { steps, released } = session.progress;
      session.progress = { steps: steps + 1, released: session.inTransaction ? released : released + 1 };
    }
  }

  private async record(session: SessionState): Promise<void> {
    const pending = session.pending!;
    session.pending = undefined;
    const { event, step } = pending;
    event.endedAt = this.executor.nextTick();
    if (pending.error === undefined) {
      const rowCount = pending.result?.rowCount ?? 0;
      event.outcome = { status: 'ok', rowCount };
      return this.afterSuccess(session, step, rowCount, event);
    }
    const error = pending.error;
    if (!isServerError(error)) {
      event.outcome = { status: 'error', failure: { code: 'XX000', message: String((error as Error).message ?? error) } };
      throw new InfrastructureFailure(`session ${session.index + 1} lost its connection: ${(error as Error).message}`);
    }
    const failure = toSqlFailure(error);
    const status: Outcome['status'] = isRuleRejection(failure) ? 'rejected' : isConcurrencyAbort(failure) ? 'aborted' : 'error';
    event.outcome = { status, failure } as Outcome;
    // An object that enforces nothing the rule states refused the generated row: not a finding, never judged.
    const gap = status === 'rejected' ? this.executor.gaps?.classify(failure) : undefined;
    if (gap) event.gap = gap;
    const endsTransaction = step.kind === 'commit' || step.kind === 'rollback';
    const eligible = this.judgeable(session, pending);
    if (session.inTransaction && !endsTransaction) session.aborted = true;
    if (endsTransaction) this.endTransaction(session);
    if (status === 'error') {
      this.verdict = {
        kind: 'error',
        message: `${failure.code}: ${failure.message}`,
        atEvent: event.index,
        infrastructure: !failure.code.startsWith('42') && !failure.code.startsWith('22'),
      };
      return;
    }
    if (status === 'rejected' && eligible && !gap) await this.judge(eligible, event);
  }

  private async afterSuccess(session: SessionState, step: Step, rowCount: number, event: HistoryEvent): Promise<void> {
    switch (step.kind) {
      case 'begin':
        session.inTransaction = true;
        session.aborted = false;
        session.txWrites = [];
        session.othersActed = false;
        return;
      case 'op':
        if (step.autocommit) {
          if (rowCount > 0) await this.committed(event.index);
        } else if (rowCount > 0) session.txWrites.push(step.op);
        return;
      case 'commit': {
        const wrote = session.txWrites.length > 0 && !session.aborted;
        this.endTransaction(session);
        if (wrote) await this.committed(event.index);
        return;
      }
      case 'rollback':
        this.endTransaction(session);
        return;
    }
  }

  private endTransaction(session: SessionState): void {
    session.inTransaction = false;
    session.aborted = false;
    session.txWrites = [];
    session.othersActed = false;
  }

  /**
   * The operation to judge against the reference model when a rejection happened with nothing else in
   * flight: a statement with no earlier write in its transaction, or a COMMIT of a one-write transaction
   * that ran alone (deferred constraints).
   */
  private judgeable(session: SessionState, pending: PendingStep): Operation | undefined {
    const step = pending.step;
    // Only a step that ran alone from start to end says anything about the rule.
    if (this.free || pending.concurrent || pending.event.waitedFor || this.othersBusy(session)) return undefined;
    // Inside a transaction, another session's commit may postdate this transaction's snapshot
    // (REPEATABLE READ, SERIALIZABLE): judge only a transaction that ran alone so far.
    if (step.kind === 'op') return session.txWrites.length === 0 && !session.aborted && !session.othersActed ? step.op : undefined;
    if (step.kind === 'commit' && session.txWrites.length === 1 && !session.othersActed) return session.txWrites[0];
    return undefined;
  }

  private othersBusy(session: SessionState): boolean {
    return this.sessions.some((s) => s !== session && (s.inTransaction || s.pending));
  }

  private async judge(op: Operation, event: HistoryEvent): Promise<void> {
    const judged = await this.executor.judge(op);
    if (!judged) return;
    if ('disagreement' in judged) {
      this.verdict = { kind: 'error', message: `the two reference models disagree on "${event.label}": ${judged.disagreement}`, atEvent: event.index, infrastructure: false };
      return;
    }
    if (judged.judgement.allowed) this.verdict = { kind: 'over-restrictive', atEvent: event.index, judgement: judged.judgement, state: judged.state };
  }

  /**
   * Deterministic mode checks after every commit, once the waiters have settled. Stress mode is for
   * throughput: it checks once every session has finished (a violation a later step undoes goes unseen).
   */
  private async committed(atEvent: number): Promise<void> {
    if (!this.free) this.uncheckedCommit = atEvent;
  }

  private async checkCommitted(final: boolean): Promise<void> {
    if (this.uncheckedCommit === undefined || this.verdict) return;
    const atEvent = this.uncheckedCommit;
    this.uncheckedCommit = undefined;
    await this.checkInvariant(atEvent, final);
  }

  /** The final check also resets the data for the next execution, saving it a round trip. */
  private async checkInvariant(atEvent: number, final: boolean): Promise<void> {
    const rows = final ? await this.executor.violationsThenReset() : await this.executor.violations();
    if (rows.length === 0) return;
    const event = this.history[atEvent];
    if (event) event.violatingRows = rows;
    this.verdict ??= { kind: 'violation', atEvent, rows };
  }

  /** A step that was never sent (nothing to send it with: its transaction had failed). */
  private recordSkipped(session: SessionState, step: Step, reason: string): void {
    const tick = this.executor.nextTick();
    this.history.push({
      index: this.history.length,
      session: session.index,
      kind: step.kind,
      label: step.kind === 'op' ? this.executor.rule.describe(step.op) : step.kind.toUpperCase(),
      sql: '',
      params: [],
      startedAt: tick,
      endedAt: tick,
      outcome: { status: 'skipped', reason },
    });
  }
}

/** Resolves true when the step has ended within `ms`, false otherwise. */
function settledWithin(pending: PendingStep, ms: number): Promise<boolean> {
  if (pending.settled) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(pending.settled), ms);
    void pending.done.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
