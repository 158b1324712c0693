import type { Argv } from 'yargs';
import type { IsolationLevel } from '../engine/scenario.ts';
import { ExitCode, isKitError, KitError } from '../errors/kit-error.ts';
import type { CommandContext } from './context.ts';
import { VERSION } from './version.ts';

/** The process's own streams. */
const processOutput: CommandContext = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

// What the commands' options show and share is loaded only when a command is named, and each command's module
// only when it runs: --version and --help start without the engine, the driver or the reporters.
let DEFAULT_RUNS!: number;
let ISOLATION_LEVELS!: typeof import('../engine/scenario.ts').ISOLATION_LEVELS;
let EXPLAIN_RUNS!: number;
let REPORTERS!: typeof import('../report/registry.ts').REPORTERS;
let DOCUMENT_FORMATS!: typeof import('../report/document-output.ts').DOCUMENT_FORMATS;
let schemaOptions!: typeof import('./schema-options.ts').schemaOptions;
let withoutExtensionOption!: typeof import('./schema-options.ts').withoutExtensionOption;
let schemaArgsOf!: typeof import('./schema-options.ts').schemaArgsOf;
let serverOptions!: typeof import('./server-options.ts').serverOptions;
let redactUrl: (line: string) => string = (line) => line;

async function loadOptionModules(): Promise<void> {
  const [ruleCheck, scenario, explanation, registry, documentOutput, schema, server, connection] = await Promise.all([
    import('../engine/rule-check.ts'),
    import('../engine/scenario.ts'),
    import('../explain/explanation.ts'),
    import('../report/registry.ts'),
    import('../report/document-output.ts'),
    import('./schema-options.ts'),
    import('./server-options.ts'),
    import('../db/connection.ts'),
  ]);
  ({ DEFAULT_RUNS } = ruleCheck);
  ({ ISOLATION_LEVELS } = scenario);
  ({ EXPLAIN_RUNS } = explanation);
  ({ REPORTERS } = registry);
  ({ DOCUMENT_FORMATS } = documentOutput);
  ({ schemaOptions, schemaArgsOf, withoutExtensionOption } = schema);
  ({ serverOptions } = server);
  ({ redactUrl } = connection);
}

/** Every command, in the order --help lists them: named when none is given. */
export const COMMANDS = ['run', 'merge', 'list', 'audit', 'init', 'replay', 'diff', 'explain', 'mutate'] as const;

/** How hard a command searches: the options run and diff share. */
const searchOptions = <T>(y: Argv<T>) =>
  y
    .option('runs', { type: 'number', default: DEFAULT_RUNS, describe: 'scenarios per rule and isolation level' })
    .option('seed', { type: 'number', describe: 'fast-check seed (random by default, always printed)' })
    .option('sessions', { type: 'number', default: 4, describe: 'most concurrent sessions in a scenario (1-8)' });

/** --format, as run, merge, diff and mutate take it: one or several of `names` (checked by the command, as a usage error). */
const formatOption = <T>(y: Argv<T>, names: readonly string[], where: string) =>
  y.option('format', { type: 'string', array: true, describe: `${names.join(', ')} (repeatable)${where}` });

function checkSearchOptions(a: { runs: number; sessions: number; seed?: number }): void {
  positiveInteger('--runs', a.runs);
  positiveInteger('--sessions', a.sessions, 8);
  if (a.seed !== undefined && !Number.isInteger(a.seed)) throw new Error('--seed must be an integer');
}

