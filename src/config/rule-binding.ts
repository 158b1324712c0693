import { z } from 'zod';
import { atMostOneChild } from '../rules/at-most-one-child.ts';
import { childRequiresParent } from '../rules/child-requires-parent.ts';
import { emailPool, idPool, integerRange, namePool, numericRange, valuePool, withNull, type Pool } from '../rules/pool.ts';
import { sqlRule, type SqlParameter } from '../rules/sql-rule.ts';
import { timeSlots } from '../rules/time-slots.ts';
import type { ComparisonOp, Predicate } from '../rules/predicate.ts';
import { rowPredicate } from '../rules/row-predicate.ts';
import type { Row, Rule, Value } from '../rules/rule.ts';
import { scopedUnique } from '../rules/scoped-unique.ts';
import type { RowKey } from '../rules/table-operations.ts';
import { insertRows } from '../rules/setup-rows.ts';
import { parseKeyExpression } from '../rules/unique-key.ts';

// A rule binding is a rule template instantiated with the user's names and encodings, as plain data,
// so that it can live in pgconform.config.json. TypeScript configurations may also call the templates.

const value = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A pool in JSON: ids, literal values, or faker emails/names; `nullable` adds NULL. */
const poolSchema = z.union([
  z.array(value).min(1),
  z.strictObject({ ids: z.string().min(1), count: z.number().int().min(1).max(50), type: z.enum(['uuid', 'bigint']).optional(), nullable: z.boolean().optional() }),
  z.strictObject({ values: z.array(value).min(1), name: z.string().optional(), nullable: z.boolean().optional() }),
  z.strictObject({ emails: z.number().int().min(1).max(50), seed: z.number().int().optional(), caseVariants: z.boolean().optional() }),
  z.strictObject({ names: z.number().int().min(1).max(50), seed: z.number().int().optional() }),
]);
/** A value pool as written in a configuration file. */
export type PoolBinding = z.infer<typeof poolSchema>;

const column = z.string().min(1);
/** A column in a comparison: "email", or {"lower": "email"} / {"upper": "code"} for a case-folded one. */
const operandSchema = z.union([column, z.strictObject({ lower: column }), z.strictObject({ upper: column })]);
const literal = z.union([z.string(), z.number(), z.boolean()]);
const COMPARISONS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const satisfies readonly ComparisonOp[];
/**
 * A three-valued predicate in JSON: {"eq": ["status", "open"]}, {"ge": ["created_at", "2024-01-01"]},
 * {"in": [{"lower": "role"}, ["admin", "owner"]]}, {"isNull": "archived_at"}, {"and": [...]}.
 */
const predicateSchema: z.ZodType<PredicateBinding> = z.lazy(() =>
  z.union([
    z.strictObject({ eq: z.tuple([operandSchema, literal]) }),
    z.strictObject({ ne: z.tuple([operandSchema, literal]) }),
    z.strictObject({ lt: z.tuple([operandSchema, literal]) }),
    z.strictObject({ le: z.tuple([operandSchema, literal]) }),
    z.strictObject({ gt: z.tuple([operandSchema, literal]) }),
    z.strictObject({ ge: z.tuple([operandSchema, literal]) }),
    z.strictObject({ in: z.tuple([operandSchema, z.array(value).min(1)]) }),
    z.strictObject({ notIn: z.tuple([operandSchema, z.array(value).min(1)]) }),
    z.strictObject({ isNull: column }),
    z.strictObject({ isNotNull: column }),
    z.strictObject({ isTrue: column }),
    z.strictObject({ isFalse: column }),
    z.strictObject({ isNotTrue: column }),
    z.strictObject({ and: z.array(predicateSchema).min(1) }),
    z.strictObject({ or: z.array(predicateSchema).min(1) }),
    z.strictObject({ not: predicateSchema }),
  ]),
);
/** A column in a comparison as written in a configuration file. */
export type OperandBinding = string | { lower: string } | { upper: string };
/** A predicate as written in a configuration file. */
export type PredicateBinding =
  | { eq: [OperandBinding, string | number | boolean] }
  | { ne: [OperandBinding, string | number | boolean] }
  | { lt: [OperandBinding, string | number | boolean] }
  | { le: [OperandBinding, string | number | boolean] }
  | { gt: [OperandBinding, string | number | boolean] }
  | { ge: [OperandBinding, string | number | boolean] }
  | { in: [OperandBinding, Value[]] }
  | { notIn: [OperandBinding, Value[]] }
  | { isNull: string }
  | { isNotNull: string }
  | { isTrue: string }
  | { isFalse: string }
  | { isNotTrue: string }
  | { and: PredicateBinding[] }
  | { or: PredicateBinding[] }
  | { not: PredicateBinding };

