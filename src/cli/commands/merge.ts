import { resolve } from 'node:path';
import { mergeReports } from '../../report/merge.ts';
import { createReporters, DEFAULT_FORMATS } from '../../report/registry.ts';
import type { CommandContext } from '../context.ts';
import { readReport } from '../../report/read-report.ts';

/** Arguments of `pgconform merge`. */
export interface MergeArgs {
  reports: string[];
  reportDir: string;
  format?: string[];
  quiet?: boolean;
}

/** pgconform merge: one report from the shards of a run; exits as the unsharded run would. */
export async function mergeCommand(args: MergeArgs, context: CommandContext): Promise<number> {
  const documents = [];
  for (const path of args.reports) documents.push({ path, document: await readReport(path) });
  const merged = mergeReports(documents);
  const reporters = createReporters(args.format ?? DEFAULT_FORMATS, { reportDir: resolve(args.reportDir), out: context.out, quiet: args.quiet ?? false });
  for (const reporter of reporters) {
    const written = await reporter.onRunEnd(merged);
    if (written && !args.quiet) context.err(`${reporter.name} report: ${written}`);
  }
  return merged.exitCode;
}
