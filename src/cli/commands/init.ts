import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describeSettings, settingsFromUrl } from '../../db/connection.ts';
import { KitError } from '../../errors/kit-error.ts';
import { noteLine, type ConfigFormat } from '../../init/config-writer.ts';
import { catalogOfDatabase, catalogOfSchema, checkWritable, INIT_FILES, writeInitConfig } from '../../init/init.ts';
import { displayPath } from '../../spec/loader.ts';
import type { CommandContext } from '../context.ts';
import { providerOf, type ServerArgs } from '../server-options.ts';
import { schemaSourceOf } from '../schema-options.ts';

/** Arguments of `pgconform init`. */
/** With --schema, the server options name the server the sandbox is made on; without, --url is the database whose catalog is read (read-only). */
export interface InitArgs extends ServerArgs {
  /** Schema files or folders (or <git-rev>:<path>), built in a sandbox. */
  schema?: string[];
  /** A migrations folder (any layout read-source knows), built in a sandbox. */
  migrations?: string;
  /** Extensions the server lacks: left out, with what fails without them (see lenient-schema.ts). */
  withoutExtension?: string[];
  /** The user's migration tool, run against the sandbox's template database. */
  migrateCmd?: string;
  /** Seconds the migration command may run. */
  migrateTimeout?: number;
  format: ConfigFormat;
  out?: string;
  force?: boolean;
}

/** pgconform init: a starting configuration with a rule for what the schema enforces. */
export async function initCommand(args: InitArgs, context: CommandContext): Promise<number> {
  const out = resolve(args.out ?? INIT_FILES[args.format]);
  checkWritable(out, args.force ?? false);
  let catalog;
  let from: string;
  let schema: string[] | undefined;
  // --schema, --migrations or --migrate-cmd (and --without-extension), read as run reads them.
  const source = await schemaSourceOf({ schema: args.schema, migrations: args.migrations, migrateCmd: args.migrateCmd, migrateTimeout: args.migrateTimeout, withoutExtension: args.withoutExtension, debug: args.debug }, context);
  if (source) {
    const provider = providerOf(args, context);
    const server = await provider.start();
    try {
      catalog = await catalogOfSchema(server, source);
    } finally {
      await server.stop();
    }
    const sources = args.migrations !== undefined ? [args.migrations] : (args.schema ?? []);
    from = sources.length > 0 ? sources.join(', ') : (source.labels[0] ?? 'the schema');
    // Paths on disk become the configuration's schema, relative to it; a git revision or a command is not a path run can read.
    const onDisk = sources.filter((path) => existsSync(resolve(path)));
    schema = sources.length > 0 && onDisk.length === sources.length ? onDisk.map((path) => configPath(out, path)) : undefined;
  } else {
    if (args.docker || args.pgVersion) throw new KitError('usage', '--docker and --pg-version build a --schema, and no --schema was given', { fix: 'add --schema <files>, or read a live database with --url' });
    const url = args.url || process.env.DATABASE_URL;
    if (!url) throw new KitError('usage', 'init needs a schema to read', { fix: 'pass --schema <files…>, or --url postgresql://… of a database to read (read-only)' });
    const settings = settingsFromUrl(url);
    catalog = await catalogOfDatabase(settings);
    from = `the database ${describeSettings(settings)}`;
  }
  const proposal = await writeInitConfig(catalog, { out, format: args.format, force: args.force ?? false, header: { from, schema } });

  const working = proposal.rules.flatMap((rule) => (rule.kind === 'rule' ? [rule] : []));
  const drafts = proposal.rules.flatMap((rule) => (rule.kind === 'draft' ? [rule] : []));
  context.out(`wrote ${displayPath(out)}: ${working.length} rule(s)${drafts.length ? `, ${drafts.length} draft(s) to finish by hand` : ''}, ${proposal.notes.length} note(s)`);
  for (const rule of working) context.out(`  ${rule.binding.template} ${rule.binding.id}: ${rule.binding.source}`);
  for (const draft of drafts) {
    const id = typeof draft.draft.id === 'string' ? draft.draft.id : draft.draft.template;
    context.out(`  draft ${id}${args.format === 'json' ? ' (under "drafts", not run)' : ' (commented out)'}: ${draft.reason}`);
  }
  for (const note of proposal.notes) context.out(`  note: ${noteLine(note)}`);
  const schemaHint = schema ? '' : args.migrateCmd ? ` --migrate-cmd ${JSON.stringify(args.migrateCmd)}` : ' --schema-from <url> (or --schema <files>)';
  if (working.length > 0) context.out(`next: read it, then pgconform run --config ${displayPath(out)}${schemaHint}`);
  else context.out('no working rule yet: finish a draft before pgconform run');
  return 0;
}

/** A schema path as the configuration names it: relative to the configuration file, or absolute when that climbs far. */
function configPath(config: string, source: string): string {
  const path = relative(dirname(config), resolve(source)) || '.';
  return path.startsWith('../../../') ? resolve(source) : path;
}
