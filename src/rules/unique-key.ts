import { quoteIdent } from '../db/connection.ts';
import type { Predicate } from './predicate.ts';
import type { Row, Value } from './rule.ts';

/** A unique key of a table: a partial unique index, a unique constraint, a natural primary key. */
export interface UniqueKey {
  readonly key: readonly string[];
  /** Rows the key applies to (a partial unique index). */
  readonly where?: Predicate;
  /** Key columns compared case-insensitively (lower()). */
  readonly fold?: readonly string[];
  /**
   * Key columns the index compares through an expression of the column alone, column → SQL, e.g.
   * `dedup_key: "lower(coalesce(dedup_key, ''))"` or `tags: "tags ->> 'owner'"`. The model evaluates the
   * expression the way the server does: lower(), upper(), btrim(), coalesce() (with text, integer and uuid
   * literals), ->> and -> on JSON, text casts.
   */
  readonly expressions?: Readonly<Record<string, string>>;
}

/** A key expression read into a tree: what the model evaluates. */
type KeyTerm =
  | { readonly kind: 'column'; readonly name: string }
  | { readonly kind: 'literal'; readonly value: string | null }
  | { readonly kind: 'call'; readonly name: 'lower' | 'upper' | 'btrim' | 'coalesce'; readonly args: readonly KeyTerm[] }
  | { readonly kind: 'field'; readonly of: KeyTerm; readonly field: string; readonly text: boolean };

/** A key expression, read: its one column and its evaluation. */
export interface KeyExpression {
  readonly column: string;
  readonly sql: string;
  /** The JSON fields the expression reads from the column, outermost first (`tags ->> 'owner'`: ["owner"]); empty for a plain value. */
  readonly jsonPath: readonly string[];
  /** Whether the expression folds case (lower() or upper()). */
  readonly foldsCase: boolean;
  /** The key part a row's value stands for, as the server computes it (NULL: never collides). */
  image(value: unknown): Value;
}

/** Reads a key expression over one column; the reason when the model cannot evaluate it. */
export function parseKeyExpression(sql: string): { ok: true; expression: KeyExpression } | { ok: false; reason: string } {
  try {
    const reader = new TermReader(sql);
    const term = reader.term();
    reader.end();
    const columns = new Set(columnsOf(term));
    if (columns.size !== 1) return { ok: false, reason: `it reads ${columns.size === 0 ? 'no column' : `${columns.size} columns`}; a key expression reads one` };
    const [column] = columns as Set<string>;
    return {
      ok: true,
      expression: { column: column!, sql, jsonPath: jsonPathOf(term), foldsCase: callsOf(term).some((name) => name === 'lower' || name === 'upper'), image: (value) => toKeyValue(evaluate(term, value)) },
    };
  } catch (error) {
    if (error instanceof Unreadable) return { ok: false, reason: error.message };
    throw error;
  }
}

/** How one unique key compares rows: the key parts of a row, and the same parts as SQL over the table. */
export class KeyComparison {
  private readonly images = new Map<string, KeyExpression>();

  constructor(private readonly unique: UniqueKey) {
    for (const [column, sql] of Object.entries(unique.expressions ?? {})) {
      const parsed = parseKeyExpression(sql);
      if (!parsed.ok) throw new Error(`the key expression of ${column} (${sql}) cannot be evaluated: ${parsed.reason}`);
      if (parsed.expression.column !== column) throw new Error(`the key expression of ${column} (${sql}) reads ${parsed.expression.column}`);
      this.images.set(column, parsed.expression);
    }
  }

  /** The row's key parts, each as a string or NULL (a NULL part never collides, as in a unique index). */
  parts(row: Row): Value[] {
    return this.unique.key.map((column) => {
      const value = row[column] ?? null;
      const expression = this.images.get(column);
      if (expression) return expression.image(value);
      if (this.unique.fold?.includes(column) && typeof value === 'string') return value.toLowerCase();
      return value === null ? null : String(value);
    });
  }

