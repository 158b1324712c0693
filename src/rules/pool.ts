import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { Faker, en } from '@faker-js/faker';
import type { Value } from './rule.ts';

/** A small set of values an operation draws from; small on purpose, so that keys collide. */
export interface Pool {
  readonly name: string;
  readonly values: readonly Value[];
  /** Every value equally often (ranges of amounts); otherwise the first value is drawn half of the time. */
  readonly uniform?: boolean;
  /** How a value reads in a counterexample (tenant#2 instead of a uuid). */
  label(value: Value): string;
}

/** A deterministic uuid for the i-th member of a named pool (same on every run and machine). */
export function stableUuid(name: string, index: number): string {
  const hex = createHash('sha1').update(`${name}:${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `count` stable ids labelled name#1…name#count: uuids, or the integers 1…count. */
export function idPool(name: string, count: number, type: 'uuid' | 'bigint' = 'uuid'): Pool {
  const values = Array.from({ length: count }, (_, i) => (type === 'uuid' ? stableUuid(name, i) : i + 1));
  return {
    name,
    values,
    label: (value) => {
      const index = values.findIndex((v) => String(v) === String(value));
      return index >= 0 ? `${name}#${index + 1}` : literal(value);
    },
  };
}

/** A pool of literal values (NULL included when given), labelled as SQL literals. */
export function valuePool(name: string, values: readonly Value[]): Pool {
  return { name, values, label: literal };
}

/**
 * The integers from..to in steps (amounts, seat counts), drawn uniformly: small on purpose, so that sums
 * land exactly on a limit (a debit that leaves zero, the last free seat).
 */
export function integerRange(name: string, from: number, to: number, step = 1): Pool {
  if (!(step > 0) || to < from) throw new RangeError(`integerRange ${name}: needs from <= to and a positive step`);
  const values: number[] = [];
  for (let v = from; v <= to && values.length < 200; v += step) values.push(v);
  return { name, values, uniform: true, label: literal };
}

/** Decimal amounts from..to in steps, with `scale` digits after the point (numeric(12,2) columns), drawn uniformly. */
export function numericRange(name: string, from: number, to: number, step: number, scale = 2): Pool {
  const integers = integerRange(name, Math.round(from / step), Math.round(to / step));
  return { name, values: integers.values.map((v) => (Number(v) * step).toFixed(scale)), uniform: true, label: literal };
}

/** Realistic emails from faker, seeded so the pool is the same everywhere; optional case variants. */
export function emailPool(count: number, options: { seed?: number; caseVariants?: boolean } = {}): Pool {
  const faker = new Faker({ locale: [en], seed: options.seed ?? 2024 });
  const emails = new Set<string>();
  while (emails.size < count) emails.add(faker.internet.email({ provider: 'example.com' }).toLowerCase());
  const values: string[] = [...emails];
  if (options.caseVariants) values.push(...values.map(upperFirst));
  return valuePool('email', values);
}

/** Realistic person names from faker, one per slot. */
export function namePool(count: number, seed = 7): Pool {
  const faker = new Faker({ locale: [en], seed });
  return valuePool('name', Array.from({ length: count }, () => faker.person.fullName()));
}

/** A value as SQL would print it. */
export function literal(value: Value): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

function upperFirst(email: string): string {
  return email.charAt(0).toUpperCase() + email.slice(1);
}

/**
 * Draws from a pool, half of the time its first value: collisions on a key are what break
 * uniqueness rules, and the first value is also where shrinking lands.
 */
export function poolArbitrary(pool: Pool): fc.Arbitrary<Value> {
  const [first] = pool.values;
  if (pool.values.length < 2) return fc.constant(first ?? null);
  if (pool.uniform) return fc.constantFrom(...pool.values);
  return fc.oneof({ arbitrary: fc.constant(first ?? null), weight: 1 }, { arbitrary: fc.constantFrom(...pool.values), weight: 1 });
}

/** The same pool with NULL added: a nullable column is always tried with NULL. */
export function withNull(pool: Pool): Pool {
  return { name: pool.name, values: [...pool.values, null], label: (value) => (value === null ? 'NULL' : pool.label(value)) };
}
