import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunListener } from '../engine/run.ts';
import type { ReportDocument } from './report-document.ts';

/** Where a reporter writes and how it talks to the user. */
export interface ReporterContext {
  /** Folder for report files (created on demand). */
  readonly reportDir: string;
  /** Line output for humans (stdout); reporters never print anything else there. */
  readonly out: (line: string) => void;
  /** No progress output. */
  readonly quiet: boolean;
}

/** One output format. Hooks are optional, as in vitest's reporters; onRunEnd writes the final output. */
export interface Reporter extends RunListener {
  readonly name: string;
  /** Writes the final output from the report document (a run's, or several merged); returns the file written, if any. */
  onRunEnd(document: ReportDocument): Promise<string | void>;
}

/** Writes one report file into the report folder, creating the folder; returns the path written. */
export async function writeReportFile(context: ReporterContext, name: string, text: string): Promise<string> {
  await mkdir(context.reportDir, { recursive: true });
  const file = join(context.reportDir, name);
  await writeFile(file, text);
  return file;
}
