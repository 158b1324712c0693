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

/** The kind of a column's type (format_type text). */
export function typeClass(column: CatalogColumn): TypeClass {
  if (column.enumLabels && column.enumLabels.length > 0) return 'enum';
  const type = column.type;
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
  const ids = idPoolFor(name, count, column);
  if (ids) return ids;
  switch (typeClass(column)) {
    case 'text':
      if (/e_?mail/i.test(column.name)) return fold ? { emails: count, seed: 3, caseVariants: true } : { emails: count, seed: 3 };
      return { values: Array.from({ length: count }, (_, i) => textValue(column, `${name} ${i + 1}`)), name };
    case 'numeric':
      return { values: Array.from({ length: count }, (_, i) => i + 1), name };
    case 'enum':
      return { values: column.enumLabels!.slice(0, count), name };
    case 'boolean':
      return { values: [false, true], name };
    case 'date':
      return { values: ['2025-01-01', '2025-01-02'].slice(0, count), name };
    case 'timestamp':
      return { values: [SOME_TIMESTAMP, '2025-01-02T00:00:00Z'].slice(0, count), name };
    default:
      return undefined;
  }
}

/**
 * Values fixed per row for a NOT NULL column a rule does not read, one per primary-key slot, all
 * different (faker emails and names where the column name says so). Undefined for a type init cannot write.
 */
export function perRowPool(table: CatalogTable, column: CatalogColumn, count: number): PoolBinding | undefined {
  const kind = typeClass(column);
  if (kind === 'text') {
    if (/e_?mail/i.test(column.name)) return { emails: count, seed: 1 };
    if (/name$/i.test(column.name) && !/user_?name|login/i.test(column.name)) return { names: count };
  }
  if (kind === 'uuid') return { ids: `${singular(table.name)}_${column.name}`, count };
  const values = Array.from({ length: count }, (_, i) => fillerValue(table, column, i));
  if (values.some((v) => v === undefined)) return undefined;
  return { values: values as Value[], name: column.name };
}

/** A plain value for the i-th setup row of a NOT NULL column (unique per row), or undefined for a type init cannot write. */
export function fillerValue(table: CatalogTable, column: CatalogColumn, index: number): Value | undefined {
  switch (typeClass(column)) {
    case 'uuid':
      return stableUuid(`${table.name}.${column.name}`, index);
    case 'integer':
    case 'numeric':
      return index + 1;
    case 'text':
      if (/e_?mail/i.test(column.name)) return textValue(column, `${singular(table.name)}${index + 1}@example.com`);
      return textValue(column, `${singular(table.name).replace(/_/g, ' ')} ${index + 1}`);
    case 'boolean':
      return false;
    case 'timestamp':
      return SOME_TIMESTAMP;
    case 'date':
      return '2025-01-01';
    case 'time':
      return '12:00:00';
    case 'json':
      return '{}';
    case 'enum':
      return column.enumLabels![0]!;
    default:
      return undefined;
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
        const value = textValue(column, candidate);
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

/** A text value cut to the column's declared length (varchar(n), char(n)). */
function textValue(column: CatalogColumn, text: string): string {
  const length = /\((\d+)\)/.exec(column.type)?.[1];
  return length ? text.slice(0, Number(length)) : text;
}

/** The values a pool binding generates (NULL included when it is nullable), as the template will. */
export function poolValues(pool: PoolBinding): Value[] {
  if (Array.isArray(pool)) return [...pool];
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
