// Report documents from real runs of the kit on the local PostgreSQL, so the reporters are tested on
// what a run really produces (histories, logical times, waits), not on hand-written objects.
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { settingsFromUrl } from '../../src/db/connection.ts';
import { inspectServer } from '../../src/db/server-check.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { runOnServer } from '../../src/engine/run.ts';
import type { IsolationLevel } from '../../src/engine/scenario.ts';
import { toDocument, type ReportDocument } from '../../src/report/report-document.ts';
import { loadSpecFile } from '../../src/spec/loader.ts';

/** The local server the report tests run on (the same default as test/global-setup.ts). */
export const LOCAL_URL = process.env.PGCONFORM_LOCAL_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const TABLE = `
CREATE TABLE access_requests (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL,
  user_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'DENIED')),
  created_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz
);`;

/** Checks for another pending request without any lock: two concurrent transactions both pass the check. */
export const RACE_SQL = `${TABLE}
CREATE FUNCTION access_requests_one_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'PENDING' AND EXISTS (
       SELECT 1 FROM access_requests
        WHERE organization_id = NEW.organization_id AND user_id = NEW.user_id AND status = 'PENDING' AND id <> NEW.id) THEN
    RAISE EXCEPTION 'user % already has a pending access request', NEW.user_id USING ERRCODE = '23505';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER access_requests_one_pending BEFORE INSERT OR UPDATE ON access_requests
  FOR EACH ROW EXECUTE FUNCTION access_requests_one_pending();
`;

/**
 * Serialises writers with an advisory lock, then checks: right at READ COMMITTED, but at REPEATABLE READ
 * the check reads the snapshot taken before the wait, so the counterexample has a step that waited.
 */
export const WAIT_SQL = `${TABLE}
CREATE FUNCTION access_requests_one_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'PENDING' THEN
    PERFORM pg_advisory_xact_lock(hashtext('access_requests.pending:' || NEW.organization_id::text || '/' || NEW.user_id::text));
    IF EXISTS (
         SELECT 1 FROM access_requests
          WHERE organization_id = NEW.organization_id AND user_id = NEW.user_id AND status = 'PENDING' AND id <> NEW.id) THEN
      RAISE EXCEPTION 'user % already has a pending access request', NEW.user_id USING ERRCODE = '23505';
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER access_requests_one_pending BEFORE INSERT OR UPDATE ON access_requests
  FOR EACH ROW EXECUTE FUNCTION access_requests_one_pending();
`;

/** The documents the report tests use, and a scratch folder for their output. */
export interface RealRuns {
  readonly dir: string;
  /** The seed schema's blanket UNIQUE: over-restrictive at read-committed. */
  readonly overRestrictive: ReportDocument;
  /** The unlocked trigger: violation at read-committed with two sessions, pass at serializable. */
  readonly race: ReportDocument;
  /** The advisory-lock trigger at repeatable-read: a violation whose counterexample waited for a lock. */
  readonly waited: ReportDocument;
}

/** Whether the local server answers; report tests are skipped without it, except on CI where they fail. */
export async function localServerReachable(): Promise<boolean> {
  try {
    await inspectServer(settingsFromUrl(LOCAL_URL));
    return true;
  } catch (error) {
    if (process.env.CI) throw new Error(`CI needs the local PostgreSQL at ${LOCAL_URL}: ${(error as Error).message}`);
    return false;
  }
}

/**
 * The documents of one-pending-request run against three schemas on the local server, in a fresh scratch folder.
 * The runs happen once per suite run: the report test files share them through a file in the suite's scratch folder
 * (test/global-setup.ts), each with the paths moved into its own folder, as if it had run them there.
 */
export async function realRuns(): Promise<RealRuns> {
  const dir = await mkdtemp(join(tmpdir(), 'pgconform-report-test-'));
  await writeFile(join(dir, 'race.sql'), RACE_SQL);
  await writeFile(join(dir, 'waited.sql'), WAIT_SQL);
  const shared = join(inject('suiteScratch'), 'real-runs.json');
  const saved = await readFile(shared, 'utf8').catch(() => undefined);
  if (saved) {
    const { dir: ranIn, documents } = JSON.parse(saved) as { dir: string; documents: unknown };
    return { dir, ...(JSON.parse(JSON.stringify(documents).replaceAll(ranIn, dir)) as Omit<RealRuns, 'dir'>) };
  }
  const runs = { dir, ...(await runThreeSchemas(dir)) };
  assertShapes(runs);
  // Written whole, then renamed: a file that reads it while it is being written must not see half of it.
  const { dir: _, ...documents } = runs;
  await writeFile(`${shared}.${process.pid}`, JSON.stringify({ dir, documents }));
  await rename(`${shared}.${process.pid}`, shared);
  return runs;
}

async function runThreeSchemas(dir: string): Promise<Omit<RealRuns, 'dir'>> {
  const server = await new UrlProvider(LOCAL_URL).start();
  try {
    const specs = await loadSpecFile(join(ROOT, 'specs/one-pending-request.ts'));
    const run = async (name: string, schema: string, isolation: IsolationLevel[]) => {
      const result = await runOnServer(server, { specs, schema: [schema], isolation, runs: 100, seed: 1, workers: 2 });
      return toDocument(result, { version: 'test', reportPath: join(dir, name, 'report.json') });
    };
    // At once: each run has its own sandbox databases, and together they take the time of the longest.
    const [overRestrictive, race, waited] = await Promise.all([
      run('over-restrictive', join(ROOT, 'fixtures/one-pending-request/seed.sql'), ['read-committed']),
      run('race', join(dir, 'race.sql'), ['read-committed', 'serializable']),
      run('waited', join(dir, 'waited.sql'), ['repeatable-read']),
    ]);
    return { overRestrictive, race, waited };
  } finally {
    await server.stop();
  }
}

/** The report tests lean on these verdicts and shapes; if the engine finds otherwise, say so plainly. */
function assertShapes(runs: RealRuns): void {
  const expectations: Array<[string, ReportDocument, string[], (c: NonNullable<ReportDocument['rules'][number]['checks'][number]['counterexample']>) => boolean]> = [
    ['seed schema', runs.overRestrictive, ['over-restrictive'], () => true],
    ['unlocked trigger', runs.race, ['violation', 'pass'], (c) => new Set(c.history.map((e) => e.session)).size === 2],
    ['advisory-lock trigger', runs.waited, ['violation'], (c) => c.history.some((e) => e.waitedFor?.length)],
  ];
  for (const [name, document, verdicts, shape] of expectations) {
    const checks = document.rules.flatMap((rule) => rule.checks);
    const got = checks.map((check) => check.verdict);
    if (JSON.stringify(got) !== JSON.stringify(verdicts)) throw new Error(`${name}: expected verdicts ${verdicts.join(', ')}, got ${got.join(', ')}`);
    for (const check of checks) {
      if (check.counterexample && !shape(check.counterexample)) throw new Error(`${name}: the counterexample no longer has the shape these tests need`);
    }
  }
}

/** Removes a test's scratch folder, unless PGCONFORM_KEEP_REPORTS is set (to look at the reports and the screenshot). */
export async function removeScratch(dir: string | undefined): Promise<void> {
  if (dir && !process.env.PGCONFORM_KEEP_REPORTS) await rm(dir, { recursive: true, force: true });
}

/** Every check of a document with its rule. */
export function checksOf(document: ReportDocument) {
  return document.rules.flatMap((rule) => rule.checks.map((check) => ({ rule, check })));
}

/** A deep copy to alter in one test without touching the others' input. */
export function copyOf(document: ReportDocument): ReportDocument {
  return structuredClone(document);
}
