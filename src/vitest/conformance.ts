// pgconform/vitest: conformance checks inside a team's own vitest suite.
import { fileURLToPath } from 'node:url';
import { afterAll, it } from 'vitest';
import { chooseProvider } from '../db/provider-choice.ts';
import type { StartedServer } from '../db/provider.ts';
import { Sandbox } from '../db/sandbox.ts';
import type { SchemaFile } from '../db/schema-source.ts';
import { modelDatabaseFor, ScenarioExecutor } from '../engine/executor.ts';
import { checkRule, type RuleCheck } from '../engine/rule-check.ts';
import { DEFAULT_SHAPE, type IsolationLevel } from '../engine/scenario.ts';
import type { Rule } from '../rules/rule.ts';
import { readSource } from '../source/read-source.ts';
import { failureMessage } from './failure-message.ts';

/** What to check a rule against, and how hard. */
export interface ConformanceOptions {
  /** The schema: a .sql file, a folder of .sql files (name order), `<git-rev>:<path>`, or several of those applied in order. Paths are relative to the working directory; file: URLs work too. */
  readonly schema: string | URL | readonly (string | URL)[];
  /** An existing server (the kit only creates and drops its own pgconform_* databases); default $DATABASE_URL, else an embedded PostgreSQL shared by the file's checks. */
  readonly url?: string;
  /** Scenarios per isolation level (default 100: a test suite runs often). */
  readonly runs?: number;
  /** fast-check seed; random by default and always in the failure message. */
  readonly seed?: number;
  /** fast-check path of a failing run, with `seed`: replays exactly that search. */
  readonly path?: string;
  /** Isolation levels checked (default read-committed). */
  readonly isolation?: IsolationLevel | readonly IsolationLevel[];
  /** Most concurrent sessions per scenario (default 4). */
  readonly sessions?: number;
  /** The test's name (default: the rule's id and title). */
  readonly name?: string;
  /** The test's timeout in milliseconds (default 120 000). */
  readonly timeoutMs?: number;
}

/** Scenarios per isolation level when the test says nothing. */
export const CONFORMANCE_RUNS = 100;

/**
 * Registers a vitest test that checks `rule` against `options.schema`. The test fails with the
 * counterexample as its message: the timeline of the sessions, the offending rows, and how to replay it.
 */
export function conformance(rule: Rule, options: ConformanceOptions): void {
  it(options.name ?? `${rule.id}: ${rule.title}`, () => expectConformance(rule, options), options.timeoutMs ?? 120_000);
  afterAll(releaseServer);
}

/** Checks `rule` against the schema from inside a test of your own; rejects with the counterexample when the schema fails the rule. */
export async function expectConformance(rule: Rule, options: ConformanceOptions): Promise<void> {
  const checks = await checkConformance(rule, options);
  const failed = checks.filter((check) => check.verdict !== 'pass');
  if (failed.length === 0) return;
  const error = new Error(failed.map((check) => failureMessage(rule, check, schemaPaths(options.schema))).join('\n\n'));
  error.name = 'ConformanceError';
  // The counterexample is the message; a stack into the kit would only bury it.
  error.stack = `${error.name}: ${error.message}`;
  throw error;
}

/** The rule's verdict per isolation level, without throwing: for assertions of your own. */
export async function checkConformance(rule: Rule, options: ConformanceOptions): Promise<RuleCheck[]> {
  const server = await sharedServer(options.url);
  const schema = await readSchema(options.schema);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const levels: readonly IsolationLevel[] = typeof options.isolation === 'string' ? [options.isolation] : (options.isolation ?? ['read-committed']);
  const shape = { ...DEFAULT_SHAPE, maxSessions: options.sessions ?? DEFAULT_SHAPE.maxSessions };
  const sandbox = await Sandbox.create(server, schema);
  try {
    const modelDatabase = await modelDatabaseFor(rule, () => sandbox.createWorkerDatabase());
    const executor = await ScenarioExecutor.open(rule, await sandbox.createWorkerDatabase(), { maxSessions: shape.maxSessions, modelDatabase });
    try {
      const checks: RuleCheck[] = [];
      for (const isolation of levels) {
        checks.push(await checkRule(rule, executor, { isolation, runs: options.runs ?? CONFORMANCE_RUNS, seed, path: options.path, shape }));
      }
      return checks;
    } finally {
      await executor.close();
    }
  } finally {
    await sandbox.dispose();
  }
}

/** Stops the server the checks of this file share, if they started one (registered after every conformance() test). */
export async function releaseServer(): Promise<void> {
  const started = servers;
  servers = new Map();
  await Promise.all([...started.values()].map(async (server) => (await server.catch(() => undefined))?.stop()));
}

// One server per URL (or the embedded one) for all the checks of a test file: starting PostgreSQL costs seconds.
let servers = new Map<string, Promise<StartedServer>>();

function sharedServer(url: string | undefined): Promise<StartedServer> {
  const key = url ?? process.env.DATABASE_URL ?? '';
  let server = servers.get(key);
  if (!server) {
    server = chooseProvider({ url: key || undefined }).start();
    servers.set(key, server);
    // A server that failed to start is not kept: the next check tries again.
    server.catch(() => servers.delete(key));
  }
  return server;
}

async function readSchema(schema: ConformanceOptions['schema']): Promise<SchemaFile[]> {
  const files: SchemaFile[] = [];
  for (const source of schemaPaths(schema)) files.push(...(await readSource(source)));
  return files;
}

function schemaPaths(schema: ConformanceOptions['schema']): string[] {
  const sources = typeof schema === 'string' || schema instanceof URL ? [schema] : schema;
  return sources.map((s) => (s instanceof URL ? fileURLToPath(s) : s));
}
