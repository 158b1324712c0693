// Reading a trigger function's text: comments and strings are not code, a lock protects only what comes after it.
import { describe, expect, it } from 'vitest';
import { analyzeBody, stripCommentsAndLiterals } from '../../src/explain/function-body.ts';

const TABLES = new Set(['members', 'users', 'locks']);
const resolve = (name: string) => (TABLES.has(name) ? name : undefined);

describe('trigger function bodies', () => {
  it('strips comments, strings and dollar-quoted text, keeping quoted identifiers', () => {
    const code = stripCommentsAndLiterals(`SELECT 1 -- FOR UPDATE\n/* LOCK TABLE /* nested */ members */ FROM "My Table" WHERE a = 'it''s FROM users' AND b = E'\\' FOR SHARE' AND c = $x$ FROM locks $x$`);
    expect(code).not.toMatch(/FOR UPDATE|LOCK TABLE|FROM users|FOR SHARE|FROM locks/);
    expect(code).toContain('FROM "My Table"');
  });

  it('an unlocked read is one taken before any lock and without a locking clause', () => {
    const unlocked = analyzeBody(`BEGIN
      -- PERFORM pg_advisory_xact_lock(1); (commented out)
      RAISE NOTICE 'reading members FOR UPDATE';
      IF EXISTS (SELECT 1 FROM members WHERE user_id = NEW.user_id) THEN RAISE EXCEPTION 'taken'; END IF;
      RETURN NEW; END`, resolve);
    expect(unlocked.unlockedReads.map((r) => r.table)).toEqual(['members']);
    expect(unlocked.locks).toEqual([]);
    expect(unlocked.raises).toBe(true);

    const lockedFirst = analyzeBody(`BEGIN PERFORM pg_advisory_xact_lock(hashtext(NEW.user_id::text));
      IF EXISTS (SELECT 1 FROM members WHERE user_id = NEW.user_id) THEN RAISE EXCEPTION 'taken'; END IF; RETURN NEW; END`, resolve);
    expect(lockedFirst.unlockedReads).toEqual([]);

    const lockedLate = analyzeBody(`BEGIN SELECT count(*) INTO n FROM members WHERE user_id = NEW.user_id;
      PERFORM 1 FROM users WHERE id = NEW.user_id FOR UPDATE; RETURN NEW; END`, resolve);
    expect(lockedLate.unlockedReads.map((r) => r.table)).toEqual(['members']);
    expect(lockedLate.locks.map((l) => l.how)).toEqual(['SELECT … FOR UPDATE']);
  });

  it('follows calls into the user functions it is given, and ignores names that are not tables', () => {
    const library = new Map([['touch_lock', ['INSERT INTO locks (k) VALUES ($1) ON CONFLICT (k) DO UPDATE SET v = locks.v + 1']]]);
    const body = `DECLARE e text; BEGIN
      FOR e IN SELECT x FROM (SELECT NEW.k) s(x) LOOP PERFORM touch_lock(e); END LOOP;
      SELECT extract(year FROM v_when) INTO y;
      IF EXISTS (SELECT 1 FROM members WHERE k = NEW.k) THEN RAISE 'clash'; END IF; RETURN NEW; END`;
    const analysis = analyzeBody(body, resolve, library);
    expect(analysis.unlockedReads).toEqual([]);
    expect(analysis.locks.map((l) => l.how)).toEqual(['INSERT … ON CONFLICT DO UPDATE of locks']);
    expect(analysis.events.filter((e) => e.kind === 'read').map((e) => (e as { table: string }).table)).toEqual(['members']);
    // Without the callee's text the same body reads before any lock it can see.
    expect(analyzeBody(body, resolve).unlockedReads.map((r) => r.table)).toEqual(['members']);
  });
});
