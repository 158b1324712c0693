// Pools and setup rows for the canonical tables of the field rules (8–12), shared by their specs.
import { idPool, insertRows } from 'pgconform';

/** Rows the specs create up front, each with a deterministic id. */
export function parentRows(table: string, pool: { values: readonly unknown[] }, row: (index: number) => Record<string, string | number | boolean | null>): string {
  return insertRows(table, pool.values.map((id, i) => ({ id: id as string, ...row(i) })));
}

/**
 * Rows the setup adds with ids from the end of an operation's pool: operations can delete or change them from
 * the first step (the pool's first member, drawn most often, stays free for inserts).
 */
export function lastOf(pool: ReturnType<typeof idPool>, count: number): string[] {
  return pool.values.slice(-count).map(String);
}
