import type { Catalog } from '../catalog/catalog.ts';
import { findReferenceProblem } from '../catalog/rule-references.ts';
import type { Rule } from '../rules/rule.ts';

/** A table or column a rule names that the audited database does not have (or cannot see on its search path). */
export interface SchemaProblem {
  /** The key in the rule's configuration that names it, e.g. "table" or "unique[0].key"; "invariant" when only the query found it. */
  readonly key: string;
  readonly table: string;
  /** Absent when the table itself is missing. */
  readonly column?: string;
  /** What is wrong, with the closest existing name when there is one. */
  readonly message: string;
  /** How to fix it. */
  readonly fix: string;
}

/**
 * The first table or column a rule names that the database lacks, resolved as PostgreSQL resolves the
 * rule's unqualified names: in the first schema of the effective search path that has the table.
 * The values a rule's generator would write are not judged: an audit writes nothing.
 */
export function schemaProblem(rule: Rule, catalog: Catalog, searchPath: readonly string[]): SchemaProblem | undefined {
  // Rules built by an older copy of the library may not list their references.
  const references = (rule.references ?? []).map((r) => ({ key: r.key, table: r.table, ...(r.column === undefined ? {} : { column: r.column }) }));
  const found = findReferenceProblem(visibleTables(catalog, references, searchPath), { ...rule, references });
  if (!found) return undefined;
  const { key, table, column } = found.reference;
  const elsewhere = column === undefined && !table.includes('.') ? catalog.tables.filter((t) => t.name === table).map((t) => t.schema) : [];
  if (elsewhere.length > 0) {
    return {
      key,
      table,
      message: `no table "${table}" on the search path (${searchPath.join(', ') || 'empty'}), but schema ${elsewhere.map((s) => `"${s}"`).join(', ')} has one`,
      fix: `pass --search-path ${elsewhere[0]}, or GRANT USAGE ON SCHEMA ${elsewhere[0]} to the role if it lacks it`,
    };
  }
  return { key, table, ...(column === undefined ? {} : { column }), message: found.message, fix: found.fix };
}

/**
 * The catalog as the rule's queries see it: for each table name, only the table the search path reaches
 * first; tables off the path only where the rule names them schema-qualified.
 */
function visibleTables(catalog: Catalog, references: readonly { table: string }[], searchPath: readonly string[]): Catalog {
  const qualified = new Set(references.map((r) => r.table).filter((name) => name.includes('.')));
  const rank = (schema: string) => searchPath.indexOf(schema);
  const tables = catalog.tables.filter((t) => {
    if (qualified.has(`${t.schema}.${t.name}`)) return true;
    if (rank(t.schema) < 0) return false;
    return !catalog.tables.some((other) => other.name === t.name && rank(other.schema) >= 0 && rank(other.schema) < rank(t.schema));
  });
  return { ...catalog, tables };
}
