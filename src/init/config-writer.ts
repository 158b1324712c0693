import type { InitNote, InitProposal } from './proposal.ts';

/** The two formats init writes: pgconform.config.ts (defineConfig, `//` comments) or pgconform.config.json (`comment` fields). */
export type ConfigFormat = 'ts' | 'json';

/** What the written file says about where the proposal came from. */
export interface ConfigHeader {
  /** The schema the rules were inferred from, in words: file paths, or `the database user@host:port/db`. */
  readonly from: string;
  /** Schema paths for the configuration's `schema` key, relative to the configuration file. */
  readonly schema?: readonly string[];
  /** Module the TypeScript configuration imports defineConfig from (default "pgconform"). */
  readonly importFrom?: string;
}

const WIDTH = 110;

/**
 * The configuration file text. TypeScript: every rule under `//` lines saying what it was inferred from;
 * drafts commented out whole with the reason; notes at the end. JSON (no comments): the comment goes
 * into each rule's `comment` field, drafts go under `drafts` with their reason (not run), and notes are left
 * out (init prints them).
 */
export function renderConfig(proposal: InitProposal, header: ConfigHeader, format: ConfigFormat): string {
  if (format === 'json') {
    const rules = proposal.rules.flatMap((rule) => (rule.kind === 'rule' ? [{ ...rule.binding, comment: rule.comment.join(' ') }] : []));
    const drafts = proposal.rules.flatMap((rule) => (rule.kind === 'draft' ? [{ reason: rule.reason, draft: { ...rule.draft, comment: rule.comment.join(' ') } }] : []));
    const config = { ...(header.schema?.length ? { schema: [...header.schema] } : {}), rules, ...(drafts.length ? { drafts } : {}) };
    return `${render(config, 0, 'json')}\n`;
  }
  const lines = [
    `// Proposed by \`pgconform init\` from ${header.from}.`,
    '// Each rule instantiates a template for something the schema enforces, and says what it was inferred from.',
    '// Read every rule: keep those that state a business rule, give them better ids and titles, then run `pgconform run`.',
    `import { defineConfig } from '${header.importFrom ?? 'pgconform'}';`,
    '',
    'export default defineConfig({',
  ];
  if (header.schema?.length) lines.push(`  schema: ${render([...header.schema], 2, 'ts')},`);
  lines.push('  rules: [');
  proposal.rules.forEach((rule, i) => {
    if (i > 0) lines.push('');
    if (rule.kind === 'draft') {
      lines.push(...commentLines(`NOT PROPOSED AS IT IS: ${rule.reason}. Finish it by hand, then remove the // in front of it.`, 4));
      lines.push(...rule.comment.flatMap((line) => commentLines(line, 4)));
      lines.push(...`${render(rule.draft, 4, 'ts')},`.split('\n').map((line) => `    // ${line}`));
      return;
    }
    lines.push(...rule.comment.flatMap((line) => commentLines(line, 4)));
    lines.push(`    ${render(rule.binding, 4, 'ts')},`);
  });
  lines.push('  ],', '});');
  if (proposal.notes.length > 0) {
    lines.push('', '// What init saw and did not turn into a rule:');
    for (const note of proposal.notes) lines.push(...commentLines(`- ${noteLine(note)}`, 0));
  }
  return `${lines.join('\n')}\n`;
}

/** A note as one line: the object, then what init has to say about it. */
export function noteLine(note: InitNote): string {
  return `${note.about}: ${note.message}`;
}

/** A comment wrapped at the page width, each line prefixed with `// `. */
function commentLines(text: string, indent: number): string[] {
  const prefix = `${' '.repeat(indent)}// `;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && prefix.length + line.length + 1 + word.length > WIDTH) {
      lines.push(prefix + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(prefix + line);
  return lines;
}

/**
 * JSON, on one line where it fits the width, else one member per line; TypeScript drops the quotes of
 * identifier keys. `level` is the indentation of the line the value is on, `column` where it starts.
 */
function render(value: unknown, level: number, format: ConfigFormat, column = level): string {
  const text = (v: string) => (format === 'ts' ? `'${JSON.stringify(v).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'` : JSON.stringify(v));
  const key = (name: string) => (format === 'ts' && /^[A-Za-z_$][\w$]*$/.test(name) ? name : text(name));
  const inline = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).filter(([, member]) => member !== undefined);
      return entries.length ? `{ ${entries.map(([k, member]) => `${key(k)}: ${inline(member)}`).join(', ')} }` : '{}';
    }
    return typeof v === 'string' ? text(v) : JSON.stringify(v);
  };
  const flat = inline(value);
  if (column + flat.length <= WIDTH || value === null || typeof value !== 'object') return flat;
  const inner = level + 2;
  const pad = ' '.repeat(inner);
  const close = ' '.repeat(level);
  if (Array.isArray(value)) return `[\n${value.map((v) => `${pad}${render(v, inner, format)}`).join(',\n')}\n${close}]`;
  const entries = Object.entries(value).filter(([, member]) => member !== undefined);
  return `{\n${entries.map(([k, v]) => `${pad}${key(k)}: ${render(v, inner, format, inner + key(k).length + 2)}`).join(',\n')}\n${close}}`;
}
