import { existsSync } from 'node:fs';
import type pg from 'pg';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readCatalog, type Catalog } from '../catalog/catalog.ts';
import { connect, describeSettings, type ConnectionSettings } from '../db/connection.ts';
import type { StartedServer } from '../db/provider.ts';
import { Sandbox } from '../db/sandbox.ts';
import { isServerError, toSqlFailure } from '../db/sql-failure.ts';
import { isKitError, KitError } from '../errors/kit-error.ts';
import type { SchemaSource } from '../source/schema-source.ts';
import { displayPath } from '../spec/loader.ts';
import { CheckOracle, rememberOracle } from './check-oracle.ts';
import { readSeededRows, rememberSeededRows } from './seeded-rows.ts';
import { trySetups } from './setup-check.ts';
import { renderConfig, type ConfigFormat, type ConfigHeader } from './config-writer.ts';
import { inferConfig } from './infer-config.ts';
import type { InitProposal } from './proposal.ts';

/** The default file name init writes, per format. */
export const INIT_FILES: Readonly<Record<ConfigFormat, string>> = { ts: 'pgconform.config.ts', json: 'pgconform.config.json' };

/** The catalog of a schema built in a sandbox of `server` (a pgconform_* database, dropped afterwards). */
export async function catalogOfSchema(server: StartedServer, schema: SchemaSource): Promise<Catalog> {
  const sandbox = await Sandbox.create(server, schema);
  try {
    const client = await connect(sandbox.settingsFor(sandbox.template), { applicationName: 'pgconform-init' });
    try {
      const catalog = await readCatalog(client);
      // Rows the schema inserts itself (lookups): setup rows reuse them instead of colliding with them.
      rememberSeededRows(catalog, await readSeededRows(client, catalog));
      // The CHECKs' verdicts on candidate values, asked with SELECTs in a transaction that is rolled back.
      await client.query('BEGIN');
      await askAboutChecks(client, catalog);
      await client.query('ROLLBACK');
      // The sandbox may be written to (rolled back): the server tries each rule's setup and some of its rows.
      await trySetups(client, catalog, inferConfig(catalog));
      return catalog;
    } finally {
      await client.end().catch(() => undefined);
    }
  } finally {
    await sandbox.dispose();
  }
}

/** Rounds of inference whose exact rows the server is asked about, at most. */
const CHECK_ROUNDS = 4;

/**
 * The server's verdicts on the catalog's CHECKs, remembered for inference: first on a few values per
 * column, then on the exact rows inference writes, until it writes none the server was not asked about.
 * SELECTs only (in the caller's transaction), so that a read-only database can answer.
 */
async function askAboutChecks(client: pg.ClientBase, catalog: Catalog): Promise<void> {
  const oracle = await CheckOracle.ask(client, catalog);
  rememberOracle(catalog, oracle);
  for (let round = 0; round < CHECK_ROUNDS; round++) {
    inferConfig(catalog);
    if ((await oracle.refine(client)) === 0) break;
  }
}

/**
 * The catalog of a live database, read without writing to it: catalog SELECTs only, in one READ ONLY
 * transaction of a session whose transactions default to read-only, rolled back at the end.
 */
export async function catalogOfDatabase(settings: ConnectionSettings): Promise<Catalog> {
  const client = await connect(settings, { applicationName: 'pgconform-init', statementTimeoutMs: 60_000 });
  try {
    await client.query('SET default_transaction_read_only = on');
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const catalog = await readCatalog(client);
    // SELECTs only, in the same read-only transaction: the server's verdicts on CHECKs init cannot read.
    await askAboutChecks(client, catalog);
    return catalog;
  } catch (error) {
    if (isKitError(error) || !isServerError(error)) throw error;
    const failure = toSqlFailure(error);
    throw new KitError('infrastructure', `reading the catalog failed: ${failure.message} (SQLSTATE ${failure.code})`, {
      where: describeSettings(settings),
      fix: 'connect as a role that may read the catalog of the database',
      cause: error,
    });
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** Refuses to overwrite a configuration unless asked to (exit 2): checked before any work is done. */
export function checkWritable(out: string, force: boolean): void {
  if (existsSync(out) && !force) {
    throw new KitError('usage', `${displayPath(out)} already exists`, { fix: 'pass --force to overwrite it, or --out another file' });
  }
}

/**
 * Infers the rules of a catalog and writes the configuration; the proposal is returned for the caller
 * to report. A catalog with nothing init can turn into a rule is a schema error (exit 2), nothing written.
 */
export async function writeInitConfig(catalog: Catalog, options: { out: string; format: ConfigFormat; force: boolean; header: ConfigHeader }): Promise<InitProposal> {
  checkWritable(options.out, options.force);
  const proposal = inferConfig(catalog);
  const working = proposal.rules.filter((rule) => rule.kind === 'rule').length;
  if (working === 0 && (options.format === 'json' || proposal.rules.length + proposal.notes.length === 0)) {
    throw new KitError('schema', `init found nothing it can turn into a working rule in ${options.header.from}`, {
      fix:
        proposal.rules.length + proposal.notes.length > 0
          ? 'use --format ts to get the drafts and notes as comments, and finish them by hand'
          : 'init reads unique indexes, exclusion constraints, CHECKs, cascading composite foreign keys and triggers; write the rules by hand (see "Writing a spec" in the README)',
    });
  }
  await mkdir(dirname(options.out), { recursive: true });
  await writeFile(options.out, renderConfig(proposal, options.header, options.format));
  return proposal;
}
