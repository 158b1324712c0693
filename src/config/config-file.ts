import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { z } from 'zod';
import { KitError } from '../errors/kit-error.ts';
import type { Rule } from '../rules/rule.ts';
import { displayPath, importUserModule } from '../spec/loader.ts';
import { migrationFiles } from '../source/read-source.ts';
import { bindRule, ruleBindingSchema, type RuleBinding } from './rule-binding.ts';

/** A project's pgconform configuration: the rules bound to its own schema, and where that schema is. */
export interface PgconformConfig {
  /** Schema files, or one folder of .sql migrations, relative to the configuration file (run's default --schema). */
  readonly schema?: string | readonly string[];
  /** Rule templates bound to the project's names and encodings, or rules built in TypeScript with the templates. */
  readonly rules: readonly (RuleBinding | Rule)[];
}

/** A configuration, loaded: its rules built and its schema paths resolved. */
export interface LoadedConfig {
  readonly file: string;
  readonly rules: readonly Rule[];
  /** Absolute schema file paths, in order (a folder is expanded to its .sql files in name order). */
  readonly schema?: readonly string[];
  /** What loading left aside, for the user to read (drafts that are not run). */
  readonly notes: readonly string[];
}

/** Types a TypeScript configuration: `export default defineConfig({ rules: [...] })`. */
export function defineConfig(config: PgconformConfig): PgconformConfig {
  return config;
}

/** File names searched in the working directory, in this order. */
export const CONFIG_FILES = ['pgconform.config.ts', 'pgconform.config.mts', 'pgconform.config.js', 'pgconform.config.mjs', 'pgconform.config.json'];

/** The configuration file of the working directory, if there is one. */
export function findConfig(cwd = process.cwd()): string | undefined {
  return CONFIG_FILES.map((name) => join(cwd, name)).find((path) => existsSync(path));
}

/**
 * Rules `init` could only sketch (JSON has no comments): each with why it is not proposed as it is. They are
 * not run and not validated; the loader notes how many there are. Finish one, then move it to `rules`.
 */
const draftSchema = z.strictObject({ reason: z.string(), draft: z.record(z.string(), z.unknown()) });

const configSchema = z.strictObject({
  $schema: z.string().optional(),
  schema: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  rules: z.array(z.unknown()).min(1, 'list at least one rule'),
  drafts: z.array(draftSchema).optional(),
});

/** Loads and validates a configuration file; any problem is one line naming the file and the key (exit 2). */
export async function loadConfig(file: string): Promise<LoadedConfig> {
  const path = resolve(file);
  const where = displayPath(path);
  if (!existsSync(path)) throw new KitError('config', `no configuration file at ${where}`, { fix: `create one (pgconform init writes a starting point) or drop --config` });
  const raw = extname(path) === '.json' ? await readJson(path, where) : await importConfig(path, where);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw configError(parsed.error, where, []);
  const rules = parsed.data.rules.map((entry, i) => ruleOf(entry, i, where));
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.id)) throw new KitError('config', `two rules have the id "${rule.id}"`, { where, fix: 'give every rule its own id' });
    seen.add(rule.id);
  }
  const schema = parsed.data.schema === undefined ? undefined : await schemaFiles(parsed.data.schema, dirname(path), where);
  const drafts = parsed.data.drafts ?? [];
  const notes = drafts.length
    ? [`${where}: ${drafts.length} draft(s) under "drafts" are not run (${drafts.map((d) => String(d.draft.id ?? '?')).join(', ')}); finish one and move it to "rules" to run it`]
    : [];
  return { file: path, rules, schema, notes };
}

function ruleOf(entry: unknown, index: number, where: string): Rule {
  if (isBuiltRule(entry)) return entry;
  const parsed = ruleBindingSchema.safeParse(entry);
  if (!parsed.success) throw configError(parsed.error, where, ['rules', index], entry);
  return bindRule(parsed.data);
}

/** A rule already built by a template (TypeScript configurations). */
function isBuiltRule(value: unknown): value is Rule {
  const rule = value as Partial<Rule> | undefined;
  return typeof rule === 'object' && rule !== null && typeof rule.invariant === 'string' && typeof rule.sql === 'function';
}

/** The first zod issue as one line: the rule, the key, what was expected. */
function configError(error: z.ZodError, where: string, prefix: (string | number)[], entry?: unknown): KitError {
  const issue = error.issues[0]!;
  const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  const key = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${p}`)).join('');
  const id = typeof (entry as { id?: unknown } | undefined)?.id === 'string' ? `rule ${(entry as { id: string }).id}, ` : '';
  const message = issue.code === 'invalid_union' && issue.path.at(-1) === 'template' ? 'unknown template' : issue.message;
  return new KitError('config', `${id}key ${key || '(top level)'}: ${message}`, {
    where,
    fix: issue.code === 'unrecognized_keys' ? `remove ${issue.keys.join(', ')} (a misspelt key?)` : 'see "Configuration" in the README',
  });
}

async function readJson(path: string, where: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    const offset = errorOffset(text, (error as Error).message);
    const line = offset === undefined ? undefined : text.slice(0, offset).split('\n').length;
    throw new KitError('config', `not valid JSON: ${(error as Error).message.split('\n')[0]}`, { where: line ? `${where}:${line}` : where, fix: 'fix the JSON syntax' });
  }
}

/** Where JSON.parse stopped: Node gives a position for some errors and only the text around it for others. */
function errorOffset(text: string, message: string): number | undefined {
  const position = /position (\d+)/.exec(message);
  if (position) return Number(position[1]);
  const context = /\.\.\."(.+?)"\.\.\. is not valid JSON/.exec(message) ?? /, "(.+)" is not valid JSON/.exec(message);
  const at = context ? text.indexOf(context[1]!) : -1;
  return at >= 0 ? at : undefined;
}

async function importConfig(path: string, where: string): Promise<unknown> {
  try {
    const exported = ((await importUserModule(path)) as { default?: unknown }).default;
    // A module compiled as CommonJS arrives wrapped once more: { default: { default: config } }.
    const inner = exported as { default?: unknown; rules?: unknown } | undefined;
    return inner && typeof inner === 'object' && inner.rules === undefined && inner.default !== undefined ? inner.default : exported;
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new KitError('config', `the configuration does not load: ${message}`, { where, fix: 'fix the file so that it compiles and runs', cause: error });
  }
}

async function schemaFiles(schema: string | readonly string[], base: string, where: string): Promise<string[]> {
  const paths = (typeof schema === 'string' ? [schema] : schema).map((p) => resolve(base, p));
  const files: string[] = [];
  for (const path of paths) {
    if (!existsSync(path)) throw new KitError('config', `key schema: no file or folder at ${displayPath(path)}`, { where, fix: 'paths are relative to the configuration file' });
    if (!statSync(path).isDirectory()) {
      files.push(path);
      continue;
    }
    const found = await migrationFiles(path);
    if (!found) throw new KitError('config', `key schema: no .sql files in ${displayPath(path)}`, { where });
    files.push(...found);
  }
  return files;
}
