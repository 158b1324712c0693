import { resolve } from 'node:path';
import { auditDatabase, auditExitCode } from '../../audit/audit.ts';
import { toAuditDocument } from '../../audit/audit-document.ts';
import { auditLines } from '../../audit/audit-text.ts';
import { settingsFromUrl } from '../../db/connection.ts';
import { KitError } from '../../errors/kit-error.ts';
import { writeReportFile } from '../../report/reporter.ts';
import { displayPath } from '../../spec/loader.ts';
import type { CommandContext } from '../context.ts';
import { selectRules, type RuleSelectionArgs } from '../rule-selection.ts';
import { VERSION } from '../version.ts';

/** Arguments of `pgconform audit`. */
export interface AuditArgs extends RuleSelectionArgs {
  url?: string;
  limit: number;
  statementTimeout: number;
  lockTimeout: number;
  /** Comma-separated schema names. */
  searchPath?: string;
  json?: boolean;
  reportDir: string;
  /** false with --no-report. */
  report: boolean;
}

/** pgconform audit: the rows of a live database that break the rules, read in one read-only snapshot. */
export async function auditCommand(args: AuditArgs, context: CommandContext): Promise<number> {
  const url = args.url || process.env.DATABASE_URL;
  if (!url) throw new KitError('usage', 'audit needs the database to read', { fix: 'pass --url postgresql://user@host:5432/db or set DATABASE_URL' });
  const settings = settingsFromUrl(url);
  const searchPath = args.searchPath?.split(',').map((schema) => schema.trim()).filter(Boolean);
  if (searchPath && searchPath.length === 0) throw new KitError('usage', '--search-path names no schema', { fix: 'e.g. --search-path app,public' });
  const specs = await selectRules(args);
  const result = await auditDatabase(
    settings,
    specs.map((spec) => spec.rule),
    { limit: args.limit, statementTimeoutMs: args.statementTimeout, lockTimeoutMs: args.lockTimeout, searchPath },
  );
  const document = toAuditDocument(result, { version: VERSION });
  if (args.json) context.out(JSON.stringify(document, null, 2));
  else for (const line of auditLines(document)) context.out(line);
  // Bad input and failed queries also get their one line each on stderr, as every other command's do.
  for (const rule of document.rules) {
    const where = displayPath(specs.find((spec) => spec.rule.id === rule.id)?.file ?? '.');
    if (rule.status === 'schema-mismatch') {
      context.err(new KitError('schema', `rule ${rule.id}, key ${rule.problem.key}: ${rule.problem.message}`, { where, fix: rule.problem.fix }).toLine());
    } else if (rule.status === 'error') {
      context.err(new KitError('infrastructure', `rule ${rule.id}: ${rule.failure.message} (SQLSTATE ${rule.failure.code})`, { where, fix: rule.fix }).toLine());
    }
  }
  if (args.report) {
    const written = await writeReportFile({ reportDir: resolve(args.reportDir), out: context.out, quiet: true }, 'audit.json', `${JSON.stringify(document, null, 2)}\n`);
    context.err(`audit report: ${written}`);
  }
  return auditExitCode(result);
}
