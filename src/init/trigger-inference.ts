import type { CatalogTable, CatalogTrigger } from '../catalog/catalog.ts';
import { fromPredicate, type PoolBinding } from '../config/rule-binding.ts';
import { stripCommentsAndLiterals } from '../explain/function-body.ts';
import { isFalse, isTrue } from '../rules/predicate.ts';
import type { CatalogFacts, ColumnReference } from './catalog-facts.ts';
import { idMember, idPoolFor, needsValue, singular } from './column-values.ts';
import { TODO_POOL, draftReason, type DraftRule, type InitNote, type ProposedRule, type RuleIds } from './proposal.ts';
import { SetupPlan } from './setup-plan.ts';

// Triggers are code, so reading them is a heuristic: init recognises one design, a row trigger on a
// child table that reads the sibling rows of the same parent and rejects a second one unless a boolean
// flag on the parent exempts it (rule 4's "one tenant per regular user"), and proposes at-most-one-child
// for it. Any other trigger gets a note saying what it seems to do; its rule must be written by hand.

/** Parents in the pool: two regular ones and one exempt, so that both sides of the exemption are exercised. */
const PARENTS = 3;
const SCOPES = 2;

/** What a recognised trigger enforces: at most one child per parent, unless the parent's flag exempts it. */
interface ChildLimit {
  readonly trigger: CatalogTrigger;
  readonly child: CatalogTable;
  readonly parent: ColumnReference;
  readonly scope: ColumnReference;
  readonly flag: string;
  /** The flag value that exempts a parent. */
  readonly exemptWhen: boolean;
}

/** at-most-one-child rules for the triggers init recognises, notes for every other trigger. */
export function inferTriggerRules(facts: CatalogFacts, ids: RuleIds): { rules: (ProposedRule | DraftRule)[]; notes: InitNote[] } {
  const rules: (ProposedRule | DraftRule)[] = [];
  const notes: InitNote[] = [];
  const explained = new Set<CatalogTrigger>();
  for (const trigger of facts.catalog.triggers) {
    const found = recogniseChildLimit(facts, trigger);
    if (!found) continue;
    if ('unrecognised' in found) {
      notes.push({ about: describe(trigger), message: `${found.unrecognised}; write the rule by hand (the at-most-one-child template, if it limits children per parent)` });
      explained.add(trigger);
      continue;
    }
    const guards = facts.catalog.triggers.filter((t) => t !== trigger && facts.table(t.table) === found.parent.parent && readsTable(t, found.child));
    for (const t of [trigger, ...guards]) explained.add(t);
    rules.push(buildRule(facts, found, guards, ids));
  }
  for (const trigger of facts.catalog.triggers) {
    if (!explained.has(trigger)) notes.push({ about: describe(trigger), message: `${whatItSeemsToDo(facts, trigger)}; if it enforces a business rule, write that rule by hand with a template and check it with pgconform run` });
  }
  return { rules, notes };
}

/** The child tables of the triggers init turns into at-most-one-child rules: their key is exercised by that rule. */
export function limitedTables(facts: CatalogFacts): Set<CatalogTable> {
  const tables = new Set<CatalogTable>();
  for (const trigger of facts.catalog.triggers) {
    const found = recogniseChildLimit(facts, trigger);
    if (found && !('unrecognised' in found)) tables.add(found.child);
  }
  return tables;
}

