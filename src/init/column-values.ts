import type { CatalogColumn, CatalogTable } from '../catalog/catalog.ts';
import type { PoolBinding } from '../config/rule-binding.ts';
import { emailPool, namePool, stableUuid } from '../rules/pool.ts';
import type { Value } from '../rules/rule.ts';
import { collationSafe, shiftInstant } from '../rules/value-order.ts';
import type { ComparedLiteral } from './predicate-text.ts';

// What init writes into a column: small pools for the columns a rule reads, and plain filler values
// for the NOT NULL columns it does not (setup rows, per-row values). Chosen from the column's type.

/** The kinds of column type init knows how to write values for. */
export type TypeClass = 'uuid' | 'integer' | 'numeric' | 'text' | 'boolean' | 'timestamp' | 'date' | 'time' | 'json' | 'enum' | 'other';

/** A fixed instant for timestamp columns: a soft delete that happened, an expiry that is set. */
export const SOME_TIMESTAMP = '2025-01-01T00:00:00Z';

/** The kind of a column's type (format_type text; a domain's base type). */
export function typeClass(column: CatalogColumn): TypeClass {
  if (column.enumLabels && column.enumLabels.length > 0) return 'enum';
  if (/\[\]$/.test(column.type)) return 'other';
  const type = column.domain?.baseType ?? column.type;
  if (type === 'uuid') return 'uuid';
  if (/^(smallint|integer|bigint)$/.test(type)) return 'integer';
  if (/^(numeric|real|double precision|decimal)/.test(type)) return 'numeric';
  if (/^(text|character varying|character|varchar|char|citext|name)\b/.test(type)) return 'text';
  if (type === 'boolean') return 'boolean';
  if (/^timestamp/.test(type)) return 'timestamp';
  if (type === 'date') return 'date';
  if (/^time\b/.test(type)) return 'time';
  if (/^jsonb?$/.test(type)) return 'json';
  return 'other';
}

/** The name of an id pool (whose labels a setup row may use), or undefined for any other pool or a TODO. */
export function idPoolName(pool: PoolBinding): string | undefined {
  return typeof pool === 'object' && pool !== null && !Array.isArray(pool) && 'ids' in pool ? pool.ids : undefined;
}

/** Whether an insert must give this column a value: NOT NULL, no default, not filled by the server. */
export function needsValue(column: CatalogColumn): boolean {
  return column.notNull && column.default === null && !column.generated;
}

/** The singular of a table name, for pool names: users → user, companies → company. */
export function singular(name: string): string {
  if (/ies$/.test(name)) return `${name.slice(0, -3)}y`;
  if (/(ss|us|is)$/.test(name)) return name;
  if (/sses$/.test(name)) return name.slice(0, -2);
  return name.endsWith('s') ? name.slice(0, -1) : name;
}

/** A pool name for a column that is not a foreign key: organization_id → organization. */
export function poolNameOf(column: string): string {
  return column.replace(/_id$/, '') || column;
}

/** Pool of `count` ids of this column's type (uuid or integer), or undefined for other types. */
export function idPoolFor(name: string, count: number, column: CatalogColumn): Extract<PoolBinding, { ids: string }> | undefined {
  const kind = typeClass(column);
  if (kind === 'uuid') return { ids: name, count };
  if (kind === 'integer') return { ids: name, count, type: 'bigint' };
  return undefined;
}

/** The i-th member (0-based) of an id pool: the value the template generates, and its label. */
export function idMember(pool: Extract<PoolBinding, { ids: string }>, index: number): { value: Value; label: string } {
  return { value: pool.type === 'bigint' ? index + 1 : stableUuid(pool.ids, index), label: `${pool.ids}#${index + 1}` };
}

/**
 * Distinct values for a key column, few of them so that keys collide: ids, emails (with case variants
 * when the key folds case), short strings, numbers. Undefined for a type init cannot write.
 */
