import type { Argv } from 'yargs';
import { KitError } from '../errors/kit-error.ts';
import { liveSchemaSource, readLiveSchema } from '../source/live-schema.ts';
import { DEFAULT_MIGRATE_TIMEOUT_MS, migrateCommand } from '../source/migrate-command.ts';
import { readMigrations, readSources } from '../source/read-source.ts';
import { schemaFiles, type SchemaSource } from '../source/schema-source.ts';
import type { SchemaFile } from '../db/schema-source.ts';
import { schemaWithoutExtensions } from '../source/lenient-schema.ts';
import type { CommandContext } from './context.ts';

/** Where a command's schema comes from: at most one of these (none: each spec's own schema). */
export interface SchemaArgs {
  schema?: string[];
  /** A folder of .sql migrations applied in name order. */
  migrations?: string;
  /** The user's migration tool, run against the sandbox's template database. */
  migrateCmd?: string;
  /** Seconds the migration command may run. */
  migrateTimeout?: number;
  /** A live database whose schema (only) is copied into the sandbox. */
  schemaFrom?: string;
  /** Extensions the server lacks: their CREATE EXTENSION and what fails without them are left out, each named. */
  withoutExtension?: string[];
}

/** --without-extension: for every command that builds SQL files (run, explain, mutate, and diff's two sides). */
export const withoutExtensionOption = <T>(y: Argv<T>) =>
  y.option('without-extension', { type: 'string', array: true, describe: 'build the SQL files without this extension (repeatable): its CREATE EXTENSION and each statement that then fails are left out and named' });

/** The schema options of the commands that build a sandbox (run, explain, mutate). */
export const schemaOptions = <T>(y: Argv<T>) =>
  withoutExtensionOption(y)
    .option('schema', { type: 'string', array: true, describe: 'schema files or folders applied in order, or <git-rev>:<path> (default: the schema each spec names)' })
    .option('migrations', { type: 'string', describe: 'a migrations folder: numbered .sql files, Flyway, golang-migrate, Prisma or diesel folders, a Rails db folder (structure.sql)' })
    .option('migrate-cmd', { type: 'string', describe: 'your migration tool, run in a shell with DATABASE_URL and PG* pointing at the sandbox, e.g. "npx prisma migrate deploy"' })
    .option('migrate-timeout', { type: 'number', default: 600, describe: 'seconds --migrate-cmd may run' })
    .option('schema-from', { type: 'string', describe: 'copy only the schema of this live database (read, never written): pg_dump when it can, else from the catalog' })
    .check((a) => {
      if (!(a['migrate-timeout'] > 0)) throw new Error('--migrate-timeout must be a positive number of seconds');
      return true;
    });

/** The schema options of parsed arguments. */
export function schemaArgsOf(a: SchemaArgs): SchemaArgs {
  return { schema: a.schema, migrations: a.migrations, migrateCmd: a.migrateCmd, migrateTimeout: a.migrateTimeout, schemaFrom: a.schemaFrom, withoutExtension: a.withoutExtension };
}

/**
 * The schema a command's options name: --schema files and folders, a --migrations folder, a --migrate-cmd, or
 * the schema copied by --schema-from (read now, before any server starts); undefined for each spec's own.
 */
export async function schemaSourceOf(args: SchemaArgs & { debug?: boolean; quiet?: boolean }, context: CommandContext): Promise<SchemaSource | undefined> {
  const given = [
    args.schema?.length ? '--schema' : undefined,
    args.migrations !== undefined ? '--migrations' : undefined,
    args.migrateCmd !== undefined ? '--migrate-cmd' : undefined,
    args.schemaFrom !== undefined ? '--schema-from' : undefined,
  ].filter((flag) => flag !== undefined);
  if (given.length > 1) {
    throw new KitError('usage', `${given.join(' and ')} name the schema in different ways: give only one`, { fix: 'one of --schema, --migrations, --migrate-cmd, --schema-from' });
  }
  // Each folder's migration layout is said once, so a user sees which files built the schema.
  const onLayout = args.quiet ? undefined : (line: string) => context.err(`pgconform: ${line}`);
  const without = args.withoutExtension?.filter(Boolean) ?? [];
  if (without.length > 0 && !args.schema?.length && args.migrations === undefined) {
    throw new KitError('usage', '--without-extension applies to SQL files: give --schema or --migrations', { fix: 'or install the extension on the server' });
  }
  const source = (files: readonly SchemaFile[]) => filesSource(files, without, context);
  if (args.schema?.length) return source(await readSources(args.schema, { onLayout }));
  if (args.migrations !== undefined) return source(await readMigrations(args.migrations, { onLayout }));
  if (args.migrateCmd !== undefined) {
    if (args.migrateCmd.trim() === '') throw new KitError('usage', '--migrate-cmd is empty', { fix: 'e.g. --migrate-cmd "npx prisma migrate deploy"' });
    return migrateCommand(args.migrateCmd, {
      timeoutMs: args.migrateTimeout ? args.migrateTimeout * 1000 : DEFAULT_MIGRATE_TIMEOUT_MS,
      verbose: args.debug ?? false,
      show: (line) => context.err(`  | ${line}`),
    });
  }
  if (args.schemaFrom !== undefined) {
    const live = await readLiveSchema(args.schemaFrom);
    if (!args.quiet) context.err(`pgconform: ${live.note}`);
    return liveSchemaSource(live);
  }
  return undefined;
}

/**
 * SQL files as a schema source; without the named extensions, the statements that fail for want of them are
 * left out and named, each once however many sandboxes are built from the files (diff builds one per level).
 */
export function filesSource(files: readonly SchemaFile[], withoutExtension: readonly string[] | undefined, context: CommandContext): SchemaSource {
  const without = withoutExtension?.filter(Boolean) ?? [];
  if (without.length === 0) return schemaFiles(files);
  const said = new Set<string>();
  return schemaWithoutExtensions(files, without, (line) => {
    if (said.has(line)) return;
    said.add(line);
    context.err(`pgconform: ${line}`);
  });
}
