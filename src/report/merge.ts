import { worst } from '../engine/run.ts';
import { KitError } from '../errors/kit-error.ts';
import { exitCodeOfChecks, type ReportDocument } from './report-document.ts';

/**
 * Combines the reports of several shards of one run (`run --shard i/n`) into one report: the rules'
 * checks side by side, verdicts, summary and exit code recomputed. A check found in two reports is an error.
 */
export function mergeReports(documents: readonly { path: string; document: ReportDocument }[]): ReportDocument {
  const [first] = documents;
  if (!first) throw new KitError('usage', 'merge needs at least one report', { fix: 'pgconform merge shard-1/report.json shard-2/report.json …' });
  const rules = new Map<string, ReportDocument['rules'][number]>();
  const seen = new Map<string, string>();
  for (const { path, document } of documents) {
    for (const rule of document.rules) {
      for (const check of rule.checks) {
        const key = `${rule.id} [${check.isolation}]`;
        const other = seen.get(key);
        if (other) throw new KitError('usage', `${key} is in both ${other} and ${path}`, { fix: 'merge the reports of different shards of one run' });
        seen.set(key, path);
      }
      const merged = rules.get(rule.id);
      rules.set(rule.id, merged ? { ...merged, checks: [...merged.checks, ...rule.checks] } : { ...rule, checks: [...rule.checks] });
    }
  }
  const mergedRules = [...rules.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((rule) => ({ ...rule, verdict: worst(rule.checks.map((c) => c.verdict)) }));
  const errors = documents.flatMap(({ document }) => (document.error ? [document.error] : []));
  const count = (v: string) => mergedRules.filter((r) => r.verdict === v).length;
  const isolation = [...new Set(documents.flatMap(({ document }) => document.options.isolation))];
  return {
    ...first.document,
    startedAt: documents.map(({ document }) => document.startedAt).sort()[0]!,
    durationMs: Math.max(...documents.map(({ document }) => document.durationMs)),
    options: { ...first.document.options, isolation },
    summary: { rules: mergedRules.length, pass: count('pass'), violation: count('violation'), overRestrictive: count('over-restrictive'), error: count('error') },
    exitCode: exitCodeOfChecks(mergedRules.flatMap((r) => r.checks), errors.length > 0),
    ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
    rules: mergedRules,
  };
}
