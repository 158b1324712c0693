import { quoteIdent, quoteQualified } from '../db/connection.ts';
import { sqlLiteral } from './predicate.ts';
import type { Row } from './rule.ts';

/** SQL that inserts fixed rows (a rule's setup: the tenants and users operations refer to). */
export function insertRows(table: string, rows: readonly Row[]): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]!);
  const values = rows.map((row) => `(${columns.map((c) => sqlLiteral(row[c] ?? null)).join(', ')})`);
  return `INSERT INTO ${quoteQualified(table)} (${columns.map(quoteIdent).join(', ')}) VALUES ${values.join(', ')};`;
}
