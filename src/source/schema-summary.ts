import { dirname } from 'node:path';

// A schema can be hundreds of migration files: one line of output names it by its folder or its first
// file, never by every path (reports keep the full list in report.json).

/** The schema's files for a line of text: all of them when few, else their common folder or the first and a count. */
export function schemaSummary(paths: readonly string[]): string {
  if (paths.length <= 2) return paths.join(', ');
  const folder = commonFolder(paths);
  return folder ? `${folder}/ (${paths.length} files)` : `${paths[0]} +${paths.length - 1} more`;
}

/** The schema as command-line arguments that read it again: its common folder when it has many files, else every file. */
export function schemaArguments(paths: readonly string[]): string {
  const folder = paths.length > 2 ? commonFolder(paths) : undefined;
  return folder ?? paths.join(' ');
}

/** The folder every path lies in (at most one level of subfolders down: Prisma's and diesel's layouts), if there is one. */
function commonFolder(paths: readonly string[]): string | undefined {
  const parents = new Set(paths.map((path) => dirname(path)));
  if (parents.size === 1) return [...parents][0];
  const grandparents = new Set([...parents].map((parent) => dirname(parent)));
  return grandparents.size === 1 && [...grandparents][0] !== '.' ? [...grandparents][0] : undefined;
}