  /** Each key part as SQL over the table's columns. */
  sql(): string[] {
    return this.unique.key.map((column) => {
      const expression = this.images.get(column);
      if (expression) return `(${expression.sql})`;
      return this.unique.fold?.includes(column) ? `lower(${quoteIdent(column)})` : quoteIdent(column);
    });
  }
}

class Unreadable extends Error {}

const FUNCTIONS = new Set(['lower', 'upper', 'btrim', 'coalesce']);
/** Casts that leave a text value as it is (PostgreSQL prints `''::text` and `(x)::text` in index definitions). */
const TEXT_CASTS = /^(text|character varying|varchar|citext|bpchar|name)$/i;
/** Casts of a literal whose text is the value's own spelling: uuids and integers. */
const LITERAL_CASTS = /^(uuid|integer|int|int2|int4|int8|bigint|smallint)$/i;

/** A recursive-descent reader of the small expression language a key may use. */
class TermReader {
  private at = 0;

  constructor(private readonly text: string) {}

  end(): void {
    this.space();
    if (this.at < this.text.length) throw new Unreadable(`unexpected ${JSON.stringify(this.text.slice(this.at, this.at + 12))}`);
  }

  term(): KeyTerm {
    let term = this.primary();
    for (;;) {
      this.space();
      if (this.take('::')) {
        const type = this.typeName();
        // A literal keeps its text under a cast to a type that spells it the same (coalesce(org_id, '0…0'::uuid)).
        if (!TEXT_CASTS.test(type) && !(term.kind === 'literal' && LITERAL_CASTS.test(type))) throw new Unreadable(`a cast to ${type}`);
      } else if (this.take('->>')) term = { kind: 'field', of: term, field: this.fieldName(), text: true };
      else if (this.take('->')) term = { kind: 'field', of: term, field: this.fieldName(), text: false };
      else return term;
    }
  }

  private primary(): KeyTerm {
    this.space();
    if (this.take('(')) {
      const inner = this.term();
      this.expect(')');
      return inner;
    }
    if (this.peek() === "'") return { kind: 'literal', value: this.literal() };
    const number = /^-?\d+(?![\w.])/.exec(this.text.slice(this.at))?.[0];
    if (number !== undefined) {
      this.at += number.length;
      return { kind: 'literal', value: String(Number(number)) };
    }
    const name = this.identifier();
    this.space();
    if (!this.take('(')) return /^null$/i.test(name) ? { kind: 'literal', value: null } : { kind: 'column', name };
    const fn = name.toLowerCase();
    if (!FUNCTIONS.has(fn)) throw new Unreadable(`the function ${name}()`);
    const args = [this.term()];
    for (this.space(); this.take(','); this.space()) args.push(this.term());
    this.expect(')');
    if (fn !== 'coalesce' && args.length !== 1) throw new Unreadable(`${name}() with ${args.length} arguments`);
    return { kind: 'call', name: fn as 'lower', args };
  }

  private fieldName(): string {
    this.space();
    const term = this.primary();
    if (term.kind !== 'literal' || term.value === null) throw new Unreadable('a JSON field named by something other than a string');
    this.space();
    if (this.take('::')) this.typeName();
    return term.value;
  }

  private identifier(): string {
    this.space();
    if (this.take('"')) {
      let name = '';
      for (;;) {
        const end = this.text.indexOf('"', this.at);
        if (end < 0) throw new Unreadable('an unterminated quoted name');
        name += this.text.slice(this.at, end);
        this.at = end + 1;
        if (!this.take('"')) return name;
        name += '"';
      }
    }
    const word = /^[A-Za-z_][\w$]*/.exec(this.text.slice(this.at))?.[0];
    if (!word) throw new Unreadable(`unexpected ${JSON.stringify(this.text.slice(this.at, this.at + 12)) || 'end'}`);
    this.at += word.length;
    return word.toLowerCase();
  }

