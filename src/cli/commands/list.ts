import { defaultSpecsDir, displayPath, loadSpecs } from '../../spec/loader.ts';
import type { CommandContext } from '../context.ts';

/** pgconform list: every rule id with its one-line description and source. */
export async function listCommand(args: { specs: string[]; specsDir?: string }, context: CommandContext): Promise<number> {
  const specs = await loadSpecs(args.specs, args.specsDir ?? defaultSpecsDir());
  const width = Math.max(...specs.map((s) => s.rule.id.length));
  for (const spec of specs) {
    context.out(`${spec.rule.id.padEnd(width)}  ${spec.rule.title} (${spec.rule.source}) — ${displayPath(spec.file)}`);
  }
  return 0;
}
