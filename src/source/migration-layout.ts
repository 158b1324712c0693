// The layouts migration tools give their folders, recognised from file names alone, so that a folder
// on disk and the same folder in a git revision are read alike. Each layout says which files build the
// schema on the way up, in which order, and which files it leaves out (down migrations, undo scripts).

/** A migration tool's folder layout. */
export type MigrationLayout = 'prisma' | 'diesel' | 'golang-migrate' | 'flyway' | 'rails structure.sql' | 'numbered files';

/** What a folder's layout says to apply. */
export interface MigrationPlan {
  readonly layout: MigrationLayout;
  /** Paths (relative to the folder, `/`-separated) applied in this order. */
  readonly files: readonly string[];
  /** Paths present but not applied on the way up (down migrations, undo scripts, other files of the layout). */
  readonly leftOut: readonly string[];
}

/** The plan for a folder, from the relative paths of its files (and of its subfolders' files); undefined when no .sql file is there. */
export function planMigrations(paths: readonly string[]): MigrationPlan | undefined {
  const top = paths.filter((p) => !p.includes('/') && p.endsWith('.sql'));
  const nested = (name: string) => paths.filter((p) => p.split('/').length === 2 && p.endsWith(`/${name}`));
  const prisma = nested('migration.sql');
  if (prisma.length > 0) return { layout: 'prisma', files: byFolder(prisma), leftOut: [] };
  const diesel = nested('up.sql');
  if (diesel.length > 0) return { layout: 'diesel', files: byFolder(diesel), leftOut: byFolder(nested('down.sql')) };
  const golang = top.filter((p) => GOLANG.test(p));
  if (golang.length > 0) {
    const [ups, downs] = partition(golang, (p) => GOLANG.exec(p)![2] === 'up');
    return { layout: 'golang-migrate', files: ups.sort(byVersion((p) => GOLANG.exec(p)![1]!)), leftOut: [...downs.sort(byVersion((p) => GOLANG.exec(p)![1]!)), ...top.filter((p) => !GOLANG.test(p))] };
  }
  const versioned = top.filter((p) => FLYWAY.test(p));
  if (versioned.length > 0) {
    const repeatable = top.filter((p) => /^R__.+\.sql$/.test(p)).sort(byName);
    const used = new Set([...versioned, ...repeatable]);
    return { layout: 'flyway', files: [...versioned.sort(byVersion((p) => FLYWAY.exec(p)![1]!)), ...repeatable], leftOut: top.filter((p) => !used.has(p)) };
  }
  if (top.includes('structure.sql')) return { layout: 'rails structure.sql', files: ['structure.sql'], leftOut: top.filter((p) => p !== 'structure.sql') };
  if (top.length === 0) return undefined;
  return { layout: 'numbered files', files: [...top].sort(byName), leftOut: [] };
}

/** One line for the user: the layout, how many files it applies and what it leaves out. */
export function describePlan(folder: string, plan: MigrationPlan): string {
  const left = plan.leftOut.length > 0 ? `; left out ${plan.leftOut.length} (${preview(plan.leftOut)})` : '';
  return `${folder}: ${plan.layout} layout, ${plan.files.length} file${plan.files.length === 1 ? '' : 's'} applied${left}`;
}

/** golang-migrate: `000002_create_users.up.sql` beside `000002_create_users.down.sql`. */
const GOLANG = /^(\d+)_.*\.(up|down)\.sql$/;
/** Flyway: `V2__add_users.sql`, `V1.10__x.sql`, `V1_2__x.sql` (the version's parts split by `.` or `_`). */
const FLYWAY = /^V(\d+(?:[._]\d+)*)__.+\.sql$/;

/** Name order with numbers compared as numbers (2_x before 10_x), as migration tools number their files. */
function byName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Files in subfolders, by their folder's name (a timestamp or a date comes first in it). */
function byFolder(paths: readonly string[]): string[] {
  return [...paths].sort(byName);
}

/** Order by a version of numeric parts (1.10 after 1.9), then by name. */
function byVersion(version: (path: string) => string) {
  const parts = (path: string) => version(path).split(/[._]/).map((part) => BigInt(part));
  return (a: string, b: string): number => {
    const [x, y] = [parts(a), parts(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const [p, q] = [x[i] ?? 0n, y[i] ?? 0n];
      if (p !== q) return p < q ? -1 : 1;
    }
    return byName(a, b);
  };
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}

function preview(paths: readonly string[]): string {
  return paths.length <= 2 ? paths.join(', ') : `${paths.slice(0, 2).join(', ')} +${paths.length - 2} more`;
}
