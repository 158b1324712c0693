import type { AuditDocument } from './audit-document.ts';

const CELL_WIDTH = 80;
const STATUS: Record<AuditDocument['rules'][number]['status'], string> = {
  holds: 'HOLDS',
  violated: 'VIOLATED',
  'schema-mismatch': 'NOT AUDITED',
  'not-applicable': 'NOT AUDITED',
  error: 'ERROR',
};

/**
 * An audit as console lines: a line per rule, and for a broken rule its first offending rows as a
 * table and the invariant to run in psql; then a summary line.
 */
export function auditLines(document: AuditDocument): string[] {
  const width = Math.max(...document.rules.map((rule) => rule.id.length), 4);
  const lines = [
    `pgconform audit of ${document.database} as ${document.user} (PostgreSQL ${document.serverVersion}, search path ${document.searchPath.join(', ') || 'empty'}, one read-only snapshot)`,
    '',
  ];
  for (const rule of document.rules) {
    const head = `${STATUS[rule.status].padEnd(12)} ${rule.id.padEnd(width)}`;
    switch (rule.status) {
      case 'holds':
        lines.push(`${head}  no offending rows — ${rule.title}`);
        break;
      case 'violated': {
        lines.push(`${head}  ${rule.offending} offending row${rule.offending === 1 ? '' : 's'} — ${rule.title}`);
        if (rule.rows.length > 0) {
          lines.push(...rowTable(rule.rows).map((line) => `    ${line}`));
          if (rule.offending > rule.rows.length) lines.push(`    … the first ${rule.rows.length} of ${rule.offending} (--limit N shows more)`);
        }
        lines.push('    every offending row, in psql:', ...`${rule.invariant};`.split('\n').map((line) => `      ${line}`), '');
        break;
      }
      case 'schema-mismatch':
        lines.push(`${head}  key ${rule.problem.key}: ${rule.problem.message} (${rule.problem.fix})`);
        break;
      case 'not-applicable':
        lines.push(`${head}  ${rule.reason}`);
        break;
      case 'error':
        lines.push(`${head}  ${rule.failure.message} (SQLSTATE ${rule.failure.code}): ${rule.fix}`);
        break;
    }
  }
  const s = document.summary;
  lines.push(
    '',
    `${s.rules} rule${s.rules === 1 ? '' : 's'}: ${s.holds} hold, ${s.violated} violated (${s.offendingRows} offending row${s.offendingRows === 1 ? '' : 's'}), ` +
      `${s.schemaMismatch} not audited (schema), ${s.error} error (${(document.durationMs / 1000).toFixed(1)}s, nothing written, rolled back)`,
  );
  return lines;
}

/** Rows as a small text table: a column per key, in the invariant's order; long cells cut with an ellipsis. */
function rowTable(rows: readonly Record<string, unknown>[]): string[] {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => columns.map((column) => cellText(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((cell) => cell[i]!.length)));
  const line = (values: readonly string[]) => values.map((value, i) => value.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '─'.repeat(w))), ...cells.map(line)];
}

function cellText(value: unknown): string {
  const text = value === null || value === undefined ? 'NULL' : typeof value === 'string' ? value : JSON.stringify(value);
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > CELL_WIDTH ? `${flat.slice(0, CELL_WIDTH - 1)}…` : flat;
}
