import { and, eq, isFalse, isNotNull, isNotTrue, isNull, isTrue, not, or, type Predicate } from '../rules/predicate.ts';
import type { Value } from '../rules/rule.ts';

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

type Operand = { readonly kind: 'column'; readonly name: string } | { readonly kind: 'literal'; readonly value: Value };
type Item = { readonly kind: 'operand'; readonly operand: Operand } | { readonly kind: 'predicate'; readonly predicate: Predicate };

class Unsupported extends Error {}

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
  switch (p.op) {
    case 'eq':
      return nullable(p.column) ? or(isNull(p.column), p) : p;
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
  switch (p.op) {
    case 'eq':
      return nullable(p.column) ? or(isNull(p.column), not(p)) : not(p);
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
    case 'isFalse':
      return not(p);
  }
}

/** The literal values a predicate compares each column with, in order of appearance. */
export function comparedValues(predicate: Predicate): Map<string, Exclude<Value, null>[]> {
  const found = new Map<string, Exclude<Value, null>[]>();
  const visit = (p: Predicate): void => {
    switch (p.op) {
      case 'eq': {
        const list = found.get(p.column) ?? [];
        if (!list.some((v) => String(v) === String(p.value))) list.push(p.value);
        found.set(p.column, list);
        return;
      }
      case 'and':
      case 'or':
        return p.of.forEach(visit);
      case 'not':
        return visit(p.of);
      default:
        if (!found.has(p.column)) found.set(p.column, []);
    }
  };
  visit(predicate);
  return found;
}

/** A predicate as SQL-like text, for comments and titles. */
export function describePredicate(p: Predicate): string {
  const value = (v: Exclude<Value, null>) => (typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v));
  switch (p.op) {
    case 'eq':
      return `${p.column} = ${value(p.value)}`;
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
      const values = this.literalList('(', ')');
      const column = this.columnOf(left, 'IN');
      const any = or(...values.map((v) => eq(column, v)));
      return { kind: 'predicate', predicate: negatedIn ? not(any) : any };
    }
    const operator = this.peekSymbol();
    if (operator === '=' || operator === '<>' || operator === '!=') {
      this.at++;
      const negated = operator !== '=';
      if (this.peekWord('any') || this.peekWord('some') || this.peekWord('all')) {
        const quantifier = (this.next() as { text: string }).text;
        const column = this.columnOf(left, `${operator} ${quantifier.toUpperCase()}`);
        this.expectSymbol('(');
        if (!this.keyword('array')) throw new Unsupported(`${operator} ${quantifier.toUpperCase()} over something other than an ARRAY[…] literal`);
        const values = this.literalList('[', ']');
        this.skipCasts();
        this.expectSymbol(')');
        const matches = values.map((v) => eq(column, v));
        if (quantifier === 'all') {
          if (!negated) throw new Unsupported('= ALL');
          return { kind: 'predicate', predicate: and(...matches.map((m) => not(m))) };
        }
        if (negated) throw new Unsupported('<> ANY');
        return { kind: 'predicate', predicate: or(...matches) };
      }
      const right = this.primary();
      const [column, literal] = this.columnAndLiteral(left, right, operator);
      const equal = eq(column, literal);
      return { kind: 'predicate', predicate: negated ? not(equal) : equal };
    }
    if (operator !== undefined && operator !== ')' && operator !== ',' && operator !== ']') throw new Unsupported(`the operator ${operator}`);
    return left;
  }

  private isTest(left: Item): Predicate {
    const negated = this.keyword('not');
    if (this.keyword('distinct')) {
      if (!this.keyword('from')) throw new Unsupported('IS DISTINCT without FROM');
      const right = this.primary();
      const [column, literal] = this.columnAndLiteral(left, right, 'IS DISTINCT FROM');
      // Never NULL: IS DISTINCT FROM treats NULL as a value.
      return negated ? and(isNotNull(column), eq(column, literal)) : or(isNull(column), not(eq(column, literal)));
    }
    const column = this.columnOf(left, 'IS');
    if (this.keyword('null') || this.keyword('unknown')) return negated ? isNotNull(column) : isNull(column);
    if (this.keyword('true')) return negated ? isNotTrue(column) : isTrue(column);
    if (this.keyword('false')) return negated ? not(isFalse(column)) : isFalse(column);
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
      throw new Unsupported('a comparison with NULL');
    } else if (token.kind === 'word') {
      if (this.peekSymbol() === '(') throw new Unsupported(`the function ${token.text}(…)`);
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

  private literalList(open: string, close: string): Exclude<Value, null>[] {
    this.expectSymbol(open);
    const values: Exclude<Value, null>[] = [];
    for (;;) {
      const item = this.primary();
      if (item.kind !== 'operand' || item.operand.kind !== 'literal') throw new Unsupported('a list holding something other than literals');
      if (item.operand.value === null) throw new Unsupported('NULL in a list');
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
      const type = this.columns.get(item.operand.name);
      if (type !== 'boolean') throw new Unsupported(`the ${type ?? ''} column ${item.operand.name} used as a condition`);
      return eq(item.operand.name, true);
    }
    throw new Unsupported(`the constant ${String(item.operand.value)} used as a condition`);
  }

  private columnOf(item: Item, operator: string): string {
    if (item.kind === 'operand' && item.operand.kind === 'column') return item.operand.name;
    throw new Unsupported(`${operator} applied to something other than a column`);
  }

  private columnAndLiteral(left: Item, right: Item, operator: string): [string, Exclude<Value, null>] {
    const [a, b] = [left, right].map((i) => (i.kind === 'operand' ? i.operand : undefined));
    if (a?.kind === 'column' && b?.kind === 'literal' && b.value !== null) return [a.name, b.value];
    if (a?.kind === 'literal' && b?.kind === 'column' && a.value !== null) return [b.name, a.value];
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
