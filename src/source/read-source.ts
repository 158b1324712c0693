import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readSchemaFiles, type SchemaFile } from '../db/schema-source.ts';
import { KitError } from '../errors/kit-error.ts';
import { describePlan, planMigrations, type MigrationPlan } from './migration-layout.ts';

const run = promisify(execFile);

/** Where a source is read from, and who hears which migration layout a folder was read as. */
export interface SourceOptions {
  readonly cwd?: string;
  /** Told, for each folder, its layout and how many files it applies (see migration-layout.ts). */
  readonly onLayout?: (line: string) => void;
}

/**
 * Reads a schema "source": a .sql file, a migrations folder in any layout migration-layout.ts knows
 * (numbered files, Flyway, golang-migrate, Prisma, diesel, a Rails db folder), or `<git-rev>:<path>`
 * naming either of those in a git revision. A path that exists on disk wins over the git reading, so a
 * file name with a colon in it still works.
 */
export async function readSource(source: string, options: SourceOptions = {}): Promise<SchemaFile[]> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, source);
  if (existsSync(path)) return statSync(path).isDirectory() ? readFolder(path, source, options) : readSchemaFiles([path]);
  const revision = /^([^:]+):(.+)$/.exec(source);
  if (!revision) {
    throw new KitError('usage', `no schema file or folder at ${source}`, { fix: 'give a .sql file, a folder of .sql files, or <git-rev>:<path>' });
  }
  return readFromGit(revision[1]!, revision[2]!, cwd, source, options);
}

/** Several sources read in order into one list of files, as `--schema a.sql db/migrations HEAD:db/views.sql` gives them. */
export async function readSources(sources: readonly string[], options: SourceOptions = {}): Promise<SchemaFile[]> {
  const files: SchemaFile[] = [];
  for (const source of sources) files.push(...(await readSource(source, options)));
  return files;
}

/** The .sql files of a migrations folder (on disk or `<git-rev>:<path>`) its layout applies, in its order. */
export async function readMigrations(folder: string, options: SourceOptions = {}): Promise<SchemaFile[]> {
  const path = resolve(options.cwd ?? process.cwd(), folder);
  if (existsSync(path) && !statSync(path).isDirectory()) {
    throw new KitError('usage', `--migrations wants a folder of .sql files, and ${folder} is a file`, { fix: 'give the folder, or pass the file with --schema' });
  }
  return readSource(folder, options);
}

/** The files of a folder its migration layout applies, in its order; symlinks are followed. */
async function readFolder(folder: string, source: string, options: SourceOptions): Promise<SchemaFile[]> {
  const files = await migrationFiles(folder, (plan) => options.onLayout?.(describePlan(source, plan)));
  if (!files) throw new KitError('usage', `no .sql files in ${folder}`, { fix: 'point at a schema file or a folder of .sql migrations' });
  return readSchemaFiles(files);
}

/** The paths of the files a migrations folder's layout applies, in order; undefined when it holds no .sql file. */
export async function migrationFiles(folder: string, onPlan?: (plan: MigrationPlan) => void): Promise<string[] | undefined> {
  const plan = planMigrations(await filesUnder(folder, 2));
  if (!plan) return undefined;
  onPlan?.(plan);
  return plan.files.map((name) => join(folder, ...name.split('/')));
}

/** Relative paths of the files under a folder, `depth` levels down at most, symlinks followed. */
async function filesUnder(folder: string, depth: number, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    const kind = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : entry;
    if (kind?.isFile()) found.push(`${prefix}${entry.name}`);
    else if (kind?.isDirectory() && depth > 1) found.push(...(await filesUnder(path, depth - 1, `${prefix}${entry.name}/`)));
  }
  return found;
}

/** A file or folder as it was in a git revision; paths are git's (from the repository root, or ./ for the working directory). */
async function readFromGit(revision: string, path: string, cwd: string, source: string, options: SourceOptions): Promise<SchemaFile[]> {
  const object = `${revision}:${path}`;
  const type = await git(['cat-file', '-t', object], cwd, source);
  if (type.trim() === 'blob') return [{ path: object, sql: await git(['show', object], cwd, source) }];
  if (type.trim() !== 'tree') throw new KitError('usage', `${source} is a git ${type.trim()}, not a file or folder`);
  const listing = await git(['ls-tree', '-r', '--name-only', object], cwd, source);
  const plan = planMigrations(listing.split('\n').filter((name) => name !== '' && name.split('/').length <= 2));
  if (!plan) throw new KitError('usage', `no .sql files in ${source}`, { fix: 'point at a schema file or a folder of .sql migrations' });
  options.onLayout?.(describePlan(source, plan));
  const prefix = object.endsWith('/') ? object : `${object}/`;
  return Promise.all(plan.files.map(async (name) => ({ path: `${prefix}${name}`, sql: await git(['show', `${prefix}${name}`], cwd, source) })));
}

async function git(args: string[], cwd: string, source: string): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? (error as Error).message).trim().split('\n')[0];
    throw new KitError('usage', `cannot read ${source} from git: ${stderr}`, { fix: 'give a .sql file, a folder of .sql files, or <git-rev>:<path> of a committed file' });
  }
}