export function keyPool(name: string, count: number, column: CatalogColumn, fold = false): PoolBinding | undefined {
  const accepted = (pool: PoolBinding | undefined) => pool && poolValues(pool).every((v) => domainAccepts(column, v));
  const pool = plainKeyPool(name, count, column, fold);
  if (accepted(pool)) return pool;
  // A text domain whose pattern plain names do not match may be an e-mail address under another name.
  const emails: PoolBinding = fold ? { emails: count, seed: 3, caseVariants: true } : { emails: count, seed: 3 };
  return typeClass(column) === 'text' && fits(column, emails) && accepted(emails) ? emails : undefined;
}

function plainKeyPool(name: string, count: number, column: CatalogColumn, fold: boolean): PoolBinding | undefined {
  const ids = idPoolFor(name, count, column);
  if (ids) return ids;
  switch (typeClass(column)) {
    case 'text': {
      const emails: PoolBinding = fold ? { emails: count, seed: 3, caseVariants: true } : { emails: count, seed: 3 };
      if (/e_?mail/i.test(column.name) && fits(column, emails)) return emails;
      return { values: Array.from({ length: count }, (_, i) => textValue(column, `${name} `, `${i + 1}`)), name };
    }
    case 'numeric':
      return { values: Array.from({ length: count }, (_, i) => numericValue(column, i + 1)), name };
    case 'enum':
      return { values: column.enumLabels!.slice(0, count), name };
    case 'boolean':
      return { values: [false, true], name };
    case 'date':
      return { values: ['2025-01-01', '2025-01-02'].slice(0, count), name };
    case 'timestamp':
      return { values: [SOME_TIMESTAMP, '2025-01-02T00:00:00Z'].slice(0, count), name };
    case 'time':
      return { values: Array.from({ length: count }, (_, i) => `12:00:${String(i).padStart(2, '0')}`), name };
    case 'json':
      // json has no equality operator, so it is never a key; jsonb is.
      return (column.domain?.baseType ?? column.type) === 'jsonb' ? fillerKeyPool(name, count, column) : undefined;
    default:
      return fillerKeyPool(name, count, column);
  }
}

/**
 * A key pool of the types with no class of their own (bytea, inet, interval, arrays, ranges …): the
 * fillers, which differ per index. The server decides what they are and which of them are equal
 * (the run reads every value through the column's type before the first scenario).
 */
function fillerKeyPool(name: string, count: number, column: CatalogColumn): PoolBinding | undefined {
  const type = column.domain?.baseType ?? column.type;
  const values = Array.from({ length: count }, (_, i) => (type === 'jsonb' ? `{"${name}": ${i + 1}}` : otherFiller(type, i)));
  return values.every((v) => v !== undefined) ? { values: values as Value[], name } : undefined;
}

/**
 * Values fixed per row for a NOT NULL column a rule does not read, one per primary-key slot, all
 * different (faker emails and names where the column name says so). Undefined for a type init cannot write.
 */
export function perRowPool(table: CatalogTable, column: CatalogColumn, count: number): PoolBinding | undefined {
  const kind = typeClass(column);
  if (kind === 'text' && !column.domain?.checks.length) {
    const emails: PoolBinding = { emails: count, seed: 1 };
    const names: PoolBinding = { names: count };
    if (/e_?mail/i.test(column.name) && fits(column, emails)) return emails;
    if (/name$/i.test(column.name) && !/user_?name|login/i.test(column.name) && fits(column, names)) return names;
  }
  if (kind === 'uuid') return { ids: `${singular(table.name)}_${column.name}`, count };
  const values = Array.from({ length: count }, (_, i) => fillerValue(table, column, i));
  if (values.some((v) => v === undefined)) return undefined;
  return { values: values as Value[], name: column.name };
}

/**
 * A plain value for the i-th setup row of a NOT NULL column (unique per row), or undefined for a type
 * init cannot write, or a domain whose CHECK init cannot tell the value passes.
 */
export function fillerValue(table: CatalogTable, column: CatalogColumn, index: number): Value | undefined {
  const value = plainFiller(table, column, index);
  return value !== undefined && domainAccepts(column, value) ? value : undefined;
}

