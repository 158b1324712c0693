import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describeSettings, settingsFromUrl } from '../../db/connection.ts';
import { KitError } from '../../errors/kit-error.ts';
import { noteLine, type ConfigFormat } from '../../init/config-writer.ts';
import { catalogOfDatabase, catalogOfSchema, checkWritable, INIT_FILES, writeInitConfig } from '../../init/init.ts';
import { readMigrations, readSources } from '../../source/read-source.ts';
import { schemaFiles } from '../../source/schema-source.ts';
import { displayPath } from '../../spec/loader.ts';
import type { CommandContext } from '../context.ts';
import { providerOf, type ServerArgs } from '../server-options.ts';
import { schemaWithoutExtensions } from '../../source/lenient-schema.ts';

/** Arguments of `pgconform init`. */
/** With --schema, the server options name the server the sandbox is made on; without, --url is the database whose catalog is read (read-only). */
export interface InitArgs extends ServerArgs {
  /** Schema files or folders (or <git-rev>:<path>), built in a sandbox. */
  schema?: string[];
  /** A migrations folder (any layout read-source knows), built in a sandbox. */
  migrations?: string;
  /** Extensions the server lacks: left out, with what fails without them (see lenient-schema.ts). */
  withoutExtension?: string[];
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
  if (args.schema?.length && args.migrations !== undefined) {
    throw new KitError('usage', '--schema and --migrations name the schema in different ways: give only one', { fix: 'one of --schema, --migrations' });
  }
  const sources = args.migrations !== undefined ? [args.migrations] : args.schema;
  if (sources?.length) {
    const onLayout = (line: string) => context.err(`pgconform: ${line}`);
    const files = args.migrations !== undefined ? await readMigrations(args.migrations, { onLayout }) : await readSources(sources, { onLayout });
    const provider = providerOf(args, context);
    const server = await provider.start();
    try {
      const without = args.withoutExtension?.filter(Boolean) ?? [];
      catalog = await catalogOfSchema(server, without.length > 0 ? schemaWithoutExtensions(files, without, onLayout) : schemaFiles(files));
    } finally {
      await server.stop();
    }
    from = sources.join(', ');
    // Paths on disk become the configuration's schema, relative to it; a git revision is not a path run can read.
    const onDisk = sources.filter((source) => existsSync(resolve(source)));
    schema = onDisk.length === sources.length ? onDisk.map((source) => configPath(out, source)) : undefined;
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
  if (working.length > 0) context.out(`next: read it, then pgconform run --config ${displayPath(out)}${schema ? '' : ' --schema-from <url> (or --schema <files>)'}`);
  else context.out('no working rule yet: finish a draft before pgconform run');
  return 0;
}

/** A schema path as the configuration names it: relative to the configuration file, or absolute when that climbs far. */
function configPath(config: string, source: string): string {
  const path = relative(dirname(config), resolve(source)) || '.';
  return path.startsWith('../../../') ? resolve(source) : path;
}