/** Setup in JSON: SQL text, or rows per table whose values may name pool members by label ("org#1"). */
const setupSchema = z.union([z.string(), z.array(z.string()), z.record(z.string(), z.array(z.record(z.string(), value)))]);

const common = {
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  title: z.string().min(1),
  source: z.string().default('configuration'),
  /** Free text for people: why the rule exists, what it was inferred from (init writes it). */
  comment: z.string().optional(),
  setup: setupSchema.optional(),
};
/** How rows are addressed: one key column and its pool, or several columns each with a pool (a composite primary key). */
const primaryKey = z.union([
  z.strictObject({ column, pool: poolSchema, overridingSystemValue: z.boolean().optional() }),
  z.strictObject({ columns: z.record(column, poolSchema).refine((c) => Object.keys(c).length >= 2, 'a composite key names at least two columns') }),
]);
/** Key columns compared through an expression of the column: {"dedup_key": "lower(coalesce(dedup_key, ''))"}. */
const keyExpressions = z
  .record(column, z.string().min(1))
  .superRefine((expressions, ctx) => {
    for (const [name, sql] of Object.entries(expressions)) {
      const parsed = parseKeyExpression(sql);
      const problem = !parsed.ok ? parsed.reason : parsed.expression.column !== name ? `it reads ${parsed.expression.column}, not ${name}` : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: [name], message: `the key expression ${sql} cannot be evaluated by the model: ${problem} (lower, upper, btrim, coalesce, ->> and -> over one column are)` });
    }
  })
  .optional();
/** One unique key: its columns, the rows it applies to, and how its columns compare. */
const uniqueKeyShape = { key: z.array(column), where: predicateSchema.optional(), fold: z.array(column).optional(), expressions: keyExpressions };
/** Unique keys of the table the rule does not judge: a duplicate on them is a legitimate rejection (an empty key: at most one row, a singleton). */
const otherKeys = z.array(z.strictObject(uniqueKeyShape)).optional();
/** CHECKs of the table the rule does not judge, on columns it generates: a row they reject is a legitimate rejection. */
const otherChecks = z.array(z.strictObject({ name: z.string().min(1), check: predicateSchema })).optional();

const scopedUniqueSchema = z.strictObject({
  template: z.literal('scoped-unique'),
  ...common,
  table: z.string().min(1),
  primaryKey,
  columns: z.record(column, poolSchema),
  mutable: z.array(column).optional(),
  perRow: z.record(column, poolSchema).optional(),
  otherKeys,
  otherChecks,
  unique: z
    .array(z.strictObject({ ...uniqueKeyShape, name: z.string().optional(), key: z.array(column).min(1) }))
    .min(1),
});
const rowPredicateSchema = z.strictObject({
  template: z.literal('row-predicate'),
  ...common,
  table: z.string().min(1),
  primaryKey,
  columns: z.record(column, poolSchema),
  perRow: z.record(column, poolSchema).optional(),
  valid: predicateSchema,
  mayRejectNull: z.array(column).optional(),
  otherKeys,
});
const atMostOneChildSchema = z.strictObject({
  template: z.literal('at-most-one-child'),
  ...common,
  parent: z.strictObject({ table: z.string().min(1), key: column, pool: poolSchema, exemptColumn: column, exemptValues: poolSchema, exempt: predicateSchema }),
  scope: z.strictObject({ table: z.string().min(1), pool: poolSchema }),
  child: z.strictObject({ table: z.string().min(1), parentColumn: column, scopeColumn: column, label: z.string().optional() }),
});
const childRequiresParentSchema = z.strictObject({
  template: z.literal('child-requires-parent'),
  ...common,
  parent: z.strictObject({ table: z.string().min(1), columns: z.record(column, poolSchema), label: z.string().optional(), uniqueBy: z.array(column).min(1).optional() }),
  child: z.strictObject({
    table: z.string().min(1),
    primaryKey,
    ref: z.array(column).min(1),
    uniqueBy: z.array(column).optional(),
    movable: z.array(column),
    perRow: z.record(column, poolSchema).optional(),
  }),
});