function buildRule(facts: CatalogFacts, limit: ChildLimit, guards: readonly CatalogTrigger[], ids: RuleIds): ProposedRule | DraftRule {
  const { child, parent, scope, flag, exemptWhen } = limit;
  const problems: string[] = [];
  const parentPool = idPoolFor(singular(parent.parent.name), PARENTS, parent.parentColumn);
  const scopePool = idPoolFor(singular(scope.parent.name), SCOPES, scope.parentColumn);
  if (!parentPool || !scopePool) problems.push(`the keys of ${parent.parent.name} and ${scope.parent.name} must be uuid or integer ids`);
  const unfilled = child.columns.filter((c) => needsValue(c) && c.name !== parent.constraint.columns[0] && c.name !== scope.constraint.columns[0]).map((c) => c.name);
  if (unfilled.length) problems.push(`${child.name} has NOT NULL columns without a default (${unfilled.join(', ')}) the template's inserts leave out`);
  const flagColumn = facts.column(parent.parent, flag)!;
  const exemptValues: PoolBinding = flagColumn.notNull ? [!exemptWhen, exemptWhen] : [!exemptWhen, exemptWhen, null];

  const boundPools = new Set([parentPool?.ids, scopePool?.ids].filter((p): p is string => p !== undefined));
  const plan = new SetupPlan(facts, boundPools);
  if (parentPool && scopePool) {
    for (let i = 0; i < SCOPES; i++) plan.ensure(scope.parent, { [scope.parentColumn.name]: idMember(scopePool, i) });
    // The last parent starts exempt, the others do not.
    for (let i = 0; i < PARENTS; i++) plan.ensure(parent.parent, { [parent.parentColumn.name]: idMember(parentPool, i), [flag]: { value: i === PARENTS - 1 ? exemptWhen : !exemptWhen } });
  }
  problems.push(...plan.problems);

  const comment = [
    `Inferred from the trigger ${limit.trigger.name} on ${child.name} (${limit.trigger.timing} ${limit.trigger.events.join(' OR ')}, function ${limit.trigger.function}):`,
    `it reads the other ${child.name} rows of the same ${parent.constraint.columns[0]} and rejects a second one unless ${parent.parent.name}.${flag} is ${exemptWhen}.`,
    ...(guards.length ? [`${guards.map((g) => `The trigger ${g.name} on ${g.table}`).join('; ')} guards changes of the exemption.`] : []),
    'Triggers are read heuristically: check that this is the rule they are meant to enforce.',
  ];
  const binding = {
    template: 'at-most-one-child' as const,
    id: ids.allocate(limit.trigger.name),
    title: `a ${singular(parent.parent.name)} whose ${flag} is not ${exemptWhen} has at most one ${child.name} row`,
    source: `pgconform init: trigger ${limit.trigger.name}${guards.length ? `, ${guards.map((g) => g.name).join(', ')}` : ''}`,
    parent: {
      table: facts.bindingName(parent.parent),
      key: parent.parentColumn.name,
      pool: parentPool ?? TODO_POOL,
      exemptColumn: flag,
      exemptValues,
      exempt: fromPredicate(exemptWhen ? isTrue(flag) : isFalse(flag)),
    },
    scope: { table: facts.bindingName(scope.parent), pool: scopePool ?? TODO_POOL },
    child: { table: facts.bindingName(child), parentColumn: parent.constraint.columns[0]!, scopeColumn: scope.constraint.columns[0]!, label: singular(child.name).replace(/_/g, ' ') },
    ...(plan.toBinding() ? { setup: plan.toBinding() } : {}),
  };
  if (problems.length > 0) return { kind: 'draft', draft: binding, comment, reason: draftReason(problems) };
  return { kind: 'rule', binding, comment };
}

/**
 * The child-limit design, when the trigger has it: undefined when the trigger does not read sibling rows
 * per parent at all, `unrecognised` with the reason when it does but init cannot tell the limit or the exemption.
 */
function recogniseChildLimit(facts: CatalogFacts, trigger: CatalogTrigger): ChildLimit | { unrecognised: string } | undefined {
  const child = facts.table(trigger.table);
  if (!child || !trigger.forEachRow || !trigger.events.includes('INSERT')) return undefined;
  const statements = stripCommentsAndLiterals(trigger.functionBody).toLowerCase().split(';');
  const sibling = siblingRead(facts, child, statements);
  if (!sibling) return undefined;
  const { parent, statement } = sibling;
  const parentColumn = parent.constraint.columns[0]!;
  const max = largestAllowed(statement, statements, trigger.timing === 'AFTER');
  if (max !== 1) {
    return { unrecognised: `it reads the other ${child.name} rows of the same ${parentColumn}${max === undefined ? ', with a limit init cannot read' : ` and allows ${max} of them`}` };
  }
  const scopes = child.columns.map((c) => facts.reference(child, c.name)).filter((r): r is ColumnReference => r !== undefined && r.constraint !== parent.constraint);
  if (scopes.length !== 1) {
    return { unrecognised: `it allows one ${child.name} row per ${parentColumn}, but ${child.name} has ${scopes.length} other foreign keys where the template needs exactly one (the scope)` };
  }
  const exemption = exemptionOf(parent.parent, statements);
  if (!exemption) {
    return { unrecognised: `it allows one ${child.name} row per ${parentColumn}; init found no boolean column of ${parent.parent.name} that exempts a parent (without one, a scoped-unique rule on ${child.name}(${parentColumn}) may fit)` };
  }
  return { trigger, child, parent, scope: scopes[0]!, ...exemption };
}

/** A statement reading rows of the trigger's own table with `<parent column> = NEW.<parent column>`, the column a foreign key. */
function siblingRead(facts: CatalogFacts, child: CatalogTable, statements: readonly string[]): { parent: ColumnReference; statement: string } | undefined {
  const from = new RegExp(String.raw`\bfrom\s+(?:"?\w+"?\.)?"?${escape(child.name.toLowerCase())}"?(?![\w$])`);
  for (const statement of statements) {
    if (!from.test(statement)) continue;
    // Siblings of the same parent compare one column with NEW; more (email = NEW.email …) is a uniqueness, not a limit per parent.
    const compared = new Set([...statement.matchAll(/(?:\w+\.)?"?(\w+)"?\s*=\s*new\."?(\w+)"?/g)].filter((m) => m[1] === m[2]).map((m) => m[1]));
    if (compared.size !== 1) continue;
    for (const column of child.columns) {
      const name = escape(column.name.toLowerCase());
      if (!new RegExp(String.raw`(?:\w+\.)?"?${name}"?\s*=\s*new\."?${name}"?(?![\w$])`).test(statement)) continue;
      const reference = facts.reference(child, column.name);
      if (reference && reference.parent !== child) return { parent: reference, statement };
    }
  }
  return undefined;
}

