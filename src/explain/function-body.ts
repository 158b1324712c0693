import { USER_NAMESPACE } from '../catalog/catalog.ts';
import type pg from 'pg';

/** A user function's body, by name (overloads share a name; their bodies are read together). */
export type FunctionLibrary = ReadonlyMap<string, readonly string[]>;

/** One thing a function body does that matters for races, in the order it does it. */
export type BodyEvent =
  /** Reads rows of a table; `locked` when the statement itself locks them (SELECT … FOR UPDATE …). */
  | { readonly kind: 'read'; readonly table: string; readonly locked: boolean; readonly statement: string }
  /** Takes a lock: a locking clause, LOCK TABLE, an advisory lock, or a row write that serialises (upsert, UPDATE). */
  | { readonly kind: 'lock'; readonly how: string; readonly shared: boolean }
  /** Inserts, updates or deletes rows of a table (an upsert is an insert that may update). */
  | { readonly kind: 'write'; readonly table: string; readonly statement: string; readonly verb: 'insert' | 'update' | 'delete' };

/** What a trigger function does, read from its text (and the user functions it calls). */
export interface BodyAnalysis {
  readonly events: readonly BodyEvent[];
  /** Reads taken before any lock and without a locking clause of their own. */
  readonly unlockedReads: readonly Extract<BodyEvent, { kind: 'read' }>[];
  readonly locks: readonly Extract<BodyEvent, { kind: 'lock' }>[];
  readonly writes: readonly Extract<BodyEvent, { kind: 'write' }>[];
  /** RAISE EXCEPTION (or a bare RAISE) somewhere: it can reject a row. */
  readonly raises: boolean;
  /** RETURN NULL somewhere: a BEFORE row trigger can silently skip the row. */
  readonly returnsNull: boolean;
}


/** The bodies of the user's SQL and PL/pgSQL functions, so that a trigger's calls can be followed; read-only. */
export async function readFunctionLibrary(client: pg.ClientBase): Promise<FunctionLibrary> {
  const result = await client.query<{ name: string; body: string }>(`
    SELECT p.proname AS name, p.prosrc AS body
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
     WHERE ${USER_NAMESPACE} AND l.lanname IN ('plpgsql', 'sql')
     ORDER BY p.oid`);
  const library = new Map<string, string[]>();
  for (const row of result.rows) library.set(row.name.toLowerCase(), [...(library.get(row.name.toLowerCase()) ?? []), row.body]);
  return library;
}

/**
 * SQL text without comments and string literals (each literal becomes ''), so that a table name in a
 * message or a commented-out lock is not mistaken for code.
 */