/** Parses argv, runs the command, and returns the exit code; errors become one line. Has no side effect on import (bin/ starts it). */
export async function main(argv: string[], output: CommandContext = processOutput): Promise<number> {
  const context: CommandContext = { out: (line) => output.out(redactUrl(line)), err: (line) => output.err(redactUrl(line)) };
  // yargs alone takes about as long to load as Node takes to start: --version, asked by scripts and CI logs, skips it.
  if (argv.length === 1 && argv[0] === '--version') {
    context.out(VERSION);
    return ExitCode.Pass;
  }
  let exitCode: number = ExitCode.Pass;
  if (argv.some((arg) => !arg.startsWith('-'))) await loadOptionModules();
  const debug = argv.includes('--debug');
  const { default: yargs } = await import('yargs');
  const cli = yargs(argv)
    .scriptName('pgconform')
    .usage('$0 <command> [options]\n\nProperty-based conformance tests for business rules enforced in PostgreSQL.')
    .version(VERSION)
    .option('debug', { type: 'boolean', describe: 'print stack traces and server logs' })
    .option('specs-dir', { type: 'string', describe: 'folder of spec files (default ./specs)' })
    .option('config', { type: 'string', describe: 'configuration file binding rule templates to your schema (default ./pgconform.config.{ts,json} when present; --no-config to ignore it)' })
    .command(
      'run [specs..]',
      'check rules against a live schema (rule ids or spec files; all specs by default)',
      (y) =>
        formatOption(schemaOptions(searchOptions(serverOptions(y))), Object.keys(REPORTERS), ': the reporters (default all)')
          .positional('specs', { type: 'string', array: true, default: [] as string[] })
          .option('path', { type: 'string', describe: 'fast-check path of a failing run to replay from the seed' })
          .option('isolation', { type: 'string', array: true, choices: ISOLATION_LEVELS, default: ['read-committed'] })
          .option('time-budget', { type: 'number', describe: 'seconds per rule and isolation level before the search stops' })
          .option('stress', { type: 'boolean', describe: 'free concurrency, no scheduler (findings may not replay)' })
          .option('workers', { type: 'number', default: 2, describe: 'rule checks run at once' })
          .option('corpus', {
            type: 'string',
            default: process.env.PGCONFORM_CORPUS ?? '.pgconform/corpus',
            describe: 'folder of failures found before: replayed first, new ones saved (--no-corpus to switch off; also $PGCONFORM_CORPUS)',
          })
          .option('shard', { type: 'string', describe: 'run only the i-th of n shares of the rule × isolation checks, e.g. 2/4 (combine with pgconform merge)' })
          .option('statement-timeout', { type: 'number', default: 5000, describe: 'milliseconds a step may run; one that hits it is an infrastructure error' })
          .option('report-dir', { type: 'string', default: 'reports', describe: 'where reports are written' })
          .option('quiet', { type: 'boolean', describe: 'no progress output' })
          .check((a) => {
            checkSearchOptions(a);
            positiveInteger('--workers', a.workers);
            positiveInteger('--statement-timeout', a['statement-timeout']);
            if (a['time-budget'] !== undefined && !(a['time-budget'] > 0)) throw new Error('--time-budget must be a positive number of seconds');
            return true;
          }),
      async (a) => {
        const { runCommand } = await import('./commands/run.ts');
        exitCode = await runCommand(
          {
            specs: a.specs as string[],
            url: a.url,
            docker: a.docker,
            pgVersion: a.pgVersion,
            ...schemaArgsOf(a),
            runs: a.runs,
            seed: a.seed,
            path: a.path,
            isolation: a.isolation as IsolationLevel[],
            sessions: a.sessions,
            timeBudget: a.timeBudget,
            stress: a.stress,
            workers: a.workers,
            shard: a.shard,
            corpus: a.corpus as string | false,
            statementTimeout: a.statementTimeout,
            reportDir: a.reportDir,
            format: a.format,
            quiet: a.quiet,
            debug: a.debug,
            specsDir: a.specsDir,
            config: a.config as string | false | undefined,
          },
          context,
        );
      },
    )
    .command(
      'merge <reports..>',
      "combine the report.json files of a run's shards into one report (exit code as the whole run)",
      (y) =>
        formatOption(y, Object.keys(REPORTERS), ': the reporters (default all)')
          .positional('reports', { type: 'string', array: true, demandOption: true })
          .option('report-dir', { type: 'string', default: 'reports', describe: 'where the merged reports are written' })
          .option('quiet', { type: 'boolean', describe: 'print nothing but errors' }),
      async (a) => {
        const { mergeCommand } = await import('./commands/merge.ts');
        exitCode = await mergeCommand({ reports: a.reports as string[], reportDir: a.reportDir, format: a.format, quiet: a.quiet }, context);
      },
    )
    .command(
      'list [specs..]',
      'list the rules: id, description, source',
      (y) => y.positional('specs', { type: 'string', array: true, default: [] as string[] }),
      async (a) => {
        const { listCommand } = await import('./commands/list.ts');
        exitCode = await listCommand({ specs: a.specs as string[], specsDir: a.specsDir, config: a.config as string | false | undefined }, context);
      },
    )
    .command(
      'audit [specs..]',
      'read-only: the rows of a live database that break the rules (exit 1 when a rule has offending rows)',
      (y) =>
        y
          .positional('specs', { type: 'string', array: true, default: [] as string[] })
          .option('url', { type: 'string', describe: 'the database to audit, read in one read-only transaction (default $DATABASE_URL)' })
          .option('limit', { type: 'number', default: 10, describe: 'offending rows shown per rule (the count is always complete)' })
          .option('statement-timeout', { type: 'number', default: 30_000, describe: 'milliseconds one invariant query may run' })
          .option('lock-timeout', { type: 'number', default: 2_000, describe: 'milliseconds a query may wait for a lock held by another session' })
          .option('search-path', { type: 'string', describe: "schemas the rules' table names resolve in, comma-separated (default: the role's search_path)" })
          .option('json', { type: 'boolean', describe: 'print the result as JSON (the audit.json document) instead of text' })
          .option('report-dir', { type: 'string', default: 'reports', describe: 'where audit.json is written' })
          .option('report', { type: 'boolean', default: true, describe: 'write audit.json (--no-report: do not)' })
          .check((a) => {
            if (!Number.isInteger(a.limit) || a.limit < 0) throw new Error(`--limit must be a whole number from 0, got ${a.limit}`);
            positiveInteger('--statement-timeout', a['statement-timeout']);
            positiveInteger('--lock-timeout', a['lock-timeout']);
            return true;
          }),
      async (a) => {
        const { auditCommand } = await import('./commands/audit.ts');
        exitCode = await auditCommand(
          {
            specs: a.specs as string[],
            specsDir: a.specsDir,
            config: a.config as string | false | undefined,
            url: a.url,
            limit: a.limit,
            statementTimeout: a.statementTimeout,
            lockTimeout: a.lockTimeout,
            searchPath: a.searchPath,
            json: a.json,
            reportDir: a.reportDir,
            report: a.report,
          },
          context,
        );
      },
    )
    .command(
      'init',
      'write a starting configuration: a rule template instantiated for each unique index, CHECK, cascading foreign key and recognised trigger of a schema',
      (y) =>
        y
          .option('schema', { type: 'string', array: true, describe: 'schema files or folders (or <git-rev>:<path>) built in a sandbox and read' })
          .option('migrations', { type: 'string', describe: 'a migrations folder (numbered files, Flyway, golang-migrate, Prisma, diesel, a Rails db folder) built in a sandbox and read' })
          .option('without-extension', { type: 'string', array: true, describe: 'build the schema without this extension (repeatable): its CREATE EXTENSION and each statement that then fails are left out and named' })
          .option('migrate-cmd', { type: 'string', describe: 'your migration tool, run in a shell with DATABASE_URL and PG* pointing at the sandbox, e.g. "npx prisma migrate deploy"' })
          .option('migrate-timeout', { type: 'number', default: 600, describe: 'seconds --migrate-cmd may run' })
          .option('url', { type: 'string', describe: 'without --schema: the database whose catalog is read (read-only); with --schema: the server the sandbox is made on. Default $DATABASE_URL' })
          .option('docker', { type: 'boolean', describe: 'with --schema: build it in a Docker container (testcontainers)' })
          .option('pg-version', { type: 'string', describe: 'PostgreSQL image version for --docker, e.g. 16' })
          .option('format', { type: 'string', choices: ['ts', 'json'] as const, default: 'ts' as const, describe: 'pgconform.config.ts (defineConfig, // comments) or pgconform.config.json (comment fields)' })
          .option('out', { type: 'string', describe: 'file to write (default pgconform.config.ts or .json in the working directory)' })
          .option('force', { type: 'boolean', describe: 'overwrite the file if it exists (otherwise exit 2)' }),
      async (a) => {
        const { initCommand } = await import('./commands/init.ts');
        exitCode = await initCommand(
          { schema: a.schema, migrations: a.migrations, withoutExtension: a.withoutExtension, migrateCmd: a.migrateCmd, migrateTimeout: a.migrateTimeout, url: a.url, docker: a.docker, pgVersion: a.pgVersion, format: a.format, out: a.out, force: a.force, debug: a.debug },
          context,
        );
      },
    )
    .command(
      'replay <report>',
      'execute the counterexamples of a report again (exit 1 when a failure reproduces)',
      (y) =>
        serverOptions(y)
          .positional('report', { type: 'string', demandOption: true })
          .option('rule', { type: 'string', describe: 'only this rule id' })
          .option('isolation', { type: 'string', choices: ISOLATION_LEVELS })
          .option('sql', { type: 'boolean', describe: 'print the counterexample as SQL to paste into psql sessions, in order' })
          .option('export', { type: 'string', choices: ['isolation', 'vitest'] as const, describe: 'write it as a PostgreSQL isolation-tester spec or a vitest regression test' })
          .option('out', { type: 'string', describe: 'file for --export (default: standard output)' }),
      async (a) => {
        const { replayCommand } = await import('./commands/replay.ts');
        exitCode = await replayCommand(
          { report: a.report, rule: a.rule, isolation: a.isolation, url: a.url, docker: a.docker, pgVersion: a.pgVersion, sql: a.sql, export: a.export, out: a.out },
          context,
        );
      },
    )
    .command(
      'diff [specs..]',
      'compare how two schemas answer the rules (exit 1 when a rule now fails or an allowed operation is now rejected); --migration checks a migration on generated data',
      (y) =>
        formatOption(withoutExtensionOption(searchOptions(serverOptions(y))), DOCUMENT_FORMATS, ': the files into --report-dir (default console, and all with --report-dir); without it, the one format to standard output')
          .positional('specs', { type: 'string', array: true, default: [] as string[] })
          .option('before', { type: 'string', demandOption: true, describe: 'schema source: a .sql file, a migrations folder in any layout --migrations reads, or <git-rev>:<path>' })
          .option('after', { type: 'string', describe: 'schema source to compare with --before (same kinds)' })
          .option('migration', { type: 'string', describe: 'a migration .sql file applied to a --before database holding generated data' })
          .option('down', { type: 'string', describe: 'its down migration: must restore the previous behaviour' })
          .option('isolation', { type: 'string', array: true, choices: ISOLATION_LEVELS, default: ['read-committed'], describe: 'isolation levels, each rule compared at each' })
          .option('report-dir', { type: 'string', describe: 'write diff.json, diff.md (appended to $GITHUB_STEP_SUMMARY when set) and junit.xml there (or the --format ones)' })
          .option('json', { type: 'boolean', describe: 'print the diff.json document instead of text' })
          .option('quiet', { type: 'boolean', describe: 'no progress output' })
          .check((a) => {
            checkSearchOptions(a);
            return true;
          }),
      async (a) => {
        const { diffCommand } = await import('./commands/diff.ts');
        exitCode = await diffCommand(
          {
            specs: a.specs as string[],
            before: a.before,
            after: a.after,
            migration: a.migration,
            down: a.down,
            url: a.url,
            docker: a.docker,
            pgVersion: a.pgVersion,
            runs: a.runs,
            seed: a.seed,
            isolation: a.isolation as IsolationLevel[],
            sessions: a.sessions,
            json: a.json,
            reportDir: a.reportDir,
            format: a.format,
            withoutExtension: a.withoutExtension,
            quiet: a.quiet,
            debug: a.debug,
            specsDir: a.specsDir,
            config: a.config as string | false | undefined,
          },
          context,
        );
      },
    )
    .command(
      'explain [specs..]',
      'which database objects enforce each rule, which are fragile by construction, and a short run that confirms or refutes it (exit 1 when the run finds a failure)',
      (y) =>
        schemaOptions(searchOptions(serverOptions(y)))
          .positional('specs', { type: 'string', array: true, default: [] as string[] })
          .option('runs', { type: 'number', default: EXPLAIN_RUNS, describe: 'scenarios of the confirming run per rule' })
          .option('time-budget', { type: 'number', describe: 'seconds per rule before the confirming run stops' })
          .option('run', { type: 'boolean', default: true, describe: 'confirm the map with a short run (--no-run: the map only, exit 0)' })
          .option('json', { type: 'boolean', describe: 'print the explanation as JSON (the explain.json document) instead of text' })
          .option('report-dir', { type: 'string', describe: 'write explain.json into this folder' })
          .option('quiet', { type: 'boolean', describe: 'no progress output' })
          .check((a) => {
            checkSearchOptions(a);
            if (a['time-budget'] !== undefined && !(a['time-budget'] > 0)) throw new Error('--time-budget must be a positive number of seconds');
            return true;
          }),
      async (a) => {
        const { explainCommand } = await import('./commands/explain.ts');
        exitCode = await explainCommand(
          {
            specs: a.specs as string[],
            ...schemaArgsOf(a),
            url: a.url,
            docker: a.docker,
            pgVersion: a.pgVersion,
            runs: a.runs,
            seed: a.seed,
            sessions: a.sessions,
            timeBudget: a.timeBudget,
            run: a.run,
            json: a.json,
            reportDir: a.reportDir,
            quiet: a.quiet,
            debug: a.debug,
            specsDir: a.specsDir,
            config: a.config as string | false | undefined,
          },
          context,
        );
      },
    )
    .command(
      'mutate [specs..]',
      'how strong the specs are: mutants of the schema derived from its catalog, a score per rule, and survivors classified (exit 1 when a behaviour-changing mutant survives)',
      (y) =>
        formatOption(schemaOptions(searchOptions(serverOptions(y))), DOCUMENT_FORMATS, ': the files into --report-dir (default all, into reports/); without --report-dir, the one format to standard output')
          .positional('specs', { type: 'string', array: true, default: [] as string[] })
          .option('isolation', { type: 'string', array: true, choices: ISOLATION_LEVELS, default: ['read-committed'], describe: "isolation levels, each rule's mutants checked at each" })
          .option('workers', { type: 'number', default: 2, describe: 'mutants checked at once' })
          .option('all-objects', { type: 'boolean', describe: "run and score the mutants of every object on the rule's tables, not only of those that enforce the rule (the others are listed, not run)" })
          .option('report-dir', { type: 'string', describe: 'where mutate.json, mutate.md (appended to $GITHUB_STEP_SUMMARY when set) and junit.xml are written (default reports/ without --format)' })
          .option('json', { type: 'boolean', describe: 'print the result as JSON (the mutate.json document) instead of text' })
          .option('quiet', { type: 'boolean', describe: 'no progress output' })
          .check((a) => {
            checkSearchOptions(a);
            positiveInteger('--workers', a.workers);
            return true;
          }),
      async (a) => {
        const { mutateCommand } = await import('./commands/mutate.ts');
        exitCode = await mutateCommand(
          {
            specs: a.specs as string[],
            ...schemaArgsOf(a),
            url: a.url,
            docker: a.docker,
            pgVersion: a.pgVersion,
            runs: a.runs,
            seed: a.seed,
            sessions: a.sessions,
            isolation: a.isolation as IsolationLevel[],
            workers: a.workers,
            allObjects: a.allObjects,
            reportDir: a.reportDir,
            format: a.format,
            json: a.json,
            quiet: a.quiet,
            debug: a.debug,
            specsDir: a.specsDir,
            config: a.config as string | false | undefined,
          },
          context,
        );
      },
    )
    .demandCommand(1, `name a command: ${COMMANDS.join(', ')}`)
    .strict()
    .help()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((message, error) => {
      throw error ?? new KitError('usage', message, { fix: 'see pgconform --help' });
    });
  try {
    // With a callback, yargs hands over what --help and --version print instead of printing it and exiting.
    await cli.parseAsync(argv, {}, (_error, _argv, printed) => {
      if (printed) context.out(printed);
    });
  } catch (error) {
    return reportError(error, debug, context);
  }
  return exitCode;
}

function positiveInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${name} must be a whole number from 1${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got ${value}`);
  }
}

/** One line and the documented exit code; a stack trace only with --debug. */
function reportError(error: unknown, debug: boolean, context: CommandContext): number {
  if (isKitError(error)) {
    context.err(error.toLine());
    if (debug && error.cause) context.err(String((error.cause as Error).stack ?? error.cause));
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === 'YError') {
    context.err(`pgconform: ${message} (see pgconform --help)`);
    return ExitCode.BadInput;
  }
  const usage = /^(Unknown argument|Invalid values|Missing required|Not enough non-option|--\w[\w-]* must)/.test(message);
  context.err(`pgconform: ${usage ? message : `unexpected error: ${message}`}${usage ? ' (see pgconform --help)' : ' (run with --debug for details)'}`);
  if (debug && error instanceof Error) context.err(error.stack ?? '');
  return usage ? ExitCode.BadInput : ExitCode.Infrastructure;
}
