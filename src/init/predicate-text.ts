import {
  and,
  isFalse,
  isNotNull,
  isNotTrue,
  isNull,
  isTrue,
  isValuePredicate,
  not,
  or,
  sqlOperator,
  type ComparisonOp,
  type Fold,
  type Predicate,
  type ValuePredicate,
} from '../rules/predicate.ts';
import type { Value } from '../rules/rule.ts';
import { readDecimal, readInstant } from '../rules/value-order.ts';

// PostgreSQL prints partial-index predicates and CHECK expressions (pg_get_expr, pg_get_constraintdef)
// in a small, regular dialect. This reads the boolean forms the predicate DSL can express exactly and
// refuses everything else with a reason: a refused predicate becomes a note, never an approximated rule.

/** The result of reading a printed predicate: the exact predicate, or why it cannot be expressed. */
export type ParsedPredicate = { readonly ok: true; readonly predicate: Predicate } | { readonly ok: false; readonly reason: string };

/** The columns a predicate may name, with their types (format_type), so that a bare boolean column reads as `= true`. */
export type ColumnTypes = ReadonlyMap<string, string>;

type Token =
  | { readonly kind: 'word'; readonly text: string; readonly quoted: boolean }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'symbol'; readonly text: string };

type Operand = { readonly kind: 'column'; readonly name: string; readonly fold?: Fold } | { readonly kind: 'literal'; readonly value: Value };
type Item = { readonly kind: 'operand'; readonly operand: Operand } | { readonly kind: 'predicate'; readonly predicate: Predicate };

class Unsupported extends Error {}

type ColumnOperandOf = Extract<Operand, { kind: 'column' }>;

