import type { StartedServer } from '../../db/provider.ts';
import type { SchemaFile } from '../../db/schema-source.ts';
import { diffSchemas, labelsOf, type SchemaDiff } from '../../diff/diff-schemas.ts';
import { diffLines } from '../../diff/diff-text.ts';
import { DEFAULT_SHAPE, type IsolationLevel } from '../../engine/scenario.ts';
import { ExitCode, isKitError, KitError } from '../../errors/kit-error.ts';
import { checkMigration, type MigrationCheck } from '../../migration/migration-check.ts';
import { migrationLines } from '../../migration/migration-text.ts';
import { readSource } from '../../source/read-source.ts';
import type { LoadedSpec } from '../../spec/loader.ts';
import type { CommandContext } from '../context.ts';
import { handleInterrupts } from '../interrupt.ts';
import { selectRules, type RuleSelectionArgs } from '../rule-selection.ts';
import { VERSION } from '../version.ts';
import { providerOf, type ServerArgs } from '../server-options.ts';
import { diffDocument } from '../../diff/diff-document.ts';
import { diffRenderings } from '../../diff/diff-reports.ts';
import { resolve } from 'node:path';
import { chosenFormats, writeDocument } from '../../report/document-output.ts';
import { filesSource } from '../schema-options.ts';
import type { SchemaSource } from '../../source/schema-source.ts';

/** Arguments of `pgconform diff`. */
export interface DiffArgs extends RuleSelectionArgs, ServerArgs {
  before: string;
  after?: string;
  migration?: string;
  down?: string;
  runs: number;
  seed?: number;
  /** One or several levels: each rule is compared at each. */
  isolation: IsolationLevel | readonly IsolationLevel[];
  sessions: number;
  json?: boolean;
  quiet?: boolean;
  /** Where the file formats are written (diff.json, diff.md, junit.xml); without it, the one --format goes to standard output. */
  reportDir?: string;
  /** console, json, junit, markdown (default: console, and every file with --report-dir). */
  format?: string[];
  /** Extensions both sides are built without (see lenient-schema.ts). */
  withoutExtension?: string[];
}

/**
 * pgconform diff: how the after schema answers the rules' operations compared with the before schema
 * (exit 1 when a rule fails that held, or an operation the rule allows is now rejected), and, with
 * --migration, whether the migration is safe on data the before schema holds (exit 1 when it fails,
 * loses rows, leaves rows that break the rule, or its down migration does not restore the behaviour).
 */
export async function diffCommand(args: DiffArgs, context: CommandContext): Promise<number> {
  if (!args.after && !args.migration) throw new KitError('usage', 'diff needs --after, --migration, or both', { fix: 'e.g. pgconform diff --before old.sql --after new.sql' });
  if (args.down && !args.migration) throw new KitError('usage', '--down needs --migration', { fix: 'pass the up migration with --migration' });
  const formats = chosenFormats(args.format, args.reportDir);
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 31);
  const onLayout = args.quiet ? undefined : (line: string) => context.err(`pgconform: ${line}`);
  // Each side is any file source: a .sql file, a migrations folder in any layout, <git-rev>:<path>.
  const side = async (source: string): Promise<SchemaSource> => filesSource(await readSource(source, { onLayout }), args.withoutExtension, context);
  const before = await side(args.before);
  const after = args.after ? await side(args.after) : undefined;
  const migration = args.migration ? await readOneFile(args.migration, '--migration') : undefined;
  const down = args.down ? await readOneFile(args.down, '--down') : undefined;
  const specs = await selectRules(args);
  const named = args.specs.length > 0;
  const provider = providerOf(args, context);
  const levels: readonly IsolationLevel[] = typeof args.isolation === 'string' ? [args.isolation] : args.isolation;
  const options = { runs: args.runs, seed, shape: { ...DEFAULT_SHAPE, maxSessions: args.sessions } };
  const progress = (line: string) => (args.quiet ? undefined : context.err(line));
  progress(`pgconform ${VERSION} diff: seed ${seed}, ${args.runs} scenarios per rule, ${levels.join(', ')}, ${provider.name} server`);

  const server = await provider.start();
  const stopOnSignal = handleInterrupts(server, context);
  const diffs: SchemaDiff[] = [];
  const migrations: MigrationCheck[] = [];
  try {
    if (after) {
      for (const isolation of levels) diffs.push(await diffSchemas(server, before, after, { ...options, isolation, specs, named, onRule: (rule) => progress(`comparing ${rule.id} [${isolation}]…`) }));
    }
    if (migration) {
      // Without --after, every rule whose tables the before schema has; with it, the rules the diff compared.
      const compared = diffs[0] ? specs.filter((spec) => diffs[0]!.rules.some((r) => r.ruleId === spec.rule.id)) : specs;
      for (const spec of compared) {
        const check = await checkRuleMigration(server, spec, before, { ...options, isolation: levels[0]!, migration, down }, named);
        if (check) migrations.push(check);
        progress(`migration checked for ${spec.rule.id}`);
      }
    }
  } finally {
    stopOnSignal();
    await server.stop();
  }

  const document = diffDocument({
    version: VERSION,
    seed,
    runs: args.runs,
    isolation: levels,
    before: labelsOf(before),
    ...(after ? { after: labelsOf(after) } : {}),
    diffs,
    migrations,
  });
  // The verdict and one line per rule first; the long evidence after it. --json prints the document as the console text.
  const evidence = [...diffs.flatMap((diff) => diffLines(diff)), ...migrations.flatMap((check) => ['', ...migrationLines(check)])];
  const renderings = diffRenderings(document, evidence);
  const shown = args.json ? { ...renderings, console: { text: renderings.json.text } } : renderings;
  const reportDir = args.reportDir === undefined ? undefined : resolve(args.reportDir);
  for (const file of await writeDocument(formats, reportDir, shown, context.out)) progress(`diff report: ${file}`);
  if (document.verdict === 'regression' || document.verdict === 'unsafe-migration') return ExitCode.RuleFailed;
  // A gate that compared nothing proves nothing: every rule was skipped (its tables or columns are not in both schemas).
  if (document.verdict === 'nothing-compared') {
    context.err(`pgconform: diff compared no rule (${document.skipped.length || specs.length} skipped: their tables or columns are not in both schemas) (fix: check --before and --after, or name the rules to compare)`);
    return ExitCode.BadInput;
  }
  return ExitCode.Pass;
}

/** The migration check of one rule; a rule whose tables the schema lacks is skipped unless the user named it. */
async function checkRuleMigration(
  server: StartedServer,
  spec: LoadedSpec,
  before: SchemaSource,
  options: Parameters<typeof checkMigration>[3],
  named: boolean,
): Promise<MigrationCheck | undefined> {
  try {
    return await checkMigration(server, spec.rule, before, options);
  } catch (error) {
    if (!named && isKitError(error) && error.kind === 'schema') return undefined;
    throw error;
  }
}

/** A migration is one file, applied in one transaction. */
async function readOneFile(source: string, option: string): Promise<SchemaFile> {
  const files = await readSource(source);
  if (files.length !== 1) throw new KitError('usage', `${option} takes one .sql file, got ${files.length} from ${source}`, { fix: 'name the migration file itself' });
  return files[0]!;
}

