// Reading the SQL text PostgreSQL prints for its own objects (pg_get_expr, pg_get_indexdef,
// pg_get_constraintdef, pg_get_triggerdef): only as far as mutate and init need. The text is the
// server's own deparse, so it is well-formed; what must be right is never splitting inside a
// string literal, a quoted identifier, a parenthesised group, a CASE … END or a BETWEEN … AND.

/** One character of SQL text outside literals and quoted identifiers, and its nesting depth. */
interface Position {
  readonly index: number;
  readonly depth: number;
}

/**
 * The positions of `text` outside string literals and quoted identifiers, with the depth of
 * parentheses, brackets and CASE … END around each. A literal or identifier counts as nothing.
 */
function positions(text: string): Position[] {
  const found: Position[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "'" || ch === '"') {
      i = closingQuote(text, i);
      continue;
    }
    // An opening bracket sits at the depth outside it, its closing one too, so a pair shares a depth.
    if (ch === ')' || ch === ']') depth--;
    const word = wordAt(text, i);
    if (word === 'END') depth--;
    const length = word?.length ?? 1;
    for (let j = 0; j < length; j++) found.push({ index: i + j, depth });
    if (ch === '(' || ch === '[' || word === 'CASE') depth++;
    i += length - 1;
  }
  return found;
}

/** The index of the quote that closes the literal or identifier opened at `open` (a doubled quote is an escaped one). */
function closingQuote(text: string, open: number): number {
  const quote = text[open]!;
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] !== quote) continue;
    if (text[i + 1] === quote) {
      i++;
      continue;
    }
    return i;
  }
  return text.length;
}

/** The upper-cased word starting at `i` when a word starts there, else undefined. */
function wordAt(text: string, i: number): string | undefined {
  if (i > 0 && /[\w$]/.test(text[i - 1]!)) return undefined;
  const match = /^[A-Za-z_][\w$]*/.exec(text.slice(i, i + 64));
  return match ? match[0].toUpperCase() : undefined;
}

/** Where `keyword` (a word, any case) occurs at nesting depth 0, in order. */
function topLevelKeyword(text: string, keyword: string): number[] {
  const wanted = keyword.toUpperCase();
  return positions(text)
    .filter((p) => p.depth === 0 && wordAt(text, p.index) === wanted)
    .map((p) => p.index);
}

/**
 * Splits a boolean expression at its top-level AND or OR: `a = 1 AND (b OR c)` by AND gives
 * `a = 1` and `(b OR c)`. The AND of a BETWEEN belongs to it and does not split. One part means
 * the expression is not such a conjunction (or disjunction).
 */
export function splitTopLevel(expression: string, operator: 'AND' | 'OR'): string[] {
  const text = stripOuterParentheses(expression);
  const cuts: number[] = [];
  let between = false;
  for (const p of positions(text)) {
    if (p.depth !== 0) continue;
    const word = wordAt(text, p.index);
    if (word === 'BETWEEN') between = true;
    if (word !== operator) continue;
    if (operator === 'AND' && between) {
      between = false;
      continue;
    }
    cuts.push(p.index);
  }
  const parts: string[] = [];
  let start = 0;
  for (const cut of cuts) {
    parts.push(text.slice(start, cut));
    start = cut + operator.length;
  }
  parts.push(text.slice(start));
  return parts.map((part) => stripOuterParentheses(part.trim()));
}

/** `((a AND b))` → `a AND b`: removes parentheses that enclose the whole text, as often as they do. */
export function stripOuterParentheses(text: string): string {
  let result = text.trim();
  while (result.startsWith('(') && matchingParenthesis(result, 0) === result.length - 1) result = result.slice(1, -1).trim();
  return result;
}

/** The index of the parenthesis closing the one at `open`, or -1. */
function matchingParenthesis(text: string, open: number): number {
  const start = positions(text).find((p) => p.index === open);
  if (!start || text[open] !== '(') return -1;
  for (const p of positions(text)) {
    if (p.index > open && text[p.index] === ')' && p.depth === start.depth) return p.index;
  }
  return -1;
}

