import type { Catalog, CatalogTable } from '../catalog/catalog.ts';
import type { SqlFailure } from '../db/sql-failure.ts';
import { KitError } from '../errors/kit-error.ts';
import type { Rule } from '../rules/rule.ts';

/**
 * The schema refused a rule's setup rows: a configuration error (exit 2) naming the rule, the table, the
 * row's values, the constraint with its definition, and what to change.
 */
export function setupError(rule: Rule, failure: SqlFailure, catalog: Catalog, where?: string): KitError {
  const table = catalog.tables.find((t) => t.name === failure.table && (!failure.schema || t.schema === failure.schema));
  const constraint = catalog.constraints.find((c) => c.name === failure.constraint && c.table === table?.qualified);
  const index = constraint ? undefined : catalog.indexes.find((i) => i.name === failure.constraint && i.table === table?.qualified);
  const definition = constraint?.definition ?? index?.definition;
  const object = failure.constraint ? `"${failure.constraint}"${definition ? ` ${definition}` : ''}` : failure.column ? `NOT NULL on ${failure.column}` : failure.code;
  const row = rowValues(failure, table);
  const message = `rule ${rule.id}: the schema refuses its setup row${failure.table ? ` in ${failure.table}` : ''}${row ? ` ${row}` : ''}: ${object} (${failure.message})`;
  return new KitError('config', message, { where, fix: fixFor(failure, constraint?.columns ?? index?.keyColumns ?? [], constraint?.references?.table) });
}

/** The failing row as column = value pairs, from the server's "Failing row contains (…)" or "Key (…)=(…)" detail. */
function rowValues(failure: SqlFailure, table: CatalogTable | undefined): string | undefined {
  const detail = failure.detail ?? '';
  const failing = /^Failing row contains \((.*)\)\.?$/s.exec(detail);
  if (failing) {
    const values = splitTuple(failing[1]!);
    if (table && values.length === table.columns.length) return `(${table.columns.map((c, i) => `${c.name}=${values[i]}`).join(', ')})`;
    return `(${failing[1]})`;
  }
  return detail ? `(${detail.replace(/\.$/, '')})` : undefined;
}

/** Splits the server's row text on top-level commas (values may hold parentheses or quoted commas). */
function splitTuple(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '(' || char === '[' || char === '{')) depth++;
    else if (!quoted && (char === ')' || char === ']' || char === '}')) depth--;
    if (char === ',' && depth === 0 && !quoted) {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  parts.push(current.trim());
  return parts;
}

function fixFor(failure: SqlFailure, columns: readonly string[], parent: string | undefined): string {
  const named = columns.length > 0 ? columns.join(', ') : failure.column;
  switch (failure.code) {
    case '23514':
      return `give ${named ?? 'the columns it names'} values that satisfy it in the rule's "setup" rows, or write the setup as SQL`;
    case '23505':
    case '23P01':
      return `setup writes two rows with the same ${named ?? 'key'} (or one the schema already holds): give them distinct values in "setup"`;
    case '23503':
      return `create the referenced ${parent ?? 'parent'} row first in "setup" (parents before children), or bind ${named ?? 'the column'} to an existing row`;
    case '23502':
      return `give ${failure.table ?? 'the table'}.${failure.column ?? 'the column'} a value in the rule's "setup" rows`;
    default:
      return `fix the rule's "setup" so that the schema accepts it`;
  }
}
