import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readSchemaFiles, type SchemaFile } from '../db/schema-source.ts';
import { KitError } from '../errors/kit-error.ts';

const run = promisify(execFile);

/**
 * Reads a schema "source": a .sql file, a folder whose .sql files are applied in name order (a
 * migrations folder), or `<git-rev>:<path>` naming either of those in a git revision. A path that
 * exists on disk wins over the git reading, so a file name with a colon in it still works.
 */
export async function readSource(source: string, options: { cwd?: string } = {}): Promise<SchemaFile[]> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, source);
  if (existsSync(path)) return statSync(path).isDirectory() ? readFolder(path) : readSchemaFiles([path]);
  const revision = /^([^:]+):(.+)$/.exec(source);
  if (!revision) {
    throw new KitError('usage', `no schema file or folder at ${source}`, { fix: 'give a .sql file, a folder of .sql files, or <git-rev>:<path>' });
  }
  return readFromGit(revision[1]!, revision[2]!, cwd, source);
}

/** Several sources read in order into one list of files, as `--schema a.sql db/migrations HEAD:db/views.sql` gives them. */
export async function readSources(sources: readonly string[], options: { cwd?: string } = {}): Promise<SchemaFile[]> {
  const files: SchemaFile[] = [];
  for (const source of sources) files.push(...(await readSource(source, options)));
  return files;
}

/** The .sql files of a migrations folder (on disk or `<git-rev>:<path>`), in name order with numbers compared as numbers. */
export async function readMigrations(folder: string, options: { cwd?: string } = {}): Promise<SchemaFile[]> {
  const path = resolve(options.cwd ?? process.cwd(), folder);
  if (existsSync(path) && !statSync(path).isDirectory()) {
    throw new KitError('usage', `--migrations wants a folder of .sql files, and ${folder} is a file`, { fix: 'give the folder, or pass the file with --schema' });
  }
  return readSource(folder, options);
}

/** The .sql files of a folder, in name order (migration tools number their files). */
async function readFolder(folder: string): Promise<SchemaFile[]> {
  const names = (await readdir(folder, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && entry.name.endsWith('.sql'))
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (names.length === 0) throw new KitError('usage', `no .sql files in ${folder}`, { fix: 'point at a schema file or a folder of .sql migrations' });
  return readSchemaFiles(names.map((name) => join(folder, name)));
}

/** A file or folder as it was in a git revision; paths are git's (from the repository root, or ./ for the working directory). */
async function readFromGit(revision: string, path: string, cwd: string, source: string): Promise<SchemaFile[]> {
  const object = `${revision}:${path}`;
  const type = await git(['cat-file', '-t', object], cwd, source);
  if (type.trim() === 'blob') return [{ path: object, sql: await git(['show', object], cwd, source) }];
  if (type.trim() !== 'tree') throw new KitError('usage', `${source} is a git ${type.trim()}, not a file or folder`);
  const listing = await git(['ls-tree', '--name-only', object], cwd, source);
  const names = listing
    .split('\n')
    .filter((name) => name.endsWith('.sql'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (names.length === 0) throw new KitError('usage', `no .sql files in ${source}`, { fix: 'point at a schema file or a folder of .sql migrations' });
  const prefix = object.endsWith('/') ? object : `${object}/`;
  return Promise.all(names.map(async (name) => ({ path: `${prefix}${name}`, sql: await git(['show', `${prefix}${name}`], cwd, source) })));
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