const OPERATORS: Readonly<Record<string, ComparisonOp>> = { '=': 'eq', '<>': 'ne', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' };
/** The operator that reads the same with its sides swapped: 5 < qty is qty > 5. */
const FLIPPED: Readonly<Record<ComparisonOp, ComparisonOp>> = { eq: 'eq', ne: 'ne', lt: 'gt', le: 'ge', gt: 'lt', ge: 'le' };
const NUMBER_TYPE = /^(smallint|integer|bigint|numeric|decimal|real|double precision)\b/;
/** Text types whose values compare as text (not citext, which folds case, nor character(n), which pads). */
const TEXT_TYPE = /^(text|character varying|varchar)\b/;
const TIME_TYPE = /^(date|timestamp)\b/;

function operandOf(column: ColumnOperandOf): { column: string; fold?: Fold } {
  return column.fold ? { column: column.name, fold: column.fold } : { column: column.name };
}

/** The elements of an array literal as PostgreSQL prints it ('{a,"b c",NULL}'); refused when it nests or escapes. */
function arrayLiteral(text: string): Value[] {
  if (!text.startsWith('{') || !text.endsWith('}') || /[{}\\]/.test(text.slice(1, -1))) throw new Unsupported(`the array literal '${text}'`);
  const body = text.slice(1, -1);
  if (body === '') throw new Unsupported('an empty array');
  return [...body.matchAll(/"([^"]*)"|([^,]+)/g)].map((m) => (m[1] !== undefined ? m[1] : /^null$/i.test(m[2]!) ? null : m[2]!));
}

/** Words that continue a multi-word type name after `::` (character varying, timestamp with time zone). */
const TYPE_WORDS = new Set(['varying', 'precision', 'with', 'without', 'time', 'zone']);
const KEYWORDS = new Set(['and', 'or', 'not', 'is', 'in', 'any', 'all', 'some', 'array', 'null', 'true', 'false', 'unknown', 'distinct', 'from']);

/**
 * Reads a predicate as PostgreSQL prints it: `(status = 'PENDING'::text)`, `is_active`, `NOT is_active`,
 * `(removed_at IS NULL)`, `role::text = 'PRIMARY'::text AND …`, `OR`, `IN (…)`, `= ANY (ARRAY[…])`,
 * `<> ALL (ARRAY[…])`, `IS [NOT] DISTINCT FROM`. Columns must be among `columns`.
 */
export function parsePredicate(text: string, columns: ColumnTypes): ParsedPredicate {
  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  const parser = new Parser(tokens, columns);
  try {
    const predicate = parser.parse();
    return { ok: true, predicate };
  } catch (error) {
    if (error instanceof Unsupported) return { ok: false, reason: error.message };
    throw error;
  }
}

/**
 * The predicate a row must satisfy for a CHECK to let it through: a CHECK passes when its expression is
 * TRUE or NULL, while a row rule demands TRUE. NULL is tolerated where the schema can store it (nullable
 * columns); a NULL in a NOT NULL column keeps failing, so a schema that drops the NOT NULL is caught.
 */
export function checkPasses(expression: Predicate, nullable: (column: string) => boolean): Predicate {
  return notFalse(expression, nullable);
}

function notFalse(p: Predicate, nullable: (column: string) => boolean): Predicate {
  if (isValuePredicate(p)) return leafNotFalse(p, nullable(p.column));
  switch (p.op) {
    case 'and':
      return and(...p.of.map((q) => notFalse(q, nullable)));
    case 'or':
      return or(...p.of.map((q) => notFalse(q, nullable)));
    case 'not':
      return notTrue(p.of, nullable);
    default:
      return p; // IS [NOT] NULL / TRUE / FALSE are never NULL
  }
}

function notTrue(p: Predicate, nullable: (column: string) => boolean): Predicate {
  if (isValuePredicate(p)) return leafNotFalse(complement(p), nullable(p.column));
  switch (p.op) {
    case 'and':
      return or(...p.of.map((q) => notTrue(q, nullable)));
    case 'or':
      return and(...p.of.map((q) => notTrue(q, nullable)));
    case 'not':
      return notFalse(p.of, nullable);
    case 'isNull':
      return isNotNull(p.column);
    case 'isNotNull':
      return isNull(p.column);
    case 'isTrue':
      return isNotTrue(p.column);
    case 'isNotTrue':
      return isTrue(p.column);
    default:
      return not(p);
  }
}

const COMPLEMENT: Record<ComparisonOp, ComparisonOp> = { eq: 'ne', ne: 'eq', lt: 'ge', ge: 'lt', le: 'gt', gt: 'le' };

/** The leaf that is TRUE exactly where `p` is FALSE (both are NULL on a NULL column). */
function complement(p: ValuePredicate): ValuePredicate {
  if (p.op === 'in' || p.op === 'notIn') return { ...p, op: p.op === 'in' ? 'notIn' : 'in' };
  return { ...p, op: COMPLEMENT[p.op] } as ValuePredicate;
}

/**
 * TRUE where a leaf is not FALSE. A leaf is NULL on a NULL column, and a membership test with NULL in
 * its list is NULL where it would otherwise be FALSE: [NOT] IN (a, NULL) reads as [NOT] IN (a) or NULL.
 */
function leafNotFalse(p: ValuePredicate, nullable: boolean): Predicate {
  const withNull = (q: Predicate) => (nullable ? or(isNull(p.column), q) : q);
  if (p.op !== 'in' && p.op !== 'notIn') return withNull(p);
  const known = p.values.filter((v) => v !== null);
  if (known.length === p.values.length) return withNull(p);
  // IN with a NULL is never FALSE; NOT IN with a NULL is FALSE only on a listed value.
  if (p.op === 'in' || known.length === 0) return withNull(isNotNull(p.column));
  return withNull({ ...p, values: known });
}

/** A literal a predicate compares a column with: the operator, and the case folding applied to the column. */
export interface ComparedLiteral {
  readonly column: string;
  readonly op: ValuePredicate['op'];
  readonly value: Exclude<Value, null>;
  readonly fold?: Fold;
}

/** Every literal a predicate compares a column with, in order of appearance. */
export function comparedLiterals(predicate: Predicate): ComparedLiteral[] {
  const found: ComparedLiteral[] = [];
  const visit = (p: Predicate): void => {
    if (isValuePredicate(p)) {
      const values = 'values' in p ? p.values : [p.value];
      for (const value of values) if (value !== null) found.push({ column: p.column, op: p.op, value, ...(p.fold ? { fold: p.fold } : {}) });
    } else if (p.op === 'and' || p.op === 'or') p.of.forEach(visit);
    else if (p.op === 'not') visit(p.of);
  };
  visit(predicate);
  return found;
}

/** The values a predicate tests each column for equality with (=, <>, IN), in order of appearance; order comparisons and case-folded ones are left to comparedLiterals. */
export function comparedValues(predicate: Predicate): Map<string, Exclude<Value, null>[]> {
  const found = new Map<string, Exclude<Value, null>[]>();
  for (const column of predicateColumnsInOrder(predicate)) found.set(column, []);
  for (const literal of comparedLiterals(predicate)) {
    if (literal.fold || !['eq', 'ne', 'in', 'notIn'].includes(literal.op)) continue;
    const list = found.get(literal.column)!;
    if (!list.some((v) => String(v) === String(literal.value))) list.push(literal.value);
  }
  return found;
}

function predicateColumnsInOrder(p: Predicate): string[] {
  if (p.op === 'and' || p.op === 'or') return [...new Set(p.of.flatMap(predicateColumnsInOrder))];
  if (p.op === 'not') return predicateColumnsInOrder(p.of);
  return 'column' in p ? [p.column] : [];
}

/** A predicate as SQL-like text, for comments and titles. */
export function describePredicate(p: Predicate): string {
  const value = (v: Value) => (v === null ? 'NULL' : typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v));
  const column = (q: ValuePredicate) => (q.fold ? `${q.fold}(${q.column})` : q.column);
  switch (p.op) {
    case 'eq':
    case 'ne':
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
      return `${column(p)} ${sqlOperator(p.op)} ${value(p.value)}`;
    case 'in':
    case 'notIn':
      return `${column(p)} ${p.op === 'in' ? 'IN' : 'NOT IN'} (${p.values.map(value).join(', ')})`;
    case 'isNull':
      return `${p.column} IS NULL`;
    case 'isNotNull':
      return `${p.column} IS NOT NULL`;
    case 'isTrue':
      return `${p.column} IS TRUE`;
    case 'isFalse':
      return `${p.column} IS FALSE`;
    case 'isNotTrue':
      return `${p.column} IS NOT TRUE`;
    case 'and':
    case 'or':
      return p.of.map((q) => (q.op === 'and' || q.op === 'or' ? `(${describePredicate(q)})` : describePredicate(q))).join(p.op === 'and' ? ' AND ' : ' OR ');
    case 'not':
      return `NOT (${describePredicate(p.of)})`;
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || ((c === 'E' || c === 'e') && text[i + 1] === "'")) {
      const escaped = c !== "'";
      let j = escaped ? i + 2 : i + 1;
      let value = '';
      for (;;) {
        if (j >= text.length) throw new Unsupported('an unterminated string literal');
        const d = text[j]!;
        if (d === "'" && text[j + 1] === "'") {
          value += "'";
          j += 2;
        } else if (d === "'") {
          j++;
          break;
        } else if (escaped && d === '\\') {
          throw new Unsupported('an escaped string literal');
        } else {
          value += d;
          j++;
        }
      }
      tokens.push({ kind: 'string', text: value });
      i = j;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new Unsupported('an unterminated quoted identifier');
      tokens.push({ kind: 'word', text: text.slice(i + 1, end), quoted: true });
      i = end + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][\w$]*/.exec(text.slice(i))![0];
      tokens.push({ kind: 'word', text: match.toLowerCase(), quoted: false });
      i += match.length;
    } else if (/\d/.test(c) || (c === '-' && /\d/.test(text[i + 1] ?? '') && previousAllowsSign(tokens))) {
      const match = /^-?\d+(\.\d+)?/.exec(text.slice(i))![0];
      tokens.push({ kind: 'number', text: match });
      i += match.length;
    } else if (text.startsWith('::', i)) {
      tokens.push({ kind: 'symbol', text: '::' });
      i += 2;
    } else if ('()[],.'.includes(c)) {
      tokens.push({ kind: 'symbol', text: c });
      i++;
    } else {
      const match = /^[+\-*/<>=~!@#%^&|`?]+/.exec(text.slice(i));
      if (!match) throw new Unsupported(`the character ${c}`);
      tokens.push({ kind: 'symbol', text: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
}

function previousAllowsSign(tokens: readonly Token[]): boolean {
  const last = tokens.at(-1);
  return !last || (last.kind === 'symbol' && last.text !== ')' && last.text !== ']') || (last.kind === 'word' && KEYWORDS.has(last.text));
}

class Parser {
  private at = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly columns: ColumnTypes,
  ) {}

  parse(): Predicate {
    if (this.tokens.length === 0) throw new Unsupported('an empty predicate');
    const item = this.orExpression();
    if (this.at < this.tokens.length) throw new Unsupported(`"${this.describeRest()}"`);
    return this.toPredicate(item);
  }

  private orExpression(): Item {
    const parts = [this.andExpression()];
    while (this.keyword('or')) parts.push(this.andExpression());
    return parts.length === 1 ? parts[0]! : { kind: 'predicate', predicate: or(...parts.map((p) => this.toPredicate(p))) };
  }

  private andExpression(): Item {
    const parts = [this.notExpression()];
    while (this.keyword('and')) parts.push(this.notExpression());
    return parts.length === 1 ? parts[0]! : { kind: 'predicate', predicate: and(...parts.map((p) => this.toPredicate(p))) };
  }

  private notExpression(): Item {
    if (this.keyword('not')) return { kind: 'predicate', predicate: not(this.toPredicate(this.notExpression())) };
    return this.comparison();
  }

  private comparison(): Item {
    const left = this.primary();
    if (this.keyword('is')) return { kind: 'predicate', predicate: this.isTest(left) };
    const negatedIn = this.peekWord('not') && this.peekWord('in', 1);
    if (negatedIn || this.peekWord('in')) {
      if (negatedIn) this.at++;
      this.at++;
      const column = this.columnOf(left, negatedIn ? 'NOT IN' : 'IN');
      const values = this.literalList('(', ')').map((v) => this.literalFor(column, v, 'eq'));
      return { kind: 'predicate', predicate: { op: negatedIn ? 'notIn' : 'in', ...operandOf(column), values } };
    }
    const operator = this.peekSymbol();
    const op = operator === undefined ? undefined : OPERATORS[operator];
    if (op) {
      this.at++;
      if (this.peekWord('any') || this.peekWord('some') || this.peekWord('all')) return { kind: 'predicate', predicate: this.quantified(left, operator!, op) };
      const right = this.primary();
      if ((left.kind === 'predicate' || right.kind === 'predicate') && (op === 'eq' || op === 'ne')) return { kind: 'predicate', predicate: this.booleanComparison(left, right, op) };
      const [column, literal, flipped] = this.columnAndLiteral(left, right, operator!);
      const actual = flipped ? FLIPPED[op] : op;
      return { kind: 'predicate', predicate: { op: actual, ...operandOf(column), value: this.literalFor(column, literal, actual) as Exclude<Value, null> } };
    }
    if (operator !== undefined && operator !== ')' && operator !== ',' && operator !== ']') throw new Unsupported(`the operator ${operator}`);
    return left;
  }

  /**
   * Two conditions compared: `(a IS NOT NULL) <> (b IS NOT NULL)` is an XOR (exactly one of them), `=` is
   * "both or neither". Spelled with AND, OR and NOT, which keep SQL's NULL where either side is NULL.
   */
  private booleanComparison(left: Item, right: Item, op: 'eq' | 'ne'): Predicate {
    const [a, b] = [this.toPredicate(left), this.toPredicate(right)];
    return op === 'ne' ? or(and(a, not(b)), and(not(a), b)) : or(and(a, b), and(not(a), not(b)));
  }

  /** `= ANY (ARRAY[…])` is IN, `<> ALL (ARRAY[…])` is NOT IN; other quantified comparisons are refused. */
  private quantified(left: Item, operator: string, op: ComparisonOp): Predicate {
    const quantifier = (this.next() as { text: string }).text;
    const column = this.columnOf(left, `${operator} ${quantifier.toUpperCase()}`);
    this.expectSymbol('(');
    let values: Value[];
    if (this.keyword('array')) {
      values = this.literalList('[', ']');
    } else if (this.tokens[this.at]?.kind === 'string') {
      values = arrayLiteral(this.tokens[this.at++]!.text);
    } else {
      throw new Unsupported(`${operator} ${quantifier.toUpperCase()} over something other than an array literal`);
    }
    this.skipCasts();
    this.expectSymbol(')');
    const typed = values.map((v) => this.literalFor(column, v, 'eq'));
    if (quantifier === 'all' && op === 'ne') return { op: 'notIn', ...operandOf(column), values: typed };
    if (quantifier !== 'all' && op === 'eq') return { op: 'in', ...operandOf(column), values: typed };
    throw new Unsupported(`${operator} ${quantifier.toUpperCase()}`);
  }

  private isTest(left: Item): Predicate {
    const negated = this.keyword('not');
    if (this.keyword('distinct')) {
      if (!this.keyword('from')) throw new Unsupported('IS DISTINCT without FROM');
      const right = this.primary();
      const [column, literal] = this.columnAndLiteral(left, right, 'IS DISTINCT FROM');
      const equal: Predicate = { op: 'eq', ...operandOf(column), value: this.literalFor(column, literal, 'eq') as Exclude<Value, null> };
      // Never NULL: IS DISTINCT FROM treats NULL as a value.
      return negated ? and(isNotNull(column.name), equal) : or(isNull(column.name), not(equal));
    }
    const column = this.columnOf(left, 'IS');
    if (column.fold) throw new Unsupported(`${column.fold}() in an IS test`);
    if (this.keyword('null') || this.keyword('unknown')) return negated ? isNotNull(column.name) : isNull(column.name);
    if (this.keyword('true')) return negated ? isNotTrue(column.name) : isTrue(column.name);
    if (this.keyword('false')) return negated ? not(isFalse(column.name)) : isFalse(column.name);
    throw new Unsupported(`IS ${negated ? 'NOT ' : ''}${this.describeRest()}`);
  }

  private primary(): Item {
    const token = this.next();
    if (!token) throw new Unsupported('a predicate that ends too early');
    let item: Item;
    if (token.kind === 'symbol' && token.text === '(') {
      item = this.orExpression();
      this.expectSymbol(')');
    } else if (token.kind === 'string') {
      item = { kind: 'operand', operand: { kind: 'literal', value: token.text } };
    } else if (token.kind === 'number') {
      item = { kind: 'operand', operand: { kind: 'literal', value: Number(token.text) } };
    } else if (token.kind === 'word' && !token.quoted && (token.text === 'true' || token.text === 'false')) {
      item = { kind: 'operand', operand: { kind: 'literal', value: token.text === 'true' } };
    } else if (token.kind === 'word' && !token.quoted && token.text === 'null') {
      item = { kind: 'operand', operand: { kind: 'literal', value: null } };
    } else if (token.kind === 'word') {
      if (this.peekSymbol() === '(') return this.folded(token.text);
      if (this.peekSymbol() === '.') throw new Unsupported(`the qualified name ${token.text}.…`);
      if (!token.quoted && KEYWORDS.has(token.text)) throw new Unsupported(`the keyword ${token.text.toUpperCase()} here`);
      if (!this.columns.has(token.text)) throw new Unsupported(`"${token.text}", which is not a column of the table`);
      item = { kind: 'operand', operand: { kind: 'column', name: token.text } };
    } else {
      throw new Unsupported(`"${token.text}"`);
    }
    if (this.peekSymbol() === '::') {
      if (item.kind !== 'operand') throw new Unsupported('a cast of a boolean expression');
      this.skipCasts();
    }
    return item;
  }

  /** `lower(email)`, `upper((code)::text)`: a text column, case-folded. Any other function is refused. */
  private folded(name: string): Item {
    if (name !== 'lower' && name !== 'upper') throw new Unsupported(`the function ${name}(…) (only lower() and upper() of a column are read)`);
    this.expectSymbol('(');
    const inner = this.primary();
    this.expectSymbol(')');
    if (inner.kind !== 'operand' || inner.operand.kind !== 'column' || inner.operand.fold) throw new Unsupported(`${name}() of something other than a column`);
    const type = this.columns.get(inner.operand.name) ?? '';
    if (!TEXT_TYPE.test(type)) throw new Unsupported(`${name}() of the ${type} column ${inner.operand.name}`);
    this.skipCasts();
    return { kind: 'operand', operand: { kind: 'column', name: inner.operand.name, fold: name } };
  }

  /**
   * A literal as the model compares it with the column: numbers for numeric columns (exactly, or refused),
   * and for an order comparison only types whose order the model knows (see value-order.ts).
   */
  private literalFor(column: ColumnOperandOf, value: Value, op: ComparisonOp): Value {
    if (value === null) return null;
    const type = column.fold ? 'text' : (this.columns.get(column.name) ?? '');
    const where = `${column.fold ? `${column.fold}(${column.name})` : column.name} ${sqlOperator(op)} ${String(value)}`;
    if (NUMBER_TYPE.test(type) && typeof value === 'string') {
      const number = Number(value);
      const exact = readDecimal(value);
      const back = readDecimal(number);
      if (!exact || !back || JSON.stringify(exact) !== JSON.stringify(back)) throw new Unsupported(`the number ${value}, which JavaScript cannot hold exactly (${where})`);
      value = number;
    }
    // The kit sends the literal as a parameter, which the server reads as a value of the column's type:
    // it must be one already (a time of day would be cut from a date, 1.5 refused by an integer).
    if (/^(smallint|integer|bigint)\b/.test(type) && typeof value === 'number' && !Number.isInteger(value)) throw new Unsupported(`the ${type} column compared with ${value} (${where})`);
    if (type === 'date' && typeof value === 'string' && !column.fold) {
      const instant = readInstant(value);
      if (instant && !instant.dateOnly) {
        if (instant.zoned || ((instant.seconds % 86_400) + 86_400) % 86_400 !== 0 || instant.micros !== 0) throw new Unsupported(`the date column compared with the time ${value} (${where})`);
        value = value.trim().slice(0, 10);
      }
    }
    if (op === 'eq' || op === 'ne') return value;
    if (NUMBER_TYPE.test(type) || type === 'boolean' || type === 'uuid') return value;
    if (TEXT_TYPE.test(type)) return String(value);
    const time = TIME_TYPE.exec(type);
    if (time) {
      const instant = readInstant(String(value));
      if (!instant || !Number.isFinite(instant.seconds)) throw new Unsupported(`the ${type} literal ${String(value)}, which init cannot read (${where})`);
      // A timestamptz against a date or a local time (or the reverse) depends on the session's TimeZone.
      const zonedColumn = /with time zone/.test(type);
      if (zonedColumn !== instant.zoned && !(time[1] === 'date' && instant.dateOnly)) {
        throw new Unsupported(`${where} compares a ${type} with a ${instant.zoned ? 'zoned' : 'local'} time, which depends on the session's TimeZone`);
      }
      return value;
    }
    throw new Unsupported(`the order of ${type} values (${where}), which the model does not know`);
  }

  /** `::text`, `::character varying(50)`, `::text[]`, several in a row. */
  private skipCasts(): void {
    while (this.peekSymbol() === '::') {
      this.at++;
      const type = this.next();
      if (type?.kind !== 'word') throw new Unsupported('a cast to an unreadable type');
      while (this.peekType()) this.at++;
      if (this.peekSymbol() === '(') {
        while (this.next() && this.tokens[this.at - 1]!.text !== ')');
      }
      while (this.peekSymbol() === '[' && this.tokens[this.at + 1]?.text === ']') this.at += 2;
    }
  }

  private peekType(): boolean {
    const token = this.tokens[this.at];
    return token?.kind === 'word' && !token.quoted && TYPE_WORDS.has(token.text);
  }

  private literalList(open: string, close: string): Value[] {
    this.expectSymbol(open);
    const values: Value[] = [];
    for (;;) {
      const item = this.primary();
      if (item.kind !== 'operand' || item.operand.kind !== 'literal') throw new Unsupported('a list holding something other than literals');
      values.push(item.operand.value);
      if (this.peekSymbol() === ',') {
        this.at++;
        continue;
      }
      this.expectSymbol(close);
      return values;
    }
  }

  private toPredicate(item: Item): Predicate {
    if (item.kind === 'predicate') return item.predicate;
    if (item.operand.kind === 'column') {
      if (item.operand.fold) throw new Unsupported(`${item.operand.fold}(${item.operand.name}) used as a condition`);
      const type = this.columns.get(item.operand.name);
      if (type !== 'boolean') throw new Unsupported(`the ${type ?? ''} column ${item.operand.name} used as a condition`);
      return { op: 'eq', column: item.operand.name, value: true };
    }
    throw new Unsupported(`the constant ${String(item.operand.value)} used as a condition`);
  }

  private columnOf(item: Item, operator: string): ColumnOperandOf {
    if (item.kind === 'operand' && item.operand.kind === 'column') return item.operand;
    throw new Unsupported(`${operator} applied to something other than a column`);
  }

  /** The column, the literal, and whether the column stood on the right (so that < reads as >). */
  private columnAndLiteral(left: Item, right: Item, operator: string): [ColumnOperandOf, Exclude<Value, null>, boolean] {
    const [a, b] = [left, right].map((i) => (i.kind === 'operand' ? i.operand : undefined));
    if ((a?.kind === 'literal' && a.value === null) || (b?.kind === 'literal' && b.value === null)) throw new Unsupported(`${operator} NULL, which is never true`);
    if (a?.kind === 'column' && b?.kind === 'literal' && b.value !== null) return [a, b.value, false];
    if (a?.kind === 'literal' && b?.kind === 'column' && a.value !== null) return [b, a.value, true];
    throw new Unsupported(`${operator} between two ${a?.kind === 'column' && b?.kind === 'column' ? 'columns' : 'expressions'}`);
  }

  private keyword(word: string): boolean {
    if (!this.peekWord(word)) return false;
    this.at++;
    return true;
  }

  private peekWord(word: string, ahead = 0): boolean {
    const token = this.tokens[this.at + ahead];
    return token?.kind === 'word' && !token.quoted && token.text === word;
  }

  private peekSymbol(): string | undefined {
    const token = this.tokens[this.at];
    return token?.kind === 'symbol' ? token.text : undefined;
  }

  private expectSymbol(symbol: string): void {
    const token = this.next();
    if (token?.kind !== 'symbol' || token.text !== symbol) throw new Unsupported(`"${token?.text ?? 'the end'}" where ${symbol} was expected`);
  }

  private next(): Token | undefined {
    return this.tokens[this.at++];
  }

  private describeRest(): string {
    return this.tokens
      .slice(this.at, this.at + 4)
      .map((t) => t.text)
      .join(' ');
  }
}