function plainFiller(table: CatalogTable, column: CatalogColumn, index: number): Value | undefined {
  switch (typeClass(column)) {
    case 'uuid':
      return stableUuid(`${table.name}.${column.name}`, index);
    case 'integer':
      return index + 1;
    case 'numeric':
      return numericValue(column, index + 1);
    case 'text':
      if (/e_?mail/i.test(column.name)) return textValue(column, singular(table.name), `${index + 1}@example.com`);
      return textValue(column, `${singular(table.name).replace(/_/g, ' ')} `, `${index + 1}`);
    case 'boolean':
      return false;
    case 'timestamp':
      return SOME_TIMESTAMP;
    case 'date':
      return '2025-01-01';
    case 'time':
      return '12:00:00';
    case 'json':
      return index === 0 ? '{}' : `{"n": ${index}}`;
    case 'enum':
      return column.enumLabels![0]!;
    default:
      return otherFiller(column.domain?.baseType ?? column.type, index);
  }
}

/**
 * Values of the types with no class of their own, as text the server casts (the generator sends every
 * value as a parameter): bytea, arrays, network addresses, intervals, money, text search, ranges, xml.
 * Unique per index. Undefined for a type init does not know.
 */
function otherFiller(type: string, index: number): Value | undefined {
  const n = index + 1;
  const array = /^(.*)\[\]$/.exec(type);
  if (array) {
    const element = otherFiller(array[1]!, index) ?? plainElement(array[1]!, n);
    return element === undefined ? undefined : `{${JSON.stringify(String(element))}}`;
  }
  if (type === 'bytea') return `\\x${n.toString(16).padStart(2, '0')}`;
  if (type === 'inet') return `192.0.2.${n % 255}`;
  if (type === 'cidr') return `192.0.2.${n % 255}/32`;
  if (type === 'macaddr') return `08:00:2b:01:02:${(n % 256).toString(16).padStart(2, '0')}`;
  if (type === 'interval' || /^interval\b/.test(type)) return `${n} days`;
  if (type === 'money') return `${n}.00`;
  if (type === 'tsvector' || type === 'tsquery') return `word${n}`;
  if (type === 'xml') return `<value>${n}</value>`;
  if (type === 'point') return `(${n},${n})`;
  if (/^(int4|int8|num)range$/.test(type)) return `[${n},${n + 1})`;
  if (type === 'daterange') return `[2025-01-${String(n % 28 || 28).padStart(2, '0')},2025-02-01)`;
  if (/^ts(tz)?range$/.test(type)) return `[2025-01-01 00:00:${String(n % 60).padStart(2, '0')},2025-02-01)`;
  if (/^bit\((\d+)\)$/.test(type)) return (n % 2 ** Math.min(30, Number(/\d+/.exec(type)![0]))).toString(2).padStart(Number(/\d+/.exec(type)![0]), '0');
  return undefined;
}

/** An array element of a plain type (integer[], text[], varchar(20)[], uuid[], …), or undefined. */
function plainElement(type: string, n: number): Value | undefined {
  const column: CatalogColumn = { name: 'element', type, notNull: true, default: null, generated: false };
  const kind = typeClass(column);
  if (kind === 'integer') return n;
  if (kind === 'numeric') return numericValue(column, n);
  if (kind === 'text') return textValue(column, 'item ', String(n));
  if (kind === 'uuid') return stableUuid(`element.${type}`, n);
  if (kind === 'boolean') return n % 2 === 1;
  if (kind === 'date') return '2025-01-01';
  if (kind === 'timestamp') return SOME_TIMESTAMP;
  return undefined;
}

/** n, scaled into numeric(p, s) when its integer digits do not hold it (numeric(2,2) takes 0.01, 0.02 …). */
function numericValue(column: CatalogColumn, n: number): number {
  const typmod = /^numeric\((\d+)(?:,\s*(\d+))?\)/.exec(column.domain?.baseType ?? column.type);
  if (!typmod) return n;
  const scale = Number(typmod[2] ?? 0);
  const integerDigits = Number(typmod[1]) - scale;
  return String(n).length <= integerDigits ? n : n / 10 ** scale;
}