/** A parameter of a SQL rule in JSON: a pool, an integer range, or a grid of time slots (`:name.start`, `:name.end`). */
const sqlParameterSchema = z.union([
  poolSchema,
  z.strictObject({ range: z.strictObject({ from: z.number(), to: z.number(), step: z.number().positive().optional(), scale: z.number().int().min(0).max(6).optional() }) }),
  z.strictObject({ slots: z.strictObject({ start: z.string().min(1), minutes: z.number().positive(), count: z.number().int().min(1).max(48), maxLength: z.number().int().min(1).optional() }) }),
]);
const sqlSchema = z
  .strictObject({
    template: z.literal('sql'),
    ...common,
    parameters: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a parameter name is a SQL identifier'), sqlParameterSchema),
    operations: z
      .array(z.strictObject({ name: z.string().min(1), sql: z.string().min(1), describe: z.string().optional(), weight: z.number().positive().optional(), mustAccept: z.union([z.boolean(), z.literal('always')]).optional() }))
      .min(1),
    invariant: z.string().min(1).optional(),
    constants: z.record(z.string(), value).optional(),
    transition: z.strictObject({ table: z.string().min(1), allowed: z.string().min(1) }).optional(),
    tables: z.array(z.string().min(1)).min(1).optional(),
    columns: z.record(z.string(), z.array(column)).optional(),
    enforcedBy: z.array(z.string().min(1)).optional(),
  })
  .refine((b) => b.invariant !== undefined || b.transition !== undefined, 'give "invariant" (SQL returning offending rows) or "transition" ({ "table", "allowed" })');

/** A rule template instantiated with the user's table names, column names and value encodings. */
export const ruleBindingSchema = z.discriminatedUnion('template', [scopedUniqueSchema, rowPredicateSchema, atMostOneChildSchema, childRequiresParentSchema, sqlSchema]);
/** A rule binding as written in a configuration file. */
export type RuleBinding = z.input<typeof ruleBindingSchema>;

/** The names of the rule templates a binding may instantiate. */
export const TEMPLATES = ['scoped-unique', 'row-predicate', 'at-most-one-child', 'child-requires-parent', 'sql'] as const;

/** Builds the rule a (validated) binding describes. */
export function bindRule(input: RuleBinding): Rule {
  const binding = ruleBindingSchema.parse(input);
  const pools = new PoolRegistry();
  const { id, title, source } = binding;
  switch (binding.template) {
    case 'scoped-unique':
    case 'row-predicate': {
      const columns = pools.record(binding.columns);
      const shared = {
        id,
        title,
        source,
        table: binding.table,
        primaryKey: rowKey(binding.primaryKey, pools),
        columns,
        perRow: binding.perRow ? pools.record(binding.perRow) : undefined,
        otherKeys: binding.otherKeys?.map((key) => ({ ...key, where: key.where ? toPredicate(key.where) : undefined })),
        otherChecks: 'otherChecks' in binding ? binding.otherChecks?.map((other) => ({ name: other.name, check: toPredicate(other.check) })) : undefined,
      };
      const setup = setupSql(binding.setup, pools);
      if (binding.template === 'row-predicate') {
        return rowPredicate({ ...shared, valid: toPredicate(binding.valid), mayRejectNull: binding.mayRejectNull, setup });
      }
      return scopedUnique({
        ...shared,
        mutable: binding.mutable,
        unique: binding.unique.map((scope) => ({ ...scope, where: scope.where ? toPredicate(scope.where) : undefined })),
        setup,
      });
    }
    case 'at-most-one-child': {
      const { parent, scope, child } = binding;
      return atMostOneChild({
        id,
        title,
        source,
        parent: { ...parent, pool: pools.pool(parent.key, parent.pool), exemptValues: pools.pool(parent.exemptColumn, parent.exemptValues), exempt: toPredicate(parent.exempt) },
        scope: { table: scope.table, pool: pools.pool(scope.table, scope.pool) },
        child,
        setup: setupSql(binding.setup, pools),
      });
    }
    case 'sql':
      return sqlRule({
        id,
        title,
        source,
        parameters: Object.fromEntries(Object.entries(binding.parameters).map(([name, parameter]) => [name, sqlParameter(name, parameter, pools)])),
        operations: binding.operations,
        invariant: binding.invariant,
        constants: binding.constants,
        transition: binding.transition,
        tables: binding.tables,
        columns: binding.columns,
        enforcedBy: binding.enforcedBy,
        setup: setupSql(binding.setup, pools),
      });
    case 'child-requires-parent': {
      const { parent, child } = binding;
      return childRequiresParent({
        id,
        title,
        source,
        parent: { ...parent, columns: pools.record(parent.columns) },
        child: {
          ...child,
          primaryKey: rowKey(child.primaryKey, pools),
          perRow: child.perRow ? pools.record(child.perRow) : undefined,
        },
        setup: setupSql(binding.setup, pools),
      });
    }
  }
}

/** The key that addresses rows, its pools built (and remembered for setup labels). */
function rowKey(binding: z.infer<typeof primaryKey>, pools: PoolRegistry): RowKey {
  if ('columns' in binding) return { columns: pools.record(binding.columns) };
  if (binding.overridingSystemValue === undefined) return { column: binding.column, pool: pools.pool(binding.column, binding.pool) };
  return { column: binding.column, pool: pools.pool(binding.column, binding.pool), overridingSystemValue: binding.overridingSystemValue };
}

/** The pools of one binding, remembered so that setup rows can name their members by label. */
class PoolRegistry {
  private readonly byLabel = new Map<string, Value>();

