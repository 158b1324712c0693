import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Reporter, ReporterContext } from './reporter.ts';
import { reportSchema, type ReportDocument } from './report-document.ts';

/** Writes <report-dir>/report.json, validated against the documented schema before it is written. */
export class JsonReporter implements Reporter {
  readonly name = 'json';
  constructor(private readonly context: ReporterContext) {}

  async onRunEnd(document: ReportDocument): Promise<string> {
    const checked = reportSchema.parse(document);
    await mkdir(this.context.reportDir, { recursive: true });
    const file = join(this.context.reportDir, 'report.json');
    await writeFile(file, `${JSON.stringify(checked, null, 2)}\n`);
    return file;
  }
}
