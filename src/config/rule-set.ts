import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { KitError } from '../errors/kit-error.ts';
import { loadSpecFile, loadSpecs, type LoadedSpec } from '../spec/loader.ts';
import { findConfig, loadConfig } from './config-file.ts';

/** Where a command's rules come from: selectors (rule ids or spec files), a configuration, a specs folder. */
export interface RuleSetOptions {
  /** Rule ids or spec file paths; none means every rule. */
  readonly selectors: readonly string[];
  /** The specs folder used when there is no configuration. */
  readonly specsDir: string;
  /** A configuration file; undefined: pgconform.config.* of the working directory if present; false: none. */
  readonly config?: string | false;
}

/**
 * The rules a command runs. With a configuration (given, or found in the working directory) they are its
 * rules, narrowed by id; spec files named on the command line are added. Without one, the specs folder.
 */
export async function loadRuleSet(options: RuleSetOptions): Promise<LoadedSpec[]> {
  const file = options.config === false ? undefined : (options.config ?? findConfig());
  if (!file) return loadSpecs(options.selectors, options.specsDir);
  const config = await loadConfig(file);
  for (const note of config.notes) process.stderr.write(`note: ${note}\n`);
  const fromConfig: LoadedSpec[] = config.rules.map((rule) => ({ rule, file: config.file, defaultSchema: config.schema }));
  const files = options.selectors.filter((s) => existsSync(s) || ['.ts', '.mts', '.js', '.mjs'].includes(extname(s)));
  const ids = options.selectors.filter((s) => !files.includes(s));
  const selected = ids.length === 0 && files.length > 0 ? [] : ids.length === 0 ? fromConfig : ids.map((id) => byId(fromConfig, id));
  const extra: LoadedSpec[] = [];
  for (const path of files) {
    if (!existsSync(path)) throw new KitError('usage', `spec file not found: ${path}`, { fix: 'check the path' });
    extra.push(...(await loadSpecFile(path)));
  }
  return [...selected, ...extra];
}

function byId(specs: readonly LoadedSpec[], id: string): LoadedSpec {
  const found = specs.find((spec) => spec.rule.id === id);
  if (!found) throw new KitError('usage', `unknown rule id "${id}"`, { fix: `rules in the configuration: ${specs.map((s) => s.rule.id).join(', ')}` });
  return found;
}
