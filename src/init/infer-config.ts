import type { Catalog } from '../catalog/catalog.ts';
import { findReferenceProblem } from '../catalog/rule-references.ts';
import { bindRule, ruleBindingSchema } from '../config/rule-binding.ts';
import { CatalogFacts } from './catalog-facts.ts';
import { oracleOf } from './check-oracle.ts';
import { seededRowsOf } from './seeded-rows.ts';
import { setupRefusal } from './setup-check.ts';
import { inferCheckRules } from './check-inference.ts';
import { inferForeignKeyRules } from './foreign-key-inference.ts';
import { inferSqlShapes } from './sql-inference.ts';
import { RuleIds, type DraftRule, type InitProposal, type ProposedRule } from './proposal.ts';
import { inferTriggerRules, limitedTables } from './trigger-inference.ts';
import { inferUniqueRules } from './unique-inference.ts';

/**
 * A starting configuration for a schema: rule templates instantiated for what its catalog enforces
 * (unique indexes and exclusion constraints → scoped-unique, CHECKs → row-predicate, cascading composite
 * foreign keys → child-requires-parent, a recognised child-limit trigger → at-most-one-child), each
 * with a comment naming what it was inferred from. A rule that would not load, or names something the
 * schema lacks, is turned into a commented-out draft with the reason: init never proposes a rule it
 * cannot stand behind.
 */
export function inferConfig(catalog: Catalog): InitProposal {
  const facts = new CatalogFacts(catalog, oracleOf(catalog), seededRowsOf(catalog));
  const ids = new RuleIds();
  const foreignKeys = inferForeignKeyRules(facts, ids);
  const unique = inferUniqueRules(facts, ids, foreignKeys.consumed, limitedTables(facts));
  const checks = inferCheckRules(facts, ids);
  const triggers = inferTriggerRules(facts, ids);
  const shapes = inferSqlShapes(facts, ids);
  const rules = [...unique.rules, ...checks.rules, ...foreignKeys.rules, ...triggers.rules, ...shapes].map((rule) => (rule.kind === 'rule' ? validated(catalog, rule) : rule));
  return { rules, notes: [...foreignKeys.notes, ...unique.notes, ...checks.notes, ...triggers.notes] };
}

/** The rule as proposed when it loads and every name it uses is in the schema; else a draft saying why. */
function validated(catalog: Catalog, rule: ProposedRule): ProposedRule | DraftRule {
  const parsed = ruleBindingSchema.safeParse(rule.binding);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { kind: 'draft', draft: rule.binding, comment: rule.comment, reason: `it does not load: ${issue.path.join('.')}: ${issue.message}` };
  }
  const problem = findReferenceProblem(catalog, bindRule(parsed.data));
  if (problem) return { kind: 'draft', draft: rule.binding, comment: rule.comment, reason: `key ${problem.reference.key}: ${problem.message}` };
  const refusal = setupRefusal(catalog, rule.binding.id);
  if (refusal) return { kind: 'draft', draft: rule.binding, comment: rule.comment, reason: refusal };
  return rule;
}
