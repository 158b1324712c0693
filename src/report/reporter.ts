import type { RunListener, RunResult } from '../engine/run.ts';
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
  /** Writes the final output; returns the file written, if any. */
  onRunEnd(document: ReportDocument, result: RunResult): Promise<string | void>;
}
