import { readFile } from 'node:fs/promises';
import { KitError } from '../errors/kit-error.ts';
import { reportSchema, type ReportDocument } from './report-document.ts';

/** Reads and validates a report; anything else is a usage error naming the file. */
export async function readReport(path: string): Promise<ReportDocument> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new KitError('usage', `cannot read the report: ${(error as Error).message}`, { where: path, fix: 'pass the report.json a run wrote' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KitError('usage', 'the report is not JSON', { where: path, fix: 'pass the report.json a run wrote' });
  }
  const checked = reportSchema.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new KitError('usage', `the report does not match schema version 1 at ${issue?.path.join('.') || 'top level'}: ${issue?.message}`, {
      where: path,
      fix: 'pass a report.json written by this version of pgconform',
    });
  }
  return checked.data;
}
