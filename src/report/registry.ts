import { KitError } from '../errors/kit-error.ts';
import { ConsoleReporter } from './console-reporter.ts';
import { HtmlReporter } from './html-reporter.ts';
import { JsonReporter } from './json-reporter.ts';
import { JunitReporter } from './junit-reporter.ts';
import { MarkdownReporter } from './markdown-reporter.ts';
import type { Reporter, ReporterContext } from './reporter.ts';

/** Reporters by the name --format knows them by. */
export const REPORTERS: Record<string, (context: ReporterContext) => Reporter> = {
  console: (context) => new ConsoleReporter(context),
  json: (context) => new JsonReporter(context),
  junit: (context) => new JunitReporter(context),
  markdown: (context) => new MarkdownReporter(context),
  html: (context) => new HtmlReporter(context),
};

/** The formats written when --format is not given. */
export const DEFAULT_FORMATS = ['console', 'json', 'junit', 'markdown', 'html'];

/** Builds reporters from names; an unknown name is a usage error listing the known ones. */
export function createReporters(names: readonly string[], context: ReporterContext): Reporter[] {
  return names.map((name) => {
    const create = REPORTERS[name];
    if (!create) throw new KitError('usage', `unknown --format "${name}"`, { fix: `choose from ${Object.keys(REPORTERS).join(', ')}` });
    return create(context);
  });
}
