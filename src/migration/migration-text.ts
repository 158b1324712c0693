import { displayPath } from '../spec/loader.ts';
import type { MigrationCheck } from './migration-check.ts';

/** A migration check as console lines: the verdict sentence, then what it rests on. */
export function migrationLines(check: MigrationCheck): string[] {
  const down = check.down ? ` (down: ${displayPath(check.down)})` : '';
  return [
    `${check.ruleId}: migration ${displayPath(check.migration)}${down}`,
    `  ${check.summary}`,
    ...check.details.map((line) => `  - ${line}`),
    ...check.problems.map((problem) => `  problem: ${problem}`),
  ];
}