/**
 * Whether a domain's CHECKs let the value through, for the forms init can read (a sign, a length bound,
 * not empty); a CHECK of any other form (a regular expression …) counts as rejecting it.
 */
function domainAccepts(column: CatalogColumn, value: Value): boolean {
  for (const check of column.domain?.checks ?? []) {
    const body = check.replace(/^CHECK\s*/i, '').replace(/::[\w ]+/g, '').replace(/[()]/g, '').trim();
    const compare = /^VALUE\s*(>=|>|<=|<|<>|!=)\s*(-?\d+(?:\.\d+)?)$/i.exec(body);
    if (compare && typeof value === 'number') {
      if (!compareNumbers(value, compare[1]!, Number(compare[2]))) return false;
      continue;
    }
    const length = /^(?:char_length|length|character_length)VALUE\s*(<=|<)\s*(\d+)$/i.exec(body.replace(/\s+/g, ' ').replace(/ VALUE/, 'VALUE'));
    if (length && typeof value === 'string') {
      if (!compareNumbers(value.length, length[1]!, Number(length[2]))) return false;
      continue;
    }
    if (/^VALUE\s*(<>|!=)\s*''$/i.test(body) && typeof value === 'string' && value !== '') continue;
    // A pattern (VALUE ~ '^[^@]+@[^@]+$'): the common ones read the same in JavaScript; one that does not compile is a refusal.
    const pattern = /^VALUE\s*(~\*?)\s*'((?:[^']|'')*)'$/i.exec(check.replace(/^CHECK\s*\(\s*\(?/i, '').replace(/\)?\s*\)$/, '').replace(/::[\w ]+/g, '').trim());
    if (pattern && typeof value === 'string' && matches(pattern[2]!.replace(/''/g, "'"), pattern[1] === '~*', value)) continue;
    if (/^VALUE IS NOT NULL$/i.test(body)) continue;
    return false;
  }
  return true;
}

function matches(source: string, caseInsensitive: boolean, value: string): boolean {
  try {
    return new RegExp(source, caseInsensitive ? 'i' : '').test(value);
  } catch {
    return false;
  }
}

function compareNumbers(a: number, op: string, b: number): boolean {
  switch (op) {
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    default:
      return a !== b;
  }
}

/**
 * A value of the column's type that none of `taken` equals, so that a predicate comparing the column
 * with those values can also be false. Undefined when the type has no such value (booleans, enums used up).
 */
export function otherValue(column: CatalogColumn, taken: readonly Value[]): Value | undefined {
  const strings = new Set(taken.map((v) => String(v)));
  switch (typeClass(column)) {
    case 'text': {
      for (const candidate of ['OTHER', 'other', 'X', 'x']) {
        const value = textValue(column, '', candidate);
        if (!strings.has(value)) return value;
      }
      return undefined;
    }
    case 'integer':
    case 'numeric': {
      const numbers = taken.map(Number).filter((n) => !Number.isNaN(n));
      return (numbers.length ? Math.max(...numbers) : 0) + 1;
    }
    case 'enum':
      return column.enumLabels!.find((label) => !strings.has(label));
    default:
      return undefined;
  }
}

/** The values a column is compared with or allowed, in its type's natural domain: both booleans, every enum label. */
export function domainValues(column: CatalogColumn): Value[] {
  switch (typeClass(column)) {
    case 'boolean':
      return [true, false];
    case 'enum':
      return [...column.enumLabels!];
    default:
      return [];
  }
}

/**
 * A text value that fits the column's declared length (varchar(n), char(n)): the prefix is cut, never
 * the suffix, so that values told apart by their suffix (a row number) stay apart.
 */
function textValue(column: CatalogColumn, prefix: string, suffix = ''): string {
  const limit = textLimit(column);
  if (limit === undefined || prefix.length + suffix.length <= limit) return prefix + suffix;
  return suffix.length >= limit ? suffix.slice(suffix.length - limit) : prefix.slice(0, limit - suffix.length) + suffix;
}

