import fc from 'fast-check';
import type pg from 'pg';
import type { TemplateContents } from '../db/template-contents.ts';
import { analyzeBody, readFunctionLibrary, stripCommentsAndLiterals, unquote, type FunctionLibrary } from '../explain/function-body.ts';
import type { Rule } from '../rules/rule.ts';

/** What the reset after an execution of a rule must cover: the tables and sequences an execution can write. */
export type ResetScope =
  | { readonly kind: 'narrow'; readonly tables: ReadonlySet<string>; readonly sequences?: ReadonlySet<string> }
  /** Every table: what an execution writes could not be told for sure. */
  | { readonly kind: 'all'; readonly reason: string };

/** Enough draws to meet every statement shape of a rule's operation vocabulary. */
const SAMPLES = 400;

interface Relation {
  oid: number;
  name: string;
  nspname: string;
  relname: string;
  kind: string;
}

interface Trigger {
  table: number;
  name: string;
  language: string;
  builtin: boolean;
  body: string;
}

/**
 * The tables an execution of `rule` can write: those its operations and setup write, and from there
 * whatever the schema writes in turn: triggers of a written table (their functions and the user
 * functions they call are read), children a foreign-key action (CASCADE, SET NULL, SET DEFAULT) can
 * change, the other members of an inheritance or partition tree. A write that can only change
 * existing rows (UPDATE, DELETE, a foreign-key action) counts only for a table that can hold rows:
 * seeded by the schema, or written itself. Anything that cannot be read for sure (dynamic SQL, a
 * trigger in another language, a rule, a write to a view or to a name that is no table) gives 'all'.
 */
export async function resetScope(client: pg.ClientBase, rule: Rule, contents: TemplateContents | undefined): Promise<ResetScope> {
  const schema = await readWriteGraph(client);
  const unsure = (reason: string): ResetScope => ({ kind: 'all', reason });
  const texts = [...new Set([rule.setup, ...fc.sample(rule.operation, { numRuns: SAMPLES, seed: 1 }).map((op) => rule.sql(op).text)])];
  const scope = new Set<number>();
  const nextvals = new Set<string>();
  for (const name of rule.tables) {
    const found = schema.resolve(unquote(name));
    if (found.length === 0) return unsure(`rule table ${name} is not a table of the schema`);
    for (const r of found) scope.add(r.oid);
  }
  for (const text of texts) {
    const read = schema.writesOf(text);
    if ('reason' in read) return unsure(read.reason);
    for (const write of read.writes) for (const r of write.tables) scope.add(r.oid);
    for (const s of read.sequences) nextvals.add(s);
  }
  const seeded = new Set(schema.relations.filter((r) => contents?.tables.has(schema.rootName(r.oid))).map((r) => r.oid));
  const hasRows = (oid: number) => scope.has(oid) || seeded.has(oid);
  for (let changed = true; changed; ) {
    changed = false;
    const add = (oid: number) => {
      if (!scope.has(oid)) (scope.add(oid), (changed = true));
    };
    for (const oid of [...scope]) {
      for (const member of schema.family(oid)) add(member);
      for (const child of schema.actionChildren.get(oid) ?? []) if (hasRows(child)) add(child);
      if (schema.rewritten.has(oid)) return unsure(`table ${schema.nameOf(oid)} has a rule that rewrites writes`);
      for (const trigger of schema.triggers.get(oid) ?? []) {
        const read = schema.triggerWrites(trigger);
        if ('reason' in read) return unsure(read.reason);
        for (const write of read.writes) for (const r of write.tables) if (write.verb === 'insert' || hasRows(r.oid)) add(r.oid);
        for (const s of read.sequences) nextvals.add(s);
      }
    }
  }
  if (nextvals.has('*')) return { kind: 'narrow', tables: new Set([...scope].map((oid) => schema.nameOf(oid))) };
  const sequences = new Set([...scope].flatMap((oid) => schema.sequencesOf.get(oid) ?? []));
  for (const name of nextvals) for (const s of schema.resolveSequence(name)) sequences.add(s);
  return { kind: 'narrow', tables: new Set([...scope].map((oid) => schema.nameOf(oid))), sequences };
}

