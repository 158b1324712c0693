// pgconform's public API: rule templates for specs, and the library the CLI is a thin layer over.
export * from './rules/index.ts';

// Servers and sandboxes.
export type { DatabaseProvider, StartedServer, ProviderName } from './db/provider.ts';
export { EmbeddedProvider } from './db/embedded-provider.ts';
export { UrlProvider } from './db/url-provider.ts';
export { ContainerProvider } from './db/container-provider.ts';
export { chooseProvider } from './db/provider-choice.ts';
export { Sandbox } from './db/sandbox.ts';
export type { ConnectionSettings } from './db/connection.ts';
export type { SqlFailure } from './db/sql-failure.ts';

// The engine.
export { runConformance, runOnServer, type RunOptions, type RunResult, type RuleResult, type RunListener } from './engine/run.ts';
export { checkRule, DEFAULT_RUNS, type CheckOptions, type RuleCheck, type Counterexample } from './engine/rule-check.ts';
export { ScenarioExecutor, type Execution } from './engine/executor.ts';
export { replayScenario } from './engine/replay.ts';
export { ISOLATION_LEVELS, type IsolationLevel, type Scenario, type Block } from './engine/scenario.ts';
export type { History, HistoryEvent, Outcome } from './engine/history.ts';
export type { ExecutionVerdict, VerdictKind } from './engine/verdict.ts';

// Specs, fixtures and reports.
export { loadSpecs, loadSpecFile, type LoadedSpec } from './spec/loader.ts';
export { readFixtures, expectedVerdict, type Fixture } from './spec/fixture.ts';
export { toDocument, reportSchema, REPORT_SCHEMA_VERSION, exitCodeOf, type ReportDocument } from './report/report-document.ts';
export { createReporters, REPORTERS } from './report/registry.ts';
export { readReport } from './report/read-report.ts';
export { mergeReports } from './report/merge.ts';
export type { Reporter, ReporterContext } from './report/reporter.ts';
export { KitError, ExitCode, isKitError } from './errors/kit-error.ts';

// Behavioural diff between two schemas, migration safety, schema sources.
export { diffSchemas, type SchemaDiff, type SchemaDiffOptions } from './diff/diff-schemas.ts';
export { checkMigration, type MigrationCheck, type MigrationCheckOptions } from './migration/migration-check.ts';
export { readSource } from './source/read-source.ts';