/** The declared length of a character column (varchar(n), char(n)), if any. */
function textLimit(column: CatalogColumn): number | undefined {
  const length = /^(?:character varying|character|varchar|char|bpchar)\((\d+)\)/.exec(column.domain?.baseType ?? column.type)?.[1];
  return length ? Number(length) : undefined;
}

/** Whether every value of a pool fits the column's declared length. */
function fits(column: CatalogColumn, pool: PoolBinding): boolean {
  const limit = textLimit(column);
  return limit === undefined || poolValues(pool).every((v) => typeof v !== 'string' || v.length <= limit);
}

/** The values a pool binding generates (NULL included when it is nullable), as the template will. */
export function poolValues(pool: PoolBinding): Value[] {
  if (Array.isArray(pool)) return [...pool];
  // A placeholder (TODO_POOL: init had no value for the column) draws nothing.
  if (typeof pool !== 'object' || pool === null) return [];
  if ('ids' in pool) return [...Array.from({ length: pool.count }, (_, i) => idMember(pool, i).value), ...(pool.nullable ? [null] : [])];
  if ('values' in pool) return [...pool.values, ...(pool.nullable && !pool.values.includes(null) ? [null] : [])];
  if ('emails' in pool) return [...emailPool(pool.emails, { seed: pool.seed, caseVariants: pool.caseVariants }).values];
  return [...namePool(pool.names, pool.seed).values];
}

/**
 * Values on every side of a literal a predicate compares the column with: below, equal and above a
 * cut-off (a day or a second around a date or timestamp, one around a number, a prefix and an extension
 * of a text, whose order no collation changes); the value in the other case for lower()/upper().
 */
export function valuesAround(column: CatalogColumn, literal: ComparedLiteral): Value[] {
  const { value, op, fold } = literal;
  if (fold) {
    const text = String(value);
    const other = fold === 'lower' ? text.toUpperCase() : text.toLowerCase();
    const around = op === 'eq' || op === 'ne' || op === 'in' || op === 'notIn' ? [text, other] : [text.slice(0, -1), text, text + (fold === 'lower' ? 'x' : 'X')];
    return around.filter((v, i) => v !== '' || i > 0).map((v) => textValue(column, v));
  }
  if (op === 'eq' || op === 'ne' || op === 'in' || op === 'notIn') return [value];
  switch (typeClass(column)) {
    case 'integer': {
      const n = Number(value);
      return Number.isInteger(n) ? [n - 1, n, n + 1] : [Math.floor(n), Math.ceil(n)];
    }
    case 'numeric':
      return [Number(value) - 1, Number(value), Number(value) + 1];
    case 'date': {
      const day = String(value).slice(0, 10);
      return [shiftInstant(day, -86_400), day, shiftInstant(day, 86_400)].filter((v): v is string => v !== undefined);
    }
    case 'timestamp':
      return [shiftInstant(String(value), -1), String(value), shiftInstant(String(value), 1)].filter((v): v is string => v !== undefined);
    case 'text': {
      const text = String(value);
      const longer = textValue(column, `${text}x`);
      return [...(text ? [text.slice(0, -1)] : []), text, ...(longer !== text ? [longer] : [])];
    }
    default:
      return [value];
  }
}

/**
 * The values of a pool whose order against the column's text cut-offs is the same under every
 * collation (see collationSafe): the model orders text by code point, the server by its collation.
 */
export function collationSafeValues(column: CatalogColumn, values: readonly Value[], literals: readonly ComparedLiteral[]): Value[] {
  const cutOffs = literals.filter((l) => l.column === column.name && (l.fold || typeClass(column) === 'text') && !['eq', 'ne', 'in', 'notIn'].includes(l.op));
  if (cutOffs.length === 0) return [...values];
  return values.filter((v) => v === null || cutOffs.every((l) => collationSafe(foldText(String(v), l.fold), String(l.value))));
}

function foldText(text: string, fold: ComparedLiteral['fold']): string {
  return fold === 'lower' ? text.toLowerCase() : fold === 'upper' ? text.toUpperCase() : text;
}
