import type { CatalogConstraint, CatalogTable, CatalogTrigger } from '../catalog/catalog.ts';
import { mentionsIdentifier, splitCommas } from '../catalog/definition-text.ts';
import { stripCommentsAndLiterals } from '../explain/function-body.ts';
import type { CatalogFacts } from './catalog-facts.ts';
import { TODO_POOL, type DraftRule, type RuleIds } from './proposal.ts';

// Three shapes of rule the four model templates cannot state, recognised from the catalog and drafted
// with the SQL template: a stored counter a trigger on the child table keeps, an exclusion constraint on
// overlapping ranges, and a trigger that raises after summing rows. The rule itself (the invariant) is
// written out; the pools operations draw from are left to the user, so each is a draft until they are.

const TODO = 'its rule is written out, but the pools operations draw from are yours to choose (ids of rows the setup creates, amounts, time slots): replace each TODO pool and add the setup rows';

/** Drafts of SQL-template rules for the counters, overlap exclusions and sum-checking triggers of a catalog. */
export function inferSqlShapes(facts: CatalogFacts, ids: RuleIds): DraftRule[] {
  const drafts: DraftRule[] = [];
  for (const trigger of facts.catalog.triggers) {
    const counter = counterOf(facts, trigger);
    if (counter) drafts.push(counterDraft(counter, ids));
    else {
      const sum = sumCheckOf(facts, trigger);
      if (sum) drafts.push(sumDraft(sum, ids));
    }
  }
  for (const constraint of facts.catalog.constraints) {
    const overlap = constraint.type === 'x' ? overlapOf(facts, constraint) : undefined;
    if (overlap) drafts.push(overlapDraft(overlap, ids));
  }
  return drafts;
}

interface Counter {
  readonly trigger: CatalogTrigger;
  readonly child: CatalogTable;
  readonly parent: CatalogTable;
  readonly column: string;
  /** The child's foreign key to the parent. */
  readonly key: CatalogConstraint;
}

