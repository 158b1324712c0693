import { writeReportFile, type Reporter, type ReporterContext } from './reporter.ts';
import { reportSchema, type ReportDocument } from './report-document.ts';

/** Writes <report-dir>/report.json, validated against the documented schema before it is written. */
export class JsonReporter implements Reporter {
  readonly name = 'json';
  constructor(private readonly context: ReporterContext) {}

  async onRunEnd(document: ReportDocument): Promise<string> {
    const checked = reportSchema.parse(document);
    return writeReportFile(this.context, 'report.json', `${JSON.stringify(checked, null, 2)}\n`);
  }
}
