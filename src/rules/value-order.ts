import type { Value } from './rule.ts';

// How the model orders a stored value against a predicate's literal, as the server would for the
// column's type. The literal says which order applies (the column's type is not known here):
// - a number (on either side): numerically, exactly (decimal strings such as numeric's '1.5000000000' included; NaN above all);
// - a string both sides of which read as a date or timestamp (ISO, with or without time part and zone):
//   by instant, a date being its midnight, a value without zone taken as UTC;
// - any other string: by code point, which is the server's order under the C collation. Under another
//   collation the server may order two texts differently (case, accents, punctuation); init only
//   generates text values whose order is the same in every collation (a prefix, the value, an extension).
// - booleans: false before true.

/** Negative, zero or positive as `stored` sorts before, with or after `literal`. */
export function compareToLiteral(stored: Exclude<Value, null>, literal: Exclude<Value, null>): number {
  if (typeof literal === 'boolean' || typeof stored === 'boolean') return Number(asBoolean(stored)) - Number(asBoolean(literal));
  // A number on either side (JSON numbers come from numeric columns) asks for numeric order.
  if (typeof literal === 'number' || typeof stored === 'number') {
    const a = readDecimal(stored);
    const b = readDecimal(literal);
    if (a && b) return compareDecimals(a, b);
  }
  const a = readInstant(String(stored));
  const b = typeof literal === 'string' ? readInstant(literal) : undefined;
  if (a && b) return compareInstants(a, b);
  return compareCodePoints(String(stored), String(literal));
}

function asBoolean(value: Exclude<Value, null>): boolean {
  return value === true || value === 't' || value === 'true';
}

/** Code-point order: the order of the C collation (UTF-8 bytes), unlike JavaScript's UTF-16 `<`. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** A decimal as sign × 0.digits × 10^exponent (digits without leading or trailing zeros), or infinity / NaN. */
type Decimal = { readonly kind: 'finite'; readonly sign: number; readonly digits: string; readonly exponent: number } | { readonly kind: 'infinite'; readonly sign: number } | { readonly kind: 'nan' };

/** Reads a number or a numeric's text (1.50, -2e3, NaN, Infinity); undefined when it is not one. */
export function readDecimal(value: Exclude<Value, null>): Decimal | undefined {
  const text = String(value).trim();
  if (/^nan$/i.test(text)) return { kind: 'nan' };
  const infinity = /^([+-]?)inf(inity)?$/i.exec(text);
  if (infinity) return { kind: 'infinite', sign: infinity[1] === '-' ? -1 : 1 };
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return undefined;
  const whole = match[2]! + (match[3] ?? '');
  const lead = whole.search(/[1-9]/);
  if (lead < 0) return { kind: 'finite', sign: 0, digits: '', exponent: 0 };
  const digits = whole.slice(lead).replace(/0+$/, '');
  const exponent = match[2]!.length - lead + Number(match[4] ?? 0);
  return { kind: 'finite', sign: match[1] === '-' ? -1 : 1, digits, exponent };
}

function compareDecimals(a: Decimal, b: Decimal): number {
  // PostgreSQL sorts NaN above every number, Infinity included, and equal to itself.
  if (a.kind === 'nan' || b.kind === 'nan') return (a.kind === 'nan' ? 1 : 0) - (b.kind === 'nan' ? 1 : 0);
  const rank = (d: Decimal) => (d.kind === 'infinite' ? d.sign * 2 : d.kind === 'finite' ? d.sign : 0);
  if (a.kind !== 'finite' || b.kind !== 'finite' || a.sign !== b.sign || a.sign === 0) return Math.sign(rank(a) - rank(b));
  const magnitude = a.exponent !== b.exponent ? a.exponent - b.exponent : compareCodePoints(a.digits.padEnd(b.digits.length, '0'), b.digits.padEnd(a.digits.length, '0'));
  return Math.sign(magnitude) * a.sign;
}

/** An instant: seconds since 1970 (UTC) and microseconds; ±Infinity for 'infinity'. */
interface Instant {
  readonly seconds: number;
  readonly micros: number;
  /** Whether the text named its zone (a timestamptz), rather than being local time or a date. */
  readonly zoned: boolean;
  /** Whether the text had no time part (a date). */
  readonly dateOnly: boolean;
}

const INSTANT = /^(\d{4,})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?\s*(Z|[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?)?$/i;

/** Reads a date or timestamp as PostgreSQL prints or accepts it in ISO form; undefined for anything else. */
export function readInstant(text: string): Instant | undefined {
  const trimmed = text.trim();
  if (/^[+-]?infinity$/i.test(trimmed)) return { seconds: trimmed.startsWith('-') ? -Infinity : Infinity, micros: 0, zoned: false, dateOnly: false };
  const m = INSTANT.exec(trimmed);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zone] = m;
  const days = daysFromCivil(Number(y), Number(mo), Number(d));
  let seconds = days * 86_400 + Number(h ?? 0) * 3600 + Number(mi ?? 0) * 60 + Number(s ?? 0);
  if (zone && zone.toUpperCase() !== 'Z') {
    const [, sign, zh, zm, zs] = /^([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(zone)!;
    seconds -= (sign === '-' ? -1 : 1) * (Number(zh) * 3600 + Number(zm ?? 0) * 60 + Number(zs ?? 0));
  }
  return { seconds, micros: Number((fraction ?? '').padEnd(6, '0')), zoned: zone !== undefined, dateOnly: h === undefined };
}

function compareInstants(a: Instant, b: Instant): number {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  return Math.sign(a.micros - b.micros);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The date or timestamp `seconds` after an instant's text, written as the text was (date, or time with its zone). */
export function shiftInstant(text: string, seconds: number): string | undefined {
  const instant = readInstant(text);
  if (!instant || !Number.isFinite(instant.seconds)) return undefined;
  const zone = /(Z|[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?)$/i.exec(text.trim());
  const offset = zone && instant.zoned && zone[1]!.toUpperCase() !== 'Z' ? readInstant(`1970-01-01 00:00:00${zone[1]}`)!.seconds : 0;
  const local = instant.seconds + seconds - offset;
  const days = Math.floor(local / 86_400);
  const date = civilFromDays(days);
  if (instant.dateOnly && seconds % 86_400 === 0) return date;
  const rest = local - days * 86_400;
  const time = [Math.floor(rest / 3600), Math.floor((rest % 3600) / 60), rest % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return `${date} ${time}${instant.zoned ? zone![1] : ''}`;
}

function civilFromDays(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * Whether two texts order the same under every collation as by code point: one is a prefix of the
 * other, or they first differ in two lower-case ASCII letters, two upper-case ones or two digits.
 * Collations differ on case, accents, punctuation and spaces; a common prefix weighs the same in both.
 */
export function collationSafe(a: string, b: string): boolean {
  if (a.startsWith(b) || b.startsWith(a)) return true;
  let i = 0;
  while (a[i] === b[i]) i++;
  const kind = (c: string) => (/[a-z]/.test(c) ? 'lower' : /[A-Z]/.test(c) ? 'upper' : /[0-9]/.test(c) ? 'digit' : c);
  return kind(a[i]!) === kind(b[i]!) && /[A-Za-z0-9]/.test(a[i]!);
}
