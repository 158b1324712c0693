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
export { defineConfig, loadConfig, findConfig, type PgconformConfig, type LoadedConfig } from './config/config-file.ts';
export { bindRule, ruleBindingSchema, type RuleBinding, type PoolBinding, type PredicateBinding, type OperandBinding } from './config/rule-binding.ts';
export { loadRuleSet, type RuleSetOptions } from './config/rule-set.ts';
export { inferConfig } from './init/infer-config.ts';
export { renderConfig, type ConfigFormat, type ConfigHeader } from './init/config-writer.ts';
export { catalogOfSchema, catalogOfDatabase, writeInitConfig } from './init/init.ts';
export { parsePredicate, checkPasses, type ParsedPredicate } from './init/predicate-text.ts';
export type { InitProposal, ProposedRule, DraftRule, InitNote } from './init/proposal.ts';
export { readCatalog, type Catalog, type CatalogTable, type CatalogColumn, type CatalogIndex, type CatalogConstraint, type CatalogTrigger } from './catalog/catalog.ts';
export { checkRuleReferences } from './catalog/rule-references.ts';
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
export { readSource, readSources, readMigrations } from './source/read-source.ts';
export { schemaFiles, schemaFilesAt, type SchemaSource, type SchemaTarget } from './source/schema-source.ts';
export type { SchemaFile } from './db/schema-source.ts';
export { migrateCommand, migrationEnvironment, DEFAULT_MIGRATE_TIMEOUT_MS, type MigrateCommandOptions } from './source/migrate-command.ts';
export { readLiveSchema, liveSchemaSource, type LiveSchema, type LiveSchemaOptions } from './source/live-schema.ts';
export { schemaFromCatalog } from './source/catalog-schema.ts';

// The enforcement map: which objects enforce each rule, which are fragile by construction, confirmed by a short run.
export { explainRules, explanationExitCode, confirmationOf, EXPLAIN_RUNS, type ExplainOptions, type Explanation, type RuleExplanation, type Confirmation, type ConfirmationStatus } from './explain/explanation.ts';
export { mapEnforcement, type EnforcementMap, type MappedObject, type MappedKind } from './explain/enforcement-map.ts';
export type { Fragility, FragilityKind } from './explain/fragility.ts';

// Auditing the data a live database already holds, read-only.
export { auditDatabase, auditExitCode, AUDIT_DEFAULTS, type AuditOptions, type AuditResult, type RuleAudit } from './audit/audit.ts';
export { auditDocumentSchema, toAuditDocument, AUDIT_SCHEMA_VERSION, type AuditDocument } from './audit/audit-document.ts';
export { diffDocumentSchema, diffDocument, DIFF_SCHEMA_VERSION, type DiffDocument } from './diff/diff-document.ts';
export { mutationDocumentSchema, mutationDocument, MUTATION_SCHEMA_VERSION, type MutationDocument } from './mutation/mutation-document.ts';
export { explainDocumentSchema, explainDocument, EXPLAIN_SCHEMA_VERSION, type ExplainDocument } from './explain/explain-document.ts';
export type { SchemaProblem } from './audit/schema-problem.ts';

// Mutation testing: how strong the specs are against small changes to the schema's own objects.
export { mutateOnServer, mutationExitCode, type MutationOptions, type MutationResult, type RuleMutation, type MutantResult, type MutantStatus } from './mutation/mutation-run.ts';
export { deriveMutants, MUTANT_KINDS, type Mutant, type MutantKind } from './mutation/derive-mutants.ts';
export type { SurvivorClass, SurvivorKind } from './mutation/survivor.ts';