  private typeName(): string {
    this.space();
    const type = /^[A-Za-z_][\w ]*?(?=\s*(?:\)|,|$|::|->))/.exec(this.text.slice(this.at))?.[0];
    if (!type) throw new Unreadable('a cast without a type name');
    this.at += type.length;
    return type.trim();
  }

  private literal(): string {
    this.expect("'");
    let value = '';
    for (;;) {
      const end = this.text.indexOf("'", this.at);
      if (end < 0) throw new Unreadable('an unterminated string');
      value += this.text.slice(this.at, end);
      this.at = end + 1;
      if (!this.take("'")) return value;
      value += "'";
    }
  }

  private space(): void {
    while (/\s/.test(this.text[this.at] ?? '')) this.at++;
  }

  private peek(): string | undefined {
    this.space();
    return this.text[this.at];
  }

  private take(token: string): boolean {
    if (!this.text.startsWith(token, this.at)) return false;
    this.at += token.length;
    return true;
  }

  private expect(token: string): void {
    this.space();
    if (!this.take(token)) throw new Unreadable(`expected ${token}`);
  }
}

function columnsOf(term: KeyTerm): string[] {
  if (term.kind === 'column') return [term.name];
  if (term.kind === 'call') return term.args.flatMap(columnsOf);
  if (term.kind === 'field') return columnsOf(term.of);
  return [];
}

function callsOf(term: KeyTerm): string[] {
  if (term.kind === 'call') return [term.name, ...term.args.flatMap(callsOf)];
  if (term.kind === 'field') return callsOf(term.of);
  return [];
}

/** The chain of fields read directly from the column, wherever it sits in the expression. */
function jsonPathOf(term: KeyTerm): string[] {
  if (term.kind === 'field') return term.of.kind === 'column' ? [term.field] : [...jsonPathOf(term.of), ...(jsonPathOf(term.of).length ? [term.field] : [])];
  if (term.kind === 'call') return term.args.map(jsonPathOf).find((path) => path.length > 0) ?? [];
  return [];
}

/** What a term stands for: text, a JSON value (from ->), or NULL. */
type Evaluated = { readonly text: string } | { readonly json: unknown } | null;

function evaluate(term: KeyTerm, value: unknown): Evaluated {
  switch (term.kind) {
    case 'column':
      return value === null || value === undefined ? null : typeof value === 'object' ? { json: value } : { text: String(value) };
    case 'literal':
      return term.value === null ? null : { text: term.value };
    case 'field': {
      const of = evaluate(term.of, value);
      const document = of === null ? undefined : 'json' in of ? of.json : parseJson(of.text);
      const field = document !== null && typeof document === 'object' && !Array.isArray(document) ? (document as Record<string, unknown>)[term.field] : undefined;
      if (field === undefined) return null;
      if (!term.text) return { json: field };
      // ->> gives NULL for a JSON null, a string's own text, and any other value as JSON text.
      return field === null ? null : { text: typeof field === 'string' ? field : jsonText(field) };
    }
    case 'call': {
      if (term.name === 'coalesce') {
        for (const arg of term.args) {
          const found = evaluate(arg, value);
          if (found !== null) return found;
        }
        return null;
      }
      const arg = evaluate(term.args[0]!, value);
      if (arg === null) return null;
      const text = 'text' in arg ? arg.text : jsonText(arg.json);
      return { text: term.name === 'lower' ? text.toLowerCase() : term.name === 'upper' ? text.toUpperCase() : text.replace(/^ +| +$/g, '') };
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toKeyValue(evaluated: Evaluated): Value {
  if (evaluated === null) return null;
  return 'text' in evaluated ? evaluated.text : jsonText(evaluated.json);
}

/** A JSON value's text with object keys sorted: jsonb forgets key order, so two orders are one value. */
function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : inner,
  );
}