/** The first top-level parenthesised list of `text` (a key list, an element list): its bounds and items. */
export function firstList(text: string): { open: number; close: number; items: string[] } | undefined {
  const open = positions(text).find((p) => p.depth === 0 && text[p.index] === '(')?.index;
  if (open === undefined) return undefined;
  const close = matchingParenthesis(text, open);
  if (close < 0) return undefined;
  const inner = text.slice(open + 1, close);
  const commas = positions(inner).filter((p) => p.depth === 0 && inner[p.index] === ',').map((p) => p.index);
  const items: string[] = [];
  let start = 0;
  for (const comma of [...commas, inner.length]) {
    items.push(inner.slice(start, comma).trim());
    start = comma + 1;
  }
  return { open, close, items };
}

/** `text` with the item at `index` of its first top-level list removed. */
export function withoutListItem(text: string, index: number): string {
  const list = firstList(text);
  if (!list || index < 0 || index >= list.items.length) throw new Error(`no item ${index} in the first list of ${text}`);
  const items = list.items.filter((_, i) => i !== index);
  return `${text.slice(0, list.open + 1)}${items.join(', ')}${text.slice(list.close)}`;
}

/**
 * A definition split at its top-level WHERE: what precedes it, the predicate, and what follows it
 * (DEFERRABLE … after an exclusion constraint's parenthesised predicate). Undefined without a WHERE.
 */
export function splitWhere(definition: string): { head: string; predicate: string; tail: string } | undefined {
  const at = topLevelKeyword(definition, 'WHERE').at(-1);
  if (at === undefined) return undefined;
  const head = definition.slice(0, at).trimEnd();
  const rest = definition.slice(at + 'WHERE'.length).trimStart();
  const restStart = definition.length - rest.length;
  if (rest.startsWith('(')) {
    const close = matchingParenthesis(definition, restStart);
    if (close >= 0) return { head, predicate: definition.slice(restStart + 1, close).trim(), tail: definition.slice(close + 1) };
  }
  return { head, predicate: rest.trim(), tail: '' };
}

/** The identifiers of an expression outside string literals: bare words (lower-cased, as PostgreSQL folds them) and quoted names. */
export function identifiersIn(text: string): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "'") {
      i = closingQuote(text, i);
      continue;
    }
    if (ch === '"') {
      const close = closingQuote(text, i);
      names.add(text.slice(i + 1, close).replace(/""/g, '"'));
      i = close;
      continue;
    }
    const word = /^[A-Za-z_][\w$]*/.exec(text.slice(i, i + 64));
    if (word && (i === 0 || !/[\w$]/.test(text[i - 1]!))) {
      names.add(word[0].toLowerCase());
      i += word[0].length - 1;
    }
  }
  return names;
}

/** The expression of a CHECK constraint as pg_get_constraintdef prints it, with its bounds: `CHECK ((a OR b)) NOT VALID` → `(a OR b)`. */
export function checkExpression(definition: string): { expression: string; open: number; close: number } | undefined {
  if (!/^\s*CHECK\s*\(/i.test(definition)) return undefined;
  const list = firstList(definition);
  return list ? { expression: definition.slice(list.open + 1, list.close), open: list.open, close: list.close } : undefined;
}

/** A text as a regular expression that matches it literally. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether an SQL text names `name` as an identifier (bare or double-quoted), not as part of a longer word. */
export function mentionsIdentifier(text: string, name: string): boolean {
  return new RegExp(`(^|[^\\w$])"?${escapeRegExp(name)}"?($|[^\\w$])`).test(text);
}

/** The comma-separated items of a list, nested parentheses kept whole; an unmatched ')' ends the list (the rest of a VALUES (…)). */
export function splitCommas(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')' && depth-- === 0) break;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  return [...parts, current];
}

/** A table name as SQL writes it, schema-qualified or not, each part quoted or bare (one capture group). */
export const TABLE_NAME = String.raw`((?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\.(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*))?)`;