  pool(name: string, binding: PoolBinding): Pool {
    const pool = toPool(name, binding);
    for (const member of pool.values) if (member !== null) this.byLabel.set(pool.label(member), member);
    return pool;
  }

  record(bindings: Readonly<Record<string, PoolBinding>>): Record<string, Pool> {
    return Object.fromEntries(Object.entries(bindings).map(([name, binding]) => [name, this.pool(name, binding)]));
  }

  /** A setup value: a pool member's label ("org#1") stands for the member. */
  resolve(value: Value): Value {
    return typeof value === 'string' && this.byLabel.has(value) && /#\d+$/.test(value) ? this.byLabel.get(value)! : value;
  }
}

function sqlParameter(name: string, binding: z.infer<typeof sqlParameterSchema>, pools: PoolRegistry): SqlParameter {
  if (!Array.isArray(binding) && 'range' in binding) {
    const { from, to, step = 1, scale } = binding.range;
    return scale === undefined && Number.isInteger(step) ? integerRange(name, from, to, step) : numericRange(name, from, to, step, scale);
  }
  if (!Array.isArray(binding) && 'slots' in binding) return timeSlots(name, binding.slots);
  return pools.pool(name, binding);
}

function toPool(name: string, binding: PoolBinding): Pool {
  if (Array.isArray(binding)) return valuePool(name, binding);
  if ('ids' in binding) return nullable(idPool(binding.ids, binding.count, binding.type ?? 'uuid'), binding.nullable);
  if ('values' in binding) return nullable(valuePool(binding.name ?? name, binding.values), binding.nullable);
  if ('emails' in binding) return emailPool(binding.emails, { seed: binding.seed, caseVariants: binding.caseVariants });
  return namePool(binding.names, binding.seed);
}

function nullable(pool: Pool, add: boolean | undefined): Pool {
  return add && !pool.values.includes(null) ? withNull(pool) : pool;
}

/** Converts a JSON predicate to the template's predicate. */
export function toPredicate(binding: PredicateBinding): Predicate {
  for (const op of COMPARISONS) {
    if (op in binding) {
      const [operand, literalValue] = (binding as Record<ComparisonOp, [OperandBinding, Exclude<Value, null>]>)[op];
      return { op, ...toOperand(operand), value: literalValue };
    }
  }
  if ('in' in binding) return { op: 'in', ...toOperand(binding.in[0]), values: binding.in[1] };
  if ('notIn' in binding) return { op: 'notIn', ...toOperand(binding.notIn[0]), values: binding.notIn[1] };
  if ('and' in binding) return { op: 'and', of: binding.and.map(toPredicate) };
  if ('or' in binding) return { op: 'or', of: binding.or.map(toPredicate) };
  if ('not' in binding) return { op: 'not', of: toPredicate(binding.not) };
  const [op, columnName] = Object.entries(binding)[0] as [Extract<Predicate['op'], 'isNull' | 'isNotNull' | 'isTrue' | 'isFalse' | 'isNotTrue'>, string];
  return { op, column: columnName };
}

/** The reverse of toPredicate, for writing configurations (init). */
export function fromPredicate(predicate: Predicate): PredicateBinding {
  switch (predicate.op) {
    case 'eq':
    case 'ne':
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
      return { [predicate.op]: [fromOperand(predicate), predicate.value] } as PredicateBinding;
    case 'in':
      return { in: [fromOperand(predicate), [...predicate.values]] };
    case 'notIn':
      return { notIn: [fromOperand(predicate), [...predicate.values]] };
    case 'and':
      return { and: predicate.of.map(fromPredicate) };
    case 'or':
      return { or: predicate.of.map(fromPredicate) };
    case 'not':
      return { not: fromPredicate(predicate.of) };
    default:
      return { [predicate.op]: predicate.column } as PredicateBinding;
  }
}

function toOperand(binding: OperandBinding): { column: string; fold?: 'lower' | 'upper' } {
  if (typeof binding === 'string') return { column: binding };
  return 'lower' in binding ? { column: binding.lower, fold: 'lower' } : { column: binding.upper, fold: 'upper' };
}

function fromOperand(predicate: { column: string; fold?: 'lower' | 'upper' }): OperandBinding {
  return predicate.fold ? ({ [predicate.fold]: predicate.column } as OperandBinding) : predicate.column;
}

function setupSql(setup: z.infer<typeof setupSchema> | undefined, pools: PoolRegistry): string {
  if (setup === undefined) return '';
  if (typeof setup === 'string') return setup;
  if (Array.isArray(setup)) return setup.join('\n');
  return Object.entries(setup)
    .map(([table, rows]) => insertRows(table, rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, pools.resolve(v)])) as Row)))
    .join('\n');
}
