import { loadRuleSet } from '../config/rule-set.ts';
import { defaultSpecsDir, type LoadedSpec } from '../spec/loader.ts';

/** The options every command that takes rules shares. */
export interface RuleSelectionArgs {
  /** Rule ids or spec files (positionals). */
  specs: string[];
  specsDir?: string;
  /** --config FILE; false for --no-config; undefined: pgconform.config.* of the working directory when present. */
  config?: string | false;
}

/** The rules a command was asked for: from the configuration when there is one, else from the specs folder. */
export function selectRules(args: RuleSelectionArgs): Promise<LoadedSpec[]> {
  return loadRuleSet({ selectors: args.specs, specsDir: args.specsDir ?? defaultSpecsDir(), config: args.config });
}
