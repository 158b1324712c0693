export type { Rule, RuleReference, Operation, Statement, Value, Row, State, Judgement, TruthTable, TruthTableCell } from './rule.ts';
export { and, eq, ne, lt, le, gt, ge, isIn, notIn, lower, upper, isFalse, isNotNull, isNotTrue, isNull, isTrue, not, or, type Predicate, type ColumnOperand, type Fold, type ComparisonOp } from './predicate.ts';
export { emailPool, idPool, namePool, poolArbitrary, stableUuid, valuePool, withNull, type Pool } from './pool.ts';
export { insertRows } from './setup-rows.ts';
export { scopedUnique, type ScopedUniqueConfig, type UniqueScope } from './scoped-unique.ts';
export { rowPredicate, type RowPredicateConfig } from './row-predicate.ts';
export { atMostOneChild, type AtMostOneChildConfig } from './at-most-one-child.ts';
export { childRequiresParent, type ChildRequiresParentConfig } from './child-requires-parent.ts';
