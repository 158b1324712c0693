import { redactUrl } from '../db/connection.ts';
import type { ReportDocument } from './report-document.ts';

type Counterexample = NonNullable<ReportDocument['rules'][number]['checks'][number]['counterexample']>;

/** What the regression test needs besides the counterexample: where the schema is and what the rule says. */
export interface RegressionSource {
  readonly ruleId: string;
  /** Schema files applied in order, as paths the test reads at run time (relative to where vitest runs). */
  readonly schemaFiles: readonly string[];
  /** The rule's fixed rows (Rule.setup). */
  readonly setup?: string;
  /** The rule's invariant query (Rule.invariant): no row may come back once the steps have run. */
  readonly invariant: string;
}

/**
 * A vitest file that replays a counterexample on a fresh database with plain `pg` clients and asserts
 * the rule: it fails while the schema has the flaw and passes once it is fixed. Each step is sent when
 * it started in the run and awaited where it ended, so a step that waited for a lock waits again; the next step
 * is sent only once the previous one has ended or is seen waiting for a lock on the server.
 * The server comes from PGCONFORM_REGRESSION_URL (default: the local server, as postgres).
 */
export function toVitestRegression(c: Counterexample, source: RegressionSource): string {
  // A skipped step was never sent, so its SQL was not recorded: there is nothing to replay for it.
  const steps = c.history.filter((e) => e.sql !== '').map((e) => ({ step: e.index + 1, session: e.session, label: e.label, sql: e.sql, params: e.params, startedAt: e.startedAt, endedAt: e.endedAt }));
  const sessions = Math.max(0, ...c.history.map((e) => e.session)) + 1;
  const title = `${source.ruleId} holds when pgconform's ${c.kind} counterexample is replayed [${c.scenario.isolation}]`;
  return `${header(c, source)}
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';

const SERVER_URL = process.env.PGCONFORM_REGRESSION_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const SCHEMA_FILES: string[] = ${JSON.stringify(source.schemaFiles)};
const SETUP = ${JSON.stringify(source.setup ?? '')};
const INVARIANT = ${JSON.stringify(source.invariant)};
/** The step the verdict was about (1-based), and what the run saw there. */
const AT_STEP = ${(c.atEvent ?? 0) + 1};
const KIND: string = ${JSON.stringify(c.kind)};
const SESSIONS = ${sessions};
const ISOLATION = ${JSON.stringify(c.scenario.isolation.replace('-', ' ').toUpperCase())};

interface Step {
  step: number;
  session: number;
  label: string;
  sql: string;
  params: unknown[];
  startedAt: number;
  endedAt: number;
}

/** The steps as they ran; startedAt/endedAt are pgconform's logical clock (endedAt -1: still running when the run stopped). */
const STEPS: Step[] = [
${steps.map((s) => `  ${JSON.stringify(s)},`).join('\n')}
];

const database = \`pgconform_regression_\${randomBytes(4).toString('hex')}\`;
let admin: pg.Client;
let sessions: pg.Client[] = [];
/** Each session's server process, to tell when a step sent to it has reached the server and is waiting for a lock. */
let pids: number[] = [];

function client(name?: string): pg.Client {
  const url = new URL(SERVER_URL);
  if (name) url.pathname = \`/\${name}\`;
  const c = new pg.Client({ connectionString: url.toString(), application_name: 'pgconform-regression' });
  c.on('error', () => undefined);
  return c;
}

beforeAll(async () => {
  admin = client();
  await admin.connect();
  await admin.query(\`CREATE DATABASE \${database}\`);
  const schema = client(database);
  await schema.connect();
  try {
    for (const file of SCHEMA_FILES) await schema.query(readFileSync(file, 'utf8'));
    if (SETUP.trim()) await schema.query(SETUP);
  } finally {
    await schema.end();
  }
  sessions = await Promise.all(
    Array.from({ length: SESSIONS }, async () => {
      const c = client(database);
      await c.connect();
      // A step that blocks now where it did not in the run must fail, not hang the test.
      await c.query("SET lock_timeout = '5s'");
      // As pgconform's sessions: autocommit statements run at the scenario's isolation level too.
      await c.query(\`SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL \${ISOLATION}\`);
      return c;
    }),
  );
  pids = await Promise.all(sessions.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid));
});

afterAll(async () => {
  await Promise.all(sessions.map((c) => c.end().catch(() => undefined)));
  await admin?.query(\`DROP DATABASE IF EXISTS \${database}\`).catch(() => undefined);
  await admin?.end();
});

/** Sends each step at its start tick and awaits it at its end tick; returns each step's outcome ('ok' or the SQLSTATE). */
async function replay(): Promise<string[]> {
  const outcomes: string[] = [];
  const pending = new Map<number, Promise<string>>();
  // A step the run never saw end is awaited after everything else.
  const last = Math.max(...STEPS.map((s) => s.startedAt), ...STEPS.map((s) => s.endedAt)) + 1;
  const moments = STEPS.flatMap((s, i) => [
    { at: s.startedAt, i, start: true },
    { at: s.endedAt < s.startedAt ? last : s.endedAt, i, start: false },
  ]).sort((a, b) => a.at - b.at);
  for (const moment of moments) {
    const step = STEPS[moment.i]!;
    if (moment.start) {
      let done = false;
      const sent = sessions[step.session]!.query(step.sql, step.params);
      pending.set(moment.i, sent.then(() => 'ok', (error: { code?: string }) => error.code ?? 'error').finally(() => (done = true)));
      // The next step goes only once this one has ended or is waiting for a lock, as the run's scheduler made sure.
      while (!done && !(await waitingForLock(pids[step.session]!))) await new Promise((resolve) => setTimeout(resolve, 2));
    } else {
      outcomes[moment.i] = await pending.get(moment.i)!;
    }
  }
  return outcomes;
}

/** Whether a session's server process is blocked by another session (on a lock). */
async function waitingForLock(pid: number): Promise<boolean> {
  const { rows } = await admin.query<{ blocked: boolean }>('SELECT cardinality(pg_blocking_pids($1)) > 0 AS blocked', [pid]);
  return rows[0]!.blocked;
}

it(${JSON.stringify(title)}, async () => {
  const outcomes = await replay();
  const ran = STEPS.map((s, i) => \`#\${s.step} s\${s.session + 1} \${s.label} → \${outcomes[i]}\`).join('\\n');
  if (KIND === 'over-restrictive') {
    expect(outcomes[STEPS.findIndex((s) => s.step === AT_STEP)], \`step \${AT_STEP} is allowed by the rule but was rejected:\\n\${ran}\`).toBe('ok');
  }
  const check = client(database);
  await check.connect();
  try {
    const broken = await check.query(INVARIANT);
    expect(broken.rows, \`the committed state breaks the rule:\\n\${ran}\`).toEqual([]);
  } finally {
    await check.end();
  }
});
`;
}

function header(c: Counterexample, source: RegressionSource): string {
  const why =
    c.kind === 'violation'
      ? `a committed state broke the rule after step ${(c.atEvent ?? 0) + 1}`
      : c.kind === 'over-restrictive'
        ? `the schema rejected step ${(c.atEvent ?? 0) + 1}, which the rule allows`
        : `step ${(c.atEvent ?? 0) + 1} failed`;
  return [
    `// Regression test generated by pgconform for rule ${source.ruleId} [${c.scenario.isolation}]: ${why}.`,
    `// Schema: ${source.schemaFiles.join(', ')}. Found by ${c.foundBy}; replay with: ${c.replay}`,
    '// It fails while the schema has the flaw and passes once it is fixed. Needs the pg package.',
  ]
    .map((line) => redactUrl(line).replace(/\n/g, ' '))
    .join('\n');
}
