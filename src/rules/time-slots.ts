import fc from 'fast-check';
import type { Value } from './rule.ts';

/**
 * A parameter that is an interval of time: `:name.start` and `:name.end` in SQL. Intervals are whole
 * slots of a small grid, so that generated intervals are often adjacent (one ends where the next starts)
 * or overlapping, which is where interval rules break.
 */
export interface TimeSlots {
  readonly kind: 'time-slots';
  readonly name: string;
  /** The grid's boundaries: slot i is [boundaries[i], boundaries[i + 1]). */
  readonly boundaries: readonly string[];
  /** Longest interval, in slots. */
  readonly maxLength: number;
}

/** A grid of `count` slots of `minutes` each from `start` (an ISO timestamp); intervals span 1..maxLength slots. */
export function timeSlots(name: string, options: { start: string; minutes: number; count: number; maxLength?: number }): TimeSlots {
  const start = Date.parse(options.start);
  if (Number.isNaN(start)) throw new RangeError(`timeSlots ${name}: start "${options.start}" is not a timestamp`);
  if (!(options.count >= 1 && options.minutes > 0)) throw new RangeError(`timeSlots ${name}: needs count >= 1 and minutes > 0`);
  const boundaries = Array.from({ length: options.count + 1 }, (_, i) => new Date(start + i * options.minutes * 60_000).toISOString());
  return { kind: 'time-slots', name, boundaries, maxLength: Math.max(1, Math.min(options.maxLength ?? 2, options.count)) };
}

/** Draws an interval: its two arguments, `<name>.start` and `<name>.end`. */
export function slotsArbitrary(slots: TimeSlots, name: string): fc.Arbitrary<Record<string, Value>> {
  const count = slots.boundaries.length - 1;
  return fc.record({ first: fc.nat(count - 1), length: fc.integer({ min: 1, max: slots.maxLength }) }).map(({ first, length }) => ({
    [`${name}.start`]: slots.boundaries[first]!,
    [`${name}.end`]: slots.boundaries[Math.min(count, first + length)]!,
  }));
}

/** How an interval reads: [slot 1, slot 3) with the clock times. */
export function slotsLabel(slots: TimeSlots, start: Value, end: Value): string {
  const at = (v: Value) => {
    const i = slots.boundaries.findIndex((b) => Date.parse(b) === Date.parse(String(v)));
    return i >= 0 ? `${slots.boundaries[i]!.slice(11, 16)}` : String(v);
  };
  return `[${at(start)}, ${at(end)})`;
}
