import type { Catalog } from '../catalog/catalog.ts';
import { mapEnforcement } from '../explain/enforcement-map.ts';
import type { Rule } from '../rules/rule.ts';

// mutate scores a rule by the objects that enforce it: a mutant of another rule's index on the same table,
// of a NOT NULL on created_at or of a surrogate primary key says nothing about how well the spec pins down
// its own enforcement, so it is listed apart and never fails the run.

/** For a mutant's object (an index, constraint or trigger name, or table.column for a NOT NULL): why it is not scored, or undefined when it enforces the rule. */
export type ApartReason = (object: string) => string | undefined;

/** Which objects enforce a rule, from the enforcement map, narrowed for uniqueness rules to the unique keys that hold one of its keys. */
export function objectsApart(rule: Rule, catalog: Catalog): ApartReason {
  const map = mapEnforcement(rule, catalog);
  const scopes = scopeKeys(rule);
  const rowRule = rule.truthTable !== undefined;
  const enforcing = new Set<string>();
  const roles = new Map<string, string>();
  for (const object of map.objects) {
    if (object.kind === 'not null') {
      // A NOT NULL mutant names its column as table.column; for a row rule the NOT NULL may be the rule's mechanism.
      const name = `${object.table}.${object.name.split('.').pop()}`;
      if (rowRule) enforcing.add(name);
      else roles.set(name, `NOT NULL on ${object.name}, which no uniqueness or reference rule rests on`);
      continue;
    }
    roles.set(object.name, object.role);
    if (!object.enforces) continue;
    // A unique key enforces a uniqueness rule only if it holds one of the rule's keys (perhaps with more columns,
    // which the spec should then state); one without them is another rule's (a unique provider id, a surrogate key).
    const index = catalog.indexes.find((i) => (i.constraint ?? i.name) === object.name && i.table === object.table);
    if (index && scopes.length > 0 && !scopes.some((key) => key.every((column) => index.keyColumns.includes(column)))) {
      roles.set(object.name, `${object.role}: it does not hold the rule's key (${scopes.map((key) => key.join(', ')).join(' or ')}), so it is another rule's`);
      continue;
    }
    enforcing.add(object.name);
  }
  return (object) => (enforcing.has(object) ? undefined : (roles.get(object) ?? 'it touches none of the columns the rule names'));
}

/** The key columns of each uniqueness demand the rule states (scoped-unique's unique[i].key), if any. */
function scopeKeys(rule: Rule): string[][] {
  const keys = new Map<string, string[]>();
  for (const reference of rule.references) {
    const scope = /^unique\[(\d+)\]\.key$/.exec(reference.key)?.[1];
    if (scope !== undefined && reference.column) keys.set(scope, [...(keys.get(scope) ?? []), reference.column]);
  }
  return [...keys.values()];
}
