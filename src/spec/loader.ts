import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import Module, { register } from 'node:module';
import { basename, delimiter, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Rule } from '../rules/rule.ts';
import { KitError } from '../errors/kit-error.ts';

/** A rule loaded from a spec file, with its paths resolved. */
export interface LoadedSpec {
  readonly rule: Rule;
  /** The spec file it came from. */
  readonly file: string;
  /** The schema files the spec names (absolute), when it names any. */
  readonly defaultSchema?: readonly string[];
  /** The spec's fixtures folder (absolute), when it names one. */
  readonly fixtures?: string;
}

const SPEC_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

/** The spec files in a folder, sorted. */
export async function discoverSpecFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) throw new KitError('usage', `no specs folder at ${dir}`, { fix: 'pass spec files or rule ids, or run from the project root' });
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && SPEC_EXTENSIONS.has(extname(e.name)) && !e.name.endsWith('.d.ts'))
    .map((e) => resolve(dir, e.name))
    .sort();
}

/** Loads every rule a spec file exports (default export: a rule or an array of rules). */
export async function loadSpecFile(file: string): Promise<LoadedSpec[]> {
  const where = displayPath(file);
  let module: Record<string, unknown>;
  try {
    module = (await importUserModule(resolve(file))) as Record<string, unknown>;
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new KitError('spec', `the spec does not load: ${message}`, { where, fix: 'fix the spec file so that it compiles and runs', cause: error });
  }
  const exported = module.default ?? module.rules ?? module.rule;
  const rules = (Array.isArray(exported) ? exported : [exported]).filter(isRule);
  if (rules.length === 0) {
    throw new KitError('spec', 'the spec exports no rule', {
      where,
      fix: 'export default a rule built with a template, e.g. export default scopedUnique({ … })',
    });
  }
  const base = dirname(resolve(file));
  return rules.map((rule) => ({
    rule,
    file: resolve(file),
    defaultSchema: rule.defaultSchema?.map((p) => resolve(base, p)),
    fixtures: rule.fixtures ? resolve(base, rule.fixtures) : undefined,
  }));
}

/**
 * Resolves what the user asked to run: spec file paths, or rule ids looked up in the specs folder.
 * No selector means every spec. An unknown id is a usage error that lists the known ones.
 */
export async function loadSpecs(selectors: readonly string[], specsDir: string): Promise<LoadedSpec[]> {
  const byPath = selectors.filter((s) => existsSync(s) || SPEC_EXTENSIONS.has(extname(s)));
  const byId = selectors.filter((s) => !byPath.includes(s));
  const loaded: LoadedSpec[] = [];
  for (const file of byPath) {
    if (!existsSync(file)) throw new KitError('usage', `spec file not found: ${file}`, { fix: 'check the path' });
    loaded.push(...(await loadSpecFile(file)));
  }
  if (byId.length > 0 || selectors.length === 0) {
    const all: LoadedSpec[] = [];
    for (const file of await discoverSpecFiles(specsDir)) all.push(...(await loadSpecFile(file)));
    if (selectors.length === 0) return all;
    for (const id of byId) {
      const found = all.filter((spec) => spec.rule.id === id);
      if (found.length === 0) {
        throw new KitError('usage', `unknown rule id "${id}"`, {
          fix: `known ids: ${all.map((s) => s.rule.id).join(', ')} (pgconform list)`,
        });
      }
      loaded.push(...found);
    }
  }
  const seen = new Set<string>();
  for (const spec of loaded) {
    if (seen.has(spec.rule.id)) throw new KitError('spec', `two specs define rule "${spec.rule.id}"`, { where: displayPath(spec.file) });
    seen.add(spec.rule.id);
  }
  return loaded;
}

const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

/**
 * Imports a user's spec or configuration module. Run from dist/, the kit is plain JavaScript: a TypeScript file
 * registers tsx's loader, once and only then (run from its .ts sources, a TypeScript loader is already in place).
 * A .ts file in a "type": "commonjs" project is compiled to CommonJS and reaches the kit through require(esm).
 */
export async function importUserModule(path: string): Promise<unknown> {
  if (!import.meta.url.endsWith('.ts')) {
    resolveKitAnywhere();
    if (TYPESCRIPT_EXTENSIONS.has(extname(path))) await registerTypeScript();
  }
  const url = pathToFileURL(path).href;
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    // A .ts file outside any package (no package.json: a vendor's folder) is neither ESM nor CommonJS for sure, and
    // Node refuses the loop of requiring it as an ES module; tsx's tsImport loads it on its own.
    if (!/require\(\) ES Module .* in a cycle/.test((error as Error).message)) throw error;
    const { tsImport } = await import('tsx/esm/api');
    module = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  // A module compiled to CommonJS arrives as { default: module.exports }, its ES exports one level down.
  const exports = module.default as { __esModule?: boolean } | undefined;
  return typeof exports === 'object' && exports !== null && exports.__esModule === true ? exports : module;
}

let typeScriptLoader: Promise<unknown> | undefined;
const registerTypeScript = () => (typeScriptLoader ??= import('tsx/esm/api').then(({ register }) => register()));

let kitResolution = false;

/**
 * Lets a user's file import 'pgconform' where the kit is not installed (init's output in a vendor's schema folder):
 * ES imports through a resolution hook, CommonJS requires through NODE_PATH when the kit is itself installed as a package.
 */
function resolveKitAnywhere(): void {
  if (kitResolution) return;
  kitResolution = true;
  register(new URL('./kit-resolution.js', import.meta.url), { data: { kitUrl: import.meta.url } });
  const kitRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  if (basename(kitRoot) !== 'pgconform') return;
  process.env.NODE_PATH = [dirname(kitRoot), process.env.NODE_PATH].filter(Boolean).join(delimiter);
  (Module as unknown as { _initPaths(): void })._initPaths();
}

/** Duck-typed so that rules built by another copy of the library still load. */
function isRule(value: unknown): value is Rule {
  const rule = value as Partial<Rule> | undefined;
  return (
    typeof rule === 'object' && rule !== null && typeof rule.id === 'string' && typeof rule.invariant === 'string' &&
    typeof rule.sql === 'function' && (rule.allows === undefined || typeof rule.allows === 'function') && typeof rule.operation === 'object'
  );
}

/** A path relative to the working directory when it is inside it. */
export function displayPath(path: string): string {
  // Labels that are not paths (a migration command, a copied database) are shown as they are.
  if (!isAbsolute(path)) return path;
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel || '.';
}

/** The default specs folder: ./specs of the working directory, else the kit's own. */
export function defaultSpecsDir(): string {
  const local = resolve('specs');
  return existsSync(local) ? local : join(dirname(new URL(import.meta.url).pathname), '..', '..', 'specs');
}
