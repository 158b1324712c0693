import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KitError } from '../errors/kit-error.ts';

// --format for the commands that write one document (diff, mutate): the console text, the JSON document,
// JUnit, Markdown. With --report-dir every chosen file format is written there (the console still goes to
// standard output); without it, the one format chosen is printed to standard output.

/** The formats diff and mutate give their document in. */
export const DOCUMENT_FORMATS = ['console', 'json', 'junit', 'markdown'] as const;

/** One of DOCUMENT_FORMATS. */
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

/** A document in each format: its text, and the file a report folder holds it in (none for the console). */
export type Renderings = Record<DocumentFormat, { readonly file?: string; readonly text: () => string }>;

/**
 * The formats to give: the ones named, else the console and, with a report folder, every file format.
 * Checked before anything runs: without a folder only one format can go to standard output.
 */
export function chosenFormats(named: readonly string[] | undefined, reportDir: string | undefined): DocumentFormat[] {
  if (!named?.length) return reportDir === undefined ? ['console'] : [...DOCUMENT_FORMATS];
  const formats = [...new Set(named)];
  for (const format of formats) {
    if (!(DOCUMENT_FORMATS as readonly string[]).includes(format)) throw new KitError('usage', `unknown --format "${format}"`, { fix: `choose from ${DOCUMENT_FORMATS.join(', ')}` });
  }
  if (reportDir === undefined && formats.length > 1) {
    throw new KitError('usage', `--format ${formats.join(', ')} without --report-dir: only one format can go to standard output`, { fix: 'give --report-dir, or one --format' });
  }
  return formats as DocumentFormat[];
}

/**
 * Gives the document in each chosen format: the console text (or, without a folder, the one format) to
 * `out`, the file formats into `reportDir`; Markdown written there is also appended to $GITHUB_STEP_SUMMARY.
 * Returns the paths written.
 */
export async function writeDocument(
  formats: readonly DocumentFormat[],
  reportDir: string | undefined,
  renderings: Renderings,
  out: (text: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const written: string[] = [];
  for (const format of formats) {
    const { file, text } = renderings[format];
    if (reportDir === undefined || file === undefined) {
      out(text().replace(/\n$/, ''));
      continue;
    }
    await mkdir(reportDir, { recursive: true });
    const content = text();
    await writeFile(join(reportDir, file), content);
    written.push(join(reportDir, file));
    // Appended: earlier steps of the job may have written their own summaries there.
    if (format === 'markdown' && env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, `${content}\n`);
  }
  return written;
}
