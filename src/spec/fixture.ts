import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { IsolationLevel } from '../engine/scenario.ts';
import type { VerdictKind } from '../engine/verdict.ts';
import { KitError } from '../errors/kit-error.ts';

/** Where a fixture sits in a rule's zoo. */
export type FixtureKind = 'reference' | 'seed' | 'mutant' | 'equivalent';

/** A schema with the verdict the kit must reach on it, read from its header comment. */
export interface Fixture {
  readonly file: string;
  readonly name: string;
  readonly kind: FixtureKind;
  /** Expected verdict per rule id at READ COMMITTED; "*" for every rule of the folder. */
  readonly expect: Readonly<Record<string, VerdictKind>>;
  /** Where another isolation level gets another verdict (`-- expect@repeatable-read: violation`): a lock-then-check trigger holds at READ COMMITTED only. */
  readonly atLevel: Readonly<Partial<Record<IsolationLevel, VerdictKind>>>;
  readonly why: string;
  /** `-- needs: concurrency`: only overlapping sessions break the rule (the benchmark measures how often a race is found). */
  readonly concurrency: boolean;
}

const VERDICTS = new Set<VerdictKind>(['pass', 'violation', 'over-restrictive', 'error']);

/** Every fixture of a rule folder: reference.sql, seed.sql, mutants/*.sql, equivalents/*.sql. */
export function readFixtures(dir: string): Fixture[] {
  const files: Array<[string, FixtureKind]> = [];
  for (const [name, kind] of [['reference.sql', 'reference'], ['seed.sql', 'seed']] as const) {
    if (existsSync(join(dir, name))) files.push([join(dir, name), kind]);
  }
  for (const [sub, kind] of [['mutants', 'mutant'], ['equivalents', 'equivalent']] as const) {
    const folder = join(dir, sub);
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder).filter((n) => n.endsWith('.sql')).sort()) files.push([join(folder, name), kind]);
  }
  return files.map(([file, kind]) => parseFixture(file, kind));
}

/** Reads `-- expect: v` or `-- expect <rule-id>: v`, `-- why: …` and `-- needs: concurrency` from the top of a fixture. */
export function parseFixture(file: string, kind: FixtureKind): Fixture {
  const expect: Record<string, VerdictKind> = {};
  const atLevel: Partial<Record<IsolationLevel, VerdictKind>> = {};
  let why = '';
  let concurrency = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('--')) {
      if (line.trim() === '') continue;
      break;
    }
    const match = /^--\s*expect(?:\s+([\w-]+))?\s*:\s*([\w-]+)/.exec(line);
    if (match) {
      const verdict = match[2] as VerdictKind;
      if (!VERDICTS.has(verdict)) throw new KitError('spec', `unknown expected verdict "${verdict}"`, { where: file, fix: 'use pass, violation or over-restrictive' });
      expect[match[1] ?? '*'] = verdict;
    }
    const level = /^--\s*expect@(read-committed|repeatable-read|serializable)\s*:\s*([\w-]+)/.exec(line);
    if (level) {
      if (!VERDICTS.has(level[2] as VerdictKind)) throw new KitError('spec', `unknown expected verdict "${level[2]}"`, { where: file, fix: 'use pass, violation or over-restrictive' });
      atLevel[level[1] as IsolationLevel] = level[2] as VerdictKind;
    }
    const reason = /^--\s*why\s*:\s*(.*)$/.exec(line);
    if (reason) why = reason[1]!;
    if (/^--\s*needs\s*:\s*concurrency\b/.test(line)) concurrency = true;
  }
  const name = kind === 'reference' || kind === 'seed' ? kind : `${kind}s/${basename(file, '.sql')}`;
  return { file, name, kind, expect, atLevel, why, concurrency };
}

/** The verdict a fixture demands of a rule at an isolation level (READ COMMITTED unless given), if it names one. */
export function expectedVerdict(fixture: Fixture, ruleId: string, level: IsolationLevel = 'read-committed'): VerdictKind | undefined {
  return (level === 'read-committed' ? undefined : fixture.atLevel[level]) ?? fixture.expect[ruleId] ?? fixture.expect['*'];
}

/** The levels besides READ COMMITTED a fixture states a verdict for. */
export function statedLevels(fixture: Fixture): IsolationLevel[] {
  return (Object.keys(fixture.atLevel) as IsolationLevel[]).filter((level) => level !== 'read-committed');
}
