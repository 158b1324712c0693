import { KitError } from '../errors/kit-error.ts';
import type { Rule, RuleReference, Value } from '../rules/rule.ts';
import { closestName, findTable, type Catalog, type CatalogColumn } from './catalog.ts';

/**
 * Checks that every table and column a rule names exists in the schema, and that the values it writes
 * suit the column's type. The first problem stops the run with one line: the rule, the key, and the
 * closest existing name (exit 2). `where` is the spec or configuration file the rule came from.
 */
export function checkRuleReferences(catalog: Catalog, rule: Rule, where?: string): void {
  const problem = findReferenceProblem(catalog, rule);
  if (problem) throw new KitError('config', `rule ${rule.id}, key ${problem.reference.key}: ${problem.message}`, { where, fix: problem.fix });
}

/** The first reference of a rule the schema does not have, with a suggestion; undefined when all are there. */
export function findReferenceProblem(catalog: Catalog, rule: Rule): { reference: RuleReference; message: string; fix: string } | undefined {
  for (const reference of rule.references ?? []) {
    const table = findTable(catalog, reference.table);
    if (!table) {
      const near = closestName(reference.table, catalog.tables.map((t) => t.name));
      return {
        reference,
        message: `no table "${reference.table}" in the schema`,
        fix: near ? `did you mean "${near}"?` : `tables in the schema: ${catalog.tables.map((t) => t.name).join(', ') || 'none'}`,
      };
    }
    if (reference.column === undefined) continue;
    const column = table.columns.find((c) => c.name === reference.column);
    if (!column) {
      const near = closestName(reference.column, table.columns.map((c) => c.name));
      return {
        reference,
        message: `no column "${reference.column}" in table ${table.name}`,
        fix: near ? `did you mean "${near}"?` : `columns of ${table.name}: ${table.columns.map((c) => c.name).join(', ')}`,
      };
    }
    const unsuitable = (reference.values ?? []).find((value) => !suits(value, column));
    if (unsuitable !== undefined) {
      return {
        reference,
        message: `the value ${JSON.stringify(unsuitable)} does not suit column ${table.name}.${column.name} of type ${column.type}`,
        fix: column.enumLabels
          ? `use one of its labels: ${column.enumLabels.join(', ')}`
          : /int|numeric/.test(column.type) && typeof unsuitable === 'string'
            ? 'integer keys: give the pool "type": "bigint"'
            : 'give values of the column\'s type',
      };
    }
  }
  return undefined;
}

/**
 * Whether the server would accept this value in this column: the fast checks that give a better fix than the
 * server's own message (enum labels, booleans, uuids, integer ids). Every other type is judged by the server itself before the
 * first scenario (src/values/value-classes.ts), so spellings only it knows ('infinity', 'epoch') are not refused here.
 */
function suits(value: Value, column: CatalogColumn): boolean {
  if (value === null) return true; // NULL in a NOT NULL column is a rejection the rule may be probing
  if (column.enumLabels) return typeof value === 'string' && column.enumLabels.includes(value);
  const type = column.type;
  if (type === 'boolean') return typeof value === 'boolean' || /^(true|false|t|f|yes|no|on|off|1|0)$/i.test(String(value));
  if (type === 'uuid') return typeof value === 'string' && /^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$/i.test(value);
  if (/^(smallint|integer|bigint)$/.test(type)) return /^-?\d+$/.test(String(value));
  if (/^(numeric|real|double precision)/.test(type)) return !Number.isNaN(Number(value));
  return true;
}