/** A trigger on a child table whose function adds to, subtracts from or recounts a column of the parent it references. */
function counterOf(facts: CatalogFacts, trigger: CatalogTrigger): Counter | undefined {
  const child = facts.table(trigger.table);
  if (!child || !trigger.events.some((e) => e === 'INSERT' || e === 'DELETE')) return undefined;
  const body = stripCommentsAndLiterals(trigger.functionBody);
  for (const m of body.matchAll(/\bUPDATE\s+([\w."]+)\s+SET\s+"?(\w+)"?\s*=\s*(?:"?(\w+)"?\s*[-+]|\(?\s*SELECT\s+count\s*\()/gi)) {
    const parent = facts.table(m[1]!.replace(/"/g, '').split('.').pop()!);
    if (!parent || (m[3] !== undefined && m[3] !== m[2])) continue;
    const key = facts.constraintsOf(child, 'f').find((c) => c.references && facts.table(c.references.table) === parent);
    if (key && facts.column(parent, m[2]!)) return { trigger, child, parent, column: m[2]!, key };
  }
  return undefined;
}

function counterDraft(counter: Counter, ids: RuleIds): DraftRule {
  const { child, parent, column, key } = counter;
  const join = key.columns.map((c, i) => `c.${c} = p.${key.references!.columns[i]}`).join(' AND ');
  const count = `(SELECT count(*) FROM ${child.qualified} c WHERE ${join})`;
  const insert = insertColumns(child);
  return draft(ids.allocate(`${parent.name}-${column}-matches`), `${parent.name}.${column} equals the number of its ${child.name} rows`, {
    parameters: Object.fromEntries(insert.map((c) => [c, TODO_POOL])),
    operations: [
      { name: 'insert', sql: `INSERT INTO ${child.qualified} (${insert.join(', ')}) VALUES (${insert.map((c) => `:${c}`).join(', ')})`, mustAccept: true },
      ...deleteOperation(child),
    ],
    invariant: `SELECT ${parent.primaryKey.map((c) => `p.${c}`).join(', ') || 'p.ctid'}, p.${column}, ${count}::int AS counted FROM ${parent.qualified} p WHERE p.${column} IS DISTINCT FROM ${count}`,
    tables: [parent.qualified, child.qualified],
    columns: { [parent.qualified]: [column], [child.qualified]: [...key.columns] },
  }, [`inferred from trigger ${counter.trigger.name} on ${child.name}, which keeps ${parent.name}.${column} up to date`]);
}

interface SumCheck {
  readonly trigger: CatalogTrigger;
  readonly table: CatalogTable;
  readonly summed: string;
  readonly groupBy: string;
}

/** A trigger that sums a column over the rows sharing the new row's group, and raises. */
function sumCheckOf(facts: CatalogFacts, trigger: CatalogTrigger): SumCheck | undefined {
  const body = stripCommentsAndLiterals(trigger.functionBody);
  // sum(amount) … FROM entries WHERE account_id = NEW.account_id (or a variable holding it).
  const found = /\bsum\s*\(\s*"?(\w+)"?\s*\)[\s\S]*?\bFROM\s+([\w."]+)\s+(?:\w+\s+)?WHERE\s+(?:\w+\.)?"?(\w+)"?\s*=/i.exec(body);
  const [summed, group] = [found?.[1], found?.[3]];
  const table = found ? facts.table(found[2]!.replace(/"/g, '').split('.').pop()!) : undefined;
  if (!summed || !group || !/\bRAISE\b/i.test(body) || !table || !facts.column(table, summed) || !facts.column(table, group)) return undefined;
  return { trigger, table, summed, groupBy: group };
}

function sumDraft(sum: SumCheck, ids: RuleIds): DraftRule {
  const { table, summed, groupBy } = sum;
  const insert = [...new Set([...insertColumns(table), groupBy, summed])];
  return draft(ids.allocate(`${table.name}-${summed}-within-limit`), `the ${summed} of ${table.name} per ${groupBy} stays within its limit`, {
    parameters: Object.fromEntries(insert.map((c) => [c, TODO_POOL])),
    operations: [{ name: 'insert', sql: `INSERT INTO ${table.qualified} (${insert.join(', ')}) VALUES (${insert.map((c) => `:${c}`).join(', ')})` }, ...deleteOperation(table)],
    invariant: `SELECT ${groupBy}, sum(${summed}) AS total FROM ${table.qualified} GROUP BY ${groupBy} HAVING sum(${summed}) < 0`,
    tables: [table.qualified],
    columns: { [table.qualified]: [groupBy, summed] },
  }, [`inferred from trigger ${sum.trigger.name} on ${table.name}, which sums ${summed} per ${groupBy} and raises: check the limit in the invariant (< 0 here) against the trigger's`]);
}

interface Overlap {
  readonly constraint: CatalogConstraint;
  readonly table: CatalogTable;
  /** Elements compared with = (the scope) and the range compared with &&. */
  readonly equal: readonly string[];
  readonly range: string;
  readonly where: string | undefined;
}

/** An exclusion constraint with one && element on a range: no two rows of one scope overlap. */
function overlapOf(facts: CatalogFacts, constraint: CatalogConstraint): Overlap | undefined {
  const table = facts.table(constraint.table);
  const head = /^EXCLUDE USING \w+ \(/.exec(constraint.definition);
  if (!table || !head) return undefined;
  const items = splitCommas(constraint.definition.slice(head[0].length));
  const rest = constraint.definition.slice(head[0].length + items.join(',').length + 1);
  const where = /^\s*WHERE \((.*)\)\s*$/s.exec(rest)?.[1];
  const elements = items.map((e) => /^(.*)\s+WITH\s+(\S+)$/s.exec(e.trim()));
  if (elements.some((e) => !e)) return undefined;
  const ranges = elements.filter((e) => e![2] === '&&');
  if (ranges.length !== 1 || elements.some((e) => e![2] !== '=' && e![2] !== '&&')) return undefined;
  return { constraint, table, equal: elements.filter((e) => e![2] === '=').map((e) => e![1]!), range: ranges[0]![1]!, where };
}

function overlapDraft(overlap: Overlap, ids: RuleIds): DraftRule {
  const { table, equal, range, where } = overlap;
  const columns = table.columns.map((c) => c.name);
  const on = [
    table.primaryKey.length > 0 ? `(${table.primaryKey.map((c) => `a.${c}`).join(', ')}) < (${table.primaryKey.map((c) => `b.${c}`).join(', ')})` : 'a.ctid < b.ctid',
    ...equal.map((e) => `${qualify(e, 'a', columns)} = ${qualify(e, 'b', columns)}`),
    `${qualify(range, 'a', columns)} && ${qualify(range, 'b', columns)}`,
    ...(where ? [`(${qualify(where, 'a', columns)})`, `(${qualify(where, 'b', columns)})`] : []),
  ];
  // tstzrange(starts_at, ends_at): the two bounds come from time slots, which make adjacent and overlapping intervals.
  const bounds = /^\w*range\(\s*"?(\w+)"?\s*,\s*"?(\w+)"?\s*(?:,.*)?\)$/.exec(range.trim());
  const insert = insertColumns(table);
  const value = (c: string) => (bounds && c === bounds[1] ? ':slot.start' : bounds && c === bounds[2] ? ':slot.end' : `:${c}`);
  const parameters: Record<string, unknown> = Object.fromEntries(insert.filter((c) => !bounds || (c !== bounds[1] && c !== bounds[2])).map((c) => [c, TODO_POOL]));
  if (bounds) parameters.slot = { slots: { start: '2025-03-03T09:00:00Z', minutes: 60, count: 4, maxLength: 2 } };
  return draft(ids.allocate(`${overlap.constraint.name}`), `no two ${table.name} rows${equal.length > 0 ? ` of one ${equal.join(', ')}` : ''} overlap in ${range}`, {
    parameters,
    operations: [{ name: 'insert', sql: `INSERT INTO ${table.qualified} (${insert.join(', ')}) VALUES (${insert.map(value).join(', ')})` }, ...deleteOperation(table)],
    invariant: `SELECT ${table.primaryKey.length > 0 ? table.primaryKey.map((c) => `a.${c} AS first_${c}, b.${c} AS second_${c}`).join(', ') : 'a.ctid AS first, b.ctid AS second'} FROM ${table.qualified} a JOIN ${table.qualified} b ON ${on.join(' AND ')}`,
    tables: [table.qualified],
    columns: { [table.qualified]: columns.filter((c) => [...equal, range, where ?? ''].some((e) => mentionsIdentifier(e, c))) },
  }, [`inferred from the exclusion constraint ${overlap.constraint.name} on ${table.name}: ${overlap.constraint.definition}`]);
}

/** The columns an INSERT must give: the primary key and every NOT NULL column without a default. */
function insertColumns(table: CatalogTable): string[] {
  const required = table.columns.filter((c) => (c.notNull && c.default === null && !c.generated) || table.primaryKey.includes(c.name)).map((c) => c.name);
  return [...new Set(required)];
}

function deleteOperation(table: CatalogTable): Array<{ name: string; sql: string; mustAccept?: boolean }> {
  if (table.primaryKey.length === 0) return [];
  return [{ name: 'delete', sql: `DELETE FROM ${table.qualified} WHERE ${table.primaryKey.map((c) => `${c} = :${c}`).join(' AND ')}` }];
}

/** Each of the table's column names in an expression, prefixed with the alias. */
function qualify(expression: string, alias: string, columns: readonly string[]): string {
  return expression.replace(/(?<![.\w"])"?([A-Za-z_]\w*)"?(?![\w(])/g, (whole, name: string) => (columns.includes(name) ? `${alias}.${name}` : whole));
}

function draft(id: string, title: string, body: Record<string, unknown>, comment: string[]): DraftRule {
  return { kind: 'draft', draft: { template: 'sql', id, title, ...body }, comment, reason: TODO };
}