/**
 * How many children the trigger lets a parent keep: one for EXISTS / FOUND tests, else read from the
 * comparison of the counted variable (`> 0` before the row exists is one, `> 1` after it is one).
 */
function largestAllowed(statement: string, statements: readonly string[], after: boolean): number | undefined {
  const counted = /\bcount\s*\(/.test(statement) ? /\binto\s+(\w+)/.exec(statement)?.[1] : undefined;
  if (!counted) {
    if (/\bexists\s*\(/.test(statement) || statements.some((s) => /\bif\s+found\b/.test(s))) return after ? undefined : 1;
    return undefined;
  }
  for (const s of statements) {
    const comparison = new RegExp(String.raw`\b${escape(counted)}\s*(>=|>|<>|!=)\s*(\d+)`).exec(s);
    if (!comparison) continue;
    const n = Number(comparison[2]);
    const rejectedFrom = comparison[1] === '>' ? n + 1 : comparison[1] === '>=' ? n : n === 0 ? 1 : undefined;
    if (rejectedFrom === undefined) return undefined;
    // Counted before the row exists, a rejection from k siblings allows k; counted after, k - 1.
    return after ? rejectedFrom - 1 : rejectedFrom;
  }
  return undefined;
}

/** The boolean column of the parent the trigger reads into a variable and returns early on, and which value exempts. */
function exemptionOf(parent: CatalogTable, statements: readonly string[]): { flag: string; exemptWhen: boolean } | undefined {
  const parentName = escape(parent.name.toLowerCase());
  for (const column of parent.columns) {
    if (column.type !== 'boolean') continue;
    const name = escape(column.name.toLowerCase());
    const read = statements
      .map((s) => new RegExp(String.raw`\bselect\s+(?:\w+\.)?"?${name}"?\s+into\s+(\w+)\s+from\s+(?:"?\w+"?\.)?"?${parentName}"?(?![\w$])`).exec(s))
      .find((m) => m !== null);
    if (!read) continue;
    const variable = escape(read[1]!);
    for (const s of statements) {
      const early = /\bif\b([\s\S]*?)\bthen\s+return\b/.exec(s);
      if (!early || !new RegExp(String.raw`\b${variable}\b`).test(early[1]!)) continue;
      const condition = early[1]!;
      const negated =
        new RegExp(String.raw`\bnot\s+(?:coalesce\s*\(\s*)?${variable}\b`).test(condition) ||
        new RegExp(String.raw`\b${variable}\s*(=\s*false|is\s+false|is\s+not\s+true)`).test(condition);
      return { flag: column.name, exemptWhen: !negated };
    }
  }
  return undefined;
}

function readsTable(trigger: CatalogTrigger, table: CatalogTable): boolean {
  return new RegExp(String.raw`\bfrom\s+(?:"?\w+"?\.)?"?${escape(table.name.toLowerCase())}"?(?![\w$])`).test(stripCommentsAndLiterals(trigger.functionBody).toLowerCase());
}

/** What a trigger init did not turn into a rule seems to do, from its body: reads of its own table, other reads, raises. */
function whatItSeemsToDo(facts: CatalogFacts, trigger: CatalogTrigger): string {
  const code = stripCommentsAndLiterals(trigger.functionBody).toLowerCase();
  const table = facts.table(trigger.table);
  const message = /raise\s+exception\s+'((?:[^']|'')*)'/i.exec(trigger.functionBody)?.[1]?.replace(/''/g, "'");
  const parts: string[] = [];
  if (table && readsTable(trigger, table)) parts.push(`it reads other ${table.name} rows before letting a row through (a uniqueness or a limit enforced in code)`);
  else if (/\bfrom\s+\w/.test(code)) parts.push('it reads other tables before letting a row through (a cross-table condition)');
  else if (/\bnew\.\w/.test(code) && /\braise\b/.test(code)) parts.push('it checks the row itself (a condition a CHECK could express)');
  else if (/\b(insert|update|delete)\b/.test(code)) parts.push('it writes to other rows or tables (derived data, or a cascade in code)');
  else if (/\bperform\s+(?!pg_)\w+\s*\(/.test(code)) parts.push(`it calls ${/\bperform\s+(\w+)/.exec(code)![1]}(…), a function init does not read`);
  else parts.push('init could not tell what it does');
  if (message) parts.push(`its error says "${message}"`);
  return parts.join('; ');
}

function describe(trigger: CatalogTrigger): string {
  return `trigger ${trigger.name} on ${trigger.table} (${trigger.timing} ${trigger.events.join(' OR ')}, ${trigger.function})`;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