type Writes = { writes: Array<{ verb: 'insert' | 'update' | 'delete'; tables: Relation[] }>; sequences: string[] } | { reason: string };

/** The catalog facts the scope is computed from, and how a piece of SQL reads against them. */
async function readWriteGraph(client: pg.ClientBase) {
  const { rows: relations } = await client.query<Relation & { root: number; parents: number[] }>(
    `SELECT c.oid::int AS oid, format('%I.%I', n.nspname, c.relname) AS name, n.nspname, c.relname, c.relkind AS kind,
            coalesce(CASE WHEN c.relispartition THEN pg_partition_root(c.oid) END, c.oid)::int AS root,
            coalesce((SELECT array_agg(i.inhparent::int) FROM pg_inherits i WHERE i.inhrelid = c.oid), '{}') AS parents
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
  );
  const { rows: actions } = await client.query<{ child: number; parent: number }>(
    `SELECT conrelid::int AS child, confrelid::int AS parent FROM pg_constraint
      WHERE contype = 'f' AND (confdeltype IN ('c', 'n', 'd') OR confupdtype IN ('c', 'n', 'd'))`,
  );
  const { rows: triggers } = await client.query<Trigger>(
    `SELECT t.tgrelid::int AS table, t.tgname AS name, l.lanname AS language, pn.nspname = 'pg_catalog' AS builtin, p.prosrc AS body
       FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
      WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'`,
  );
  const { rows: rules } = await client.query<{ table: number }>(`SELECT ev_class::int AS table FROM pg_rewrite WHERE ev_type IN ('2', '3', '4')`);
  const { rows: owned } = await client.query<{ table: number; sequence: string }>(
    `SELECT d.refobjid::int AS table, format('%I.%I', n.nspname, s.relname) AS sequence
       FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_namespace n ON n.oid = s.relnamespace
      WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
     UNION
     SELECT ad.adrelid::int, format('%I.%I', n.nspname, s.relname)
       FROM pg_attrdef ad JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.refclassid = 'pg_class'::regclass
       JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S' JOIN pg_namespace n ON n.oid = s.relnamespace`,
  );
  const { rows: sequenceNames } = await client.query<{ name: string; nspname: string; relname: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
  );
  // User functions the library cannot follow (C, plpython …); an extension's functions write no user table.
  const { rows: opaque } = await client.query<{ name: string }>(
    `SELECT DISTINCT lower(p.proname) AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' AND l.lanname NOT IN ('plpgsql', 'sql')
        AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`,
  );
  const library = await readFunctionLibrary(client);
  const byOid = new Map(relations.map((r) => [r.oid, r]));
  const children = new Map<number, number[]>();
  for (const r of relations) for (const parent of r.parents) children.set(parent, [...(children.get(parent) ?? []), r.oid]);
  const group = <K, V>(rows: readonly { key: K; value: V }[]) => {
    const map = new Map<K, V[]>();
    for (const { key, value } of rows) map.set(key, [...(map.get(key) ?? []), value]);
    return map;
  };
  const descendants = (oid: number): number[] => (children.get(oid) ?? []).flatMap((c) => [c, ...descendants(c)]);

  const resolve = (name: string): Relation[] => {
    const [schemaName, relname] = name.includes('.') ? name.split('.', 2) : [undefined, name];
    return relations.filter((r) => r.relname === relname && (schemaName === undefined || r.nspname === schemaName));
  };

  /** The writes of a statement or function body, the user functions it calls followed. */
  const writesOf = (text: string): Writes => {
    const bodies = reachable(text, library);
    for (const body of bodies) {
      const code = stripCommentsAndLiterals(body);
      if (/\bEXECUTE\b/i.test(code)) return { reason: `dynamic SQL (EXECUTE) in ${brief(body)}` };
      const statement = /\b(MERGE\s+INTO|TRUNCATE|COPY)\b/i.exec(code);
      if (statement) return { reason: `${statement[1]!.toUpperCase()} in ${brief(body)}` };
      const call = opaque.find((f) => new RegExp(String.raw`(?<![\w$.])"?${escape(f.name)}"?\s*\(`, 'i').test(code));
      if (call) return { reason: `a call of ${call.name}(), which is not SQL or PL/pgSQL` };
    }
    const writes: Array<{ verb: 'insert' | 'update' | 'delete'; tables: Relation[] }> = [];
    for (const event of analyzeBody(text, (name) => unquote(name), library).writes) {
      if (NOT_A_TABLE.has(event.table)) continue;
      const tables = resolve(event.table);
      const notTable = tables.find((r) => !'rp'.includes(r.kind));
      if (notTable) return { reason: `a write to ${notTable.name}, which is not a table` };
      if (tables.length === 0) return { reason: `a write to ${event.table}, which is not a table of the schema` };
      writes.push({ verb: event.verb, tables });
    }
    return { writes, sequences: sequencesCalled(bodies) };
  };

  return {
    relations,
    resolve,
    writesOf,
    nameOf: (oid: number) => byOid.get(oid)!.name,
    /** The table the reset empties for this one: a partition's partitioned table. */
    rootName: (oid: number) => byOid.get(byOid.get(oid)!.root)?.name ?? byOid.get(oid)!.name,
    /** Tables a write to this one can land in or change: the whole partition tree, or the inheritance children. */
    family: (oid: number) => {
      const root = byOid.get(oid)!.root;
      return root === oid ? descendants(oid) : [root, ...descendants(root)];
    },
    actionChildren: group(actions.map((a) => ({ key: a.parent, value: a.child }))),
    triggers: group(triggers.map((t) => ({ key: t.table, value: t }))),
    rewritten: new Set(rules.map((r) => r.table)),
    sequencesOf: group(owned.map((o) => ({ key: o.table, value: o.sequence }))),
    resolveSequence: (name: string) => {
      const [schemaName, relname] = name.includes('.') ? name.split('.', 2) : [undefined, name];
      return sequenceNames.filter((s) => s.relname === relname && (schemaName === undefined || s.nspname === schemaName)).map((s) => s.name);
    },
    triggerWrites: (trigger: Trigger): Writes => {
      if (trigger.language === 'plpgsql' || trigger.language === 'sql') return writesOf(trigger.body);
      // The server's own trigger functions (tsvector_update_trigger …) change only the row they fire for.
      if (trigger.builtin) return { writes: [], sequences: [] };
      return { reason: `trigger ${trigger.name} runs a ${trigger.language} function, which is not read` };
    },
  };
}