export function stripCommentsAndLiterals(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
      out += ' ';
    } else if (c === '/' && next === '*') {
      // Block comments nest in PostgreSQL.
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        if (text.startsWith('/*', i)) (depth++, (i += 2));
        else if (text.startsWith('*/', i)) (depth--, (i += 2));
        else i++;
      }
      out += ' ';
    } else if (c === "'") {
      const backslashes = /[eE]$/.test(out) && !/\w[eE]$/.test(out);
      i++;
      while (i < text.length) {
        if (backslashes && text[i] === '\\') i += 2;
        else if (text[i] === "'" && text[i + 1] === "'") i += 2;
        else if (text[i] === "'") break;
        else i++;
      }
      i++;
      out += "''";
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      const stop = end < 0 ? text.length : end + 1;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === '$' && /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.test(text.slice(i)) && !/[\w$]$/.test(out)) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i))![0];
      const end = text.indexOf(tag, i + tag.length);
      i = end < 0 ? text.length : end + tag.length;
      out += "''";
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const NAME = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
const QUALIFIED = `${NAME}(?:\\s*\\.\\s*${NAME})?`;
const LOCKING_CLAUSE = /\bFOR\s+(NO\s+KEY\s+UPDATE|KEY\s+SHARE|UPDATE|SHARE)\b/gi;
const ADVISORY_LOCK = /\bpg_(?:try_)?advisory_(xact_)?lock(_shared)?\s*\(/gi;
const LOCK_TABLE = new RegExp(String.raw`\bLOCK\s+(?:TABLE\s+)?(?:ONLY\s+)?${QUALIFIED}(?:\s*,\s*${QUALIFIED})*\s+IN\s+([A-Z ]+?)\s+MODE\b|\bLOCK\s+TABLE\b`, 'gi');
// A name not followed by "(": FROM generate_series(…) reads no table.
const READ_SOURCE = new RegExp(String.raw`\b(?:FROM|JOIN)\s+(${QUALIFIED})(?![\w$."])(?!\s*\()`, 'gi');
const WRITE_TARGET = new RegExp(String.raw`\b(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE)\s+(?:ONLY\s+)?(${QUALIFIED})`, 'gi');
const CALL = new RegExp(String.raw`(${QUALIFIED})\s*\(`, 'g');

/**
 * Reads a function body for what it reads, locks and writes, in order, following calls to the user's
 * own functions. `resolveTable` turns a name into the table it denotes in the schema, or undefined for
 * anything that is not a table (a variable, a CTE, a column after EXTRACT … FROM).
 */
export function analyzeBody(body: string, resolveTable: (name: string) => string | undefined, library: FunctionLibrary = new Map()): BodyAnalysis {
  const flags = { raises: false, returnsNull: false };
  const events = bodyEvents(body, resolveTable, library, new Set(), flags);
  const unlockedReads: Extract<BodyEvent, { kind: 'read' }>[] = [];
  let lockedSoFar = false;
  for (const event of events) {
    if (event.kind === 'lock') lockedSoFar = true;
    if (event.kind === 'read' && !event.locked && !lockedSoFar) unlockedReads.push(event);
  }
  return {
    events,
    unlockedReads,
    locks: events.filter((e): e is Extract<BodyEvent, { kind: 'lock' }> => e.kind === 'lock'),
    writes: events.filter((e): e is Extract<BodyEvent, { kind: 'write' }> => e.kind === 'write'),
    ...flags,
  };
}

function bodyEvents(
  body: string,
  resolveTable: (name: string) => string | undefined,
  library: FunctionLibrary,
  calling: Set<string>,
  flags: { raises: boolean; returnsNull: boolean },
): BodyEvent[] {
  const code = stripCommentsAndLiterals(body);
  if (/\bRAISE\b(?!\s+(?:NOTICE|WARNING|INFO|LOG|DEBUG)\b)/i.test(code)) flags.raises = true;
  if (/\bRETURN\s+NULL\b/i.test(code)) flags.returnsNull = true;
  const events: BodyEvent[] = [];
  for (const raw of code.split(';')) {
    const statement = raw.replace(/\s+/g, ' ').trim();
    if (!statement) continue;
    const located: Array<{ at: number; events: BodyEvent[] }> = [];
    const lockingClauses = [...statement.matchAll(LOCKING_CLAUSE)];
    for (const m of lockingClauses) {
      const strength = m[1]!.toUpperCase().replace(/\s+/g, ' ');
      located.push({ at: m.index, events: [{ kind: 'lock', how: `SELECT … FOR ${strength}`, shared: strength.endsWith('SHARE') }] });
    }
    for (const m of statement.matchAll(ADVISORY_LOCK)) {
      located.push({ at: m.index, events: [{ kind: 'lock', how: m[0].replace(/\s*\($/, '()'), shared: Boolean(m[2]) }] });
    }
    for (const m of statement.matchAll(LOCK_TABLE)) {
      const mode = (m[1] ?? 'ACCESS EXCLUSIVE').toUpperCase().trim();
      located.push({ at: m.index, events: [{ kind: 'lock', how: `LOCK TABLE … IN ${mode} MODE`, shared: /^(ACCESS SHARE|ROW SHARE|ROW EXCLUSIVE|SHARE)$/.test(mode) }] });
    }
    const writeTargets = new Set<number>();
    for (const m of statement.matchAll(WRITE_TARGET)) {
      const table = resolveTable(m[1]!);
      if (!table) continue;
      writeTargets.add(m.index + m[0].length - m[1]!.length);
      const verb = m[0].split(/\s+/)[0]!.toUpperCase();
      // An UPDATE or an upsert locks the rows it writes: writers of the same row serialise on it.
      const serialises = verb === 'UPDATE' || (verb === 'INSERT' && /\bON\s+CONFLICT\b.*\bDO\s+UPDATE\b/i.test(statement));
      const write: BodyEvent = { kind: 'write', table, statement: brief(statement), verb: verb === 'INSERT' ? 'insert' : verb === 'UPDATE' ? 'update' : 'delete' };
      located.push({ at: m.index, events: serialises ? [{ kind: 'lock', how: `${verb === 'UPDATE' ? 'UPDATE' : 'INSERT … ON CONFLICT DO UPDATE'} of ${table}`, shared: false }, write] : [write] });
    }
    for (const m of statement.matchAll(READ_SOURCE)) {
      const nameAt = m.index + m[0].length - m[1]!.length;
      // DELETE FROM t names its target, which it writes; it does not read it as a source.
      if (writeTargets.has(nameAt)) continue;
      const table = resolveTable(m[1]!);
      if (!table) continue;
      const locked = lockingClauses.some((clause) => clause.index > m.index);
      located.push({ at: m.index, events: [{ kind: 'read', table, locked, statement: brief(query(statement, m.index)) }] });
    }
    for (const m of statement.matchAll(CALL)) {
      const name = unquote(m[1]!).split('.').pop()!.toLowerCase();
      const bodies = library.get(name);
      if (!bodies || calling.has(name)) continue;
      calling.add(name);
      located.push({ at: m.index, events: bodies.flatMap((callee) => bodyEvents(callee, resolveTable, library, calling, flags)) });
      calling.delete(name);
    }
    located.sort((a, b) => a.at - b.at);
    for (const entry of located) events.push(...entry.events);
  }
  return events;
}

/** `"public"."users"` → `public.users`. */
export function unquote(name: string): string {
  return [...name.matchAll(new RegExp(NAME, 'g'))]
    .map(([part]) => (part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part.toLowerCase()))
    .join('.');
}

/** The query around position `at` of a statement: from the SELECT or PERFORM that reads there to its closing parenthesis or THEN. */
function query(statement: string, at: number): string {
  const starts = [...statement.slice(0, at).matchAll(/\b(?:SELECT|PERFORM)\b/gi)];
  const start = starts.at(-1)?.index ?? 0;
  let depth = 0;
  for (let i = start; i < statement.length; i++) {
    if (statement[i] === '(') depth++;
    if (statement[i] === ')' && --depth < 0) return statement.slice(start, i).trim();
    if (depth === 0 && /^\s(?:THEN|LOOP)\b/i.test(statement.slice(i, i + 6))) return statement.slice(start, i).trim();
  }
  return statement.slice(start).trim();
}

/** A statement short enough to quote in a sentence. */
function brief(statement: string): string {
  const text = statement.replace(/^(?:DECLARE\b.*?\bBEGIN\b|BEGIN\b)\s*/i, '');
  return text.length > 110 ? `${text.slice(0, 109)}…` : text;
}
