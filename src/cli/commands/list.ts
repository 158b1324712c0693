import type { Rule } from '../../rules/rule.ts';
import { displayPath } from '../../spec/loader.ts';
import type { CommandContext } from '../context.ts';
import { selectRules, type RuleSelectionArgs } from '../rule-selection.ts';

/** pgconform list: every rule id with its one-line description and source. */
export async function listCommand(args: RuleSelectionArgs, context: CommandContext): Promise<number> {
  const specs = await selectRules(args);
  const width = Math.max(...specs.map((s) => s.rule.id.length));
  for (const spec of specs) {
    context.out(`${spec.rule.id.padEnd(width)}  ${spec.rule.title}${sourceNote(spec.rule)} — ${displayPath(spec.file)}`);
  }
  return 0;
}

/** " (seed 003)"; nothing for a rule that names no source (a JavaScript spec is not type-checked, so it may omit it). */
function sourceNote(rule: Rule): string {
  const source: unknown = rule.source;
  return typeof source === 'string' && source.trim() !== '' ? ` (${source})` : '';
}