/** Words that follow UPDATE without naming a table (FOR UPDATE OF, DO UPDATE SET, FOR UPDATE SKIP LOCKED, NOWAIT). */
const NOT_A_TABLE = new Set(['of', 'set', 'skip', 'nowait']);

/** The text and the bodies of the user functions it calls, transitively. */
function reachable(text: string, library: FunctionLibrary): string[] {
  const seen = new Set<string>();
  const bodies: string[] = [];
  const visit = (body: string) => {
    bodies.push(body);
    for (const m of stripCommentsAndLiterals(body).matchAll(/((?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*))?)\s*\(/g)) {
      const name = unquote(m[1]!).split('.').pop()!.toLowerCase();
      if (seen.has(name)) continue;
      seen.add(name);
      for (const callee of library.get(name) ?? []) visit(callee);
    }
  };
  visit(text);
  return bodies;
}

/** Sequences named in nextval()/setval() calls; '*' when a call names its sequence otherwise than by a literal. */
function sequencesCalled(bodies: readonly string[]): string[] {
  const names: string[] = [];
  for (const body of bodies) {
    const calls = [...stripCommentsAndLiterals(body).matchAll(/\b(?:nextval|setval)\s*\(/gi)].length;
    const literal = [...body.matchAll(/\b(?:nextval|setval)\s*\(\s*'((?:[^']|'')+)'/gi)].map((m) => unquote(m[1]!.replace(/''/g, "'")));
    names.push(...literal);
    if (literal.length < calls) names.push('*');
  }
  return names;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function brief(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
