// Mutant derivation on a small schema with one object of every kind, on a real server: the names,
// and every mutant's SQL applied after the schema, with the catalog showing exactly the intended change.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readCatalog, type Catalog } from '../../src/catalog/catalog.ts';
import { connect } from '../../src/db/connection.ts';
import type { StartedServer } from '../../src/db/provider.ts';
import { Sandbox } from '../../src/db/sandbox.ts';
import type { SchemaFile } from '../../src/db/schema-source.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { deriveMutants, MUTANT_KINDS, type Mutant } from '../../src/mutation/derive-mutants.ts';
import { splitTopLevel, splitWhere, stripOuterParentheses, withoutListItem } from '../../src/catalog/definition-text.ts';
import { and, eq, idPool, isNull, scopedUnique, valuePool } from '../../src/rules/index.ts';

// Every kind of object, with the awkward cases: a string literal holding " AND ", a quoted index name,
// a conjunct that is itself an OR, a deferrable partial exclusion constraint, a trigger on several events.
const SCHEMA: SchemaFile = {
  path: 'small-schema.sql',
  sql: `
CREATE TABLE teams (id uuid PRIMARY KEY);
CREATE TABLE items (
  id uuid PRIMARY KEY,
  team_id uuid NOT NULL REFERENCES teams(id),
  owner_id uuid NOT NULL,
  kind text NOT NULL,
  status text NOT NULL DEFAULT 'open',
  note text NOT NULL DEFAULT 'none',
  removed_at timestamptz,
  CONSTRAINT items_kind_check CHECK (kind = 'a' OR kind = 'b' OR status = 'draft'),
  CONSTRAINT items_window_check CHECK (status <> 'x AND y' AND note <> ''),
  CONSTRAINT items_owner_kind_key UNIQUE (owner_id, kind),
  CONSTRAINT items_one_open EXCLUDE USING btree (team_id WITH =, owner_id WITH =) WHERE (status = 'open' AND removed_at IS NULL) DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX "uq ""active"" item" ON items (team_id, lower(kind))
  WHERE status <> 'closed AND gone' AND (removed_at IS NULL OR kind = 'a');
CREATE INDEX items_status_idx ON items (status);
CREATE FUNCTION items_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER items_guard BEFORE INSERT OR UPDATE OF status, kind ON items FOR EACH ROW EXECUTE FUNCTION items_guard();
CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION items_guard();
`,
};

// A rule on items naming team_id, owner_id, kind, status and removed_at (not note).
const rule = scopedUnique({
  id: 'one-open-item',
  title: 'one open item per team and owner',
  source: 'test',
  table: 'items',
  primaryKey: { column: 'id', pool: idPool('item', 3) },
  columns: { team_id: idPool('team', 1), owner_id: idPool('owner', 2), kind: valuePool('kind', ['a', 'b']), status: valuePool('status', ['open', 'closed']), removed_at: valuePool('removed_at', [null]) },
  unique: [{ key: ['team_id', 'owner_id'], where: and(eq('status', 'open'), isNull('removed_at')) }],
});

let server: StartedServer;
let catalog: Catalog;
let mutants: Mutant[];

async function catalogOf(files: SchemaFile[]): Promise<{ catalog: Catalog; sandbox: Sandbox }> {
  const sandbox = await Sandbox.create(server, files);
  const client = await connect(sandbox.settingsFor(sandbox.template));
  try {
    return { catalog: await readCatalog(client), sandbox };
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  server = await new UrlProvider(inject('embeddedUrl')).start();
  const original = await catalogOf([SCHEMA]);
  catalog = original.catalog;
  await original.sandbox.dispose();
  mutants = deriveMutants(catalog, rule);
});
afterAll(async () => server?.stop());

describe('mutant derivation', () => {
  it('names every mutant by kind, object and changed part, once', () => {
    expect(mutants.map((m) => m.name).sort()).toEqual(
      [
        'drop-index uq "active" item',
        'non-unique uq "active" item',
        'strip-predicate uq "active" item',
        "strip-predicate-conjunct uq \"active\" item: (status <> 'closed AND gone'::text)",
        "strip-predicate-conjunct uq \"active\" item: (removed_at IS NULL OR kind = 'a'::text)",
        'drop-key-column uq "active" item: team_id',
        'drop-key-column uq "active" item: lower(kind)',
        'drop-check items_kind_check',
        "drop-check-branch items_kind_check: (kind = 'a'::text)",
        "drop-check-branch items_kind_check: (kind = 'b'::text)",
        "drop-check-branch items_kind_check: (status = 'draft'::text)",
        'drop-check items_window_check',
        "drop-check-branch items_window_check: (status <> 'x AND y'::text)",
        "drop-check-branch items_window_check: (note <> ''::text)",
        'drop-constraint items_owner_kind_key',
        'drop-key-column items_owner_kind_key: owner_id',
        'drop-key-column items_owner_kind_key: kind',
        'drop-constraint items_one_open',
        "strip-predicate items_one_open",
        "strip-predicate-conjunct items_one_open: (status = 'open'::text)",
        'strip-predicate-conjunct items_one_open: (removed_at IS NULL)',
        'drop-key-column items_one_open: team_id',
        'drop-key-column items_one_open: owner_id',
        'drop-constraint items_pkey',
        'drop-foreign-key items_team_id_fkey',
        'drop-trigger items_guard',
        'insert-only-trigger items_guard',
        'drop-trigger items_touch',
        'drop-not-null items.team_id',
        'drop-not-null items.owner_id',
        'drop-not-null items.kind',
        'drop-not-null items.status',
      ].sort(),
    );
    // The plain index and the NOT NULL of a column the rule does not name are not mutated; every kind is.
    expect(mutants.some((m) => m.object === 'items_status_idx' || m.object === 'items.note')).toBe(false);
    expect(new Set(mutants.map((m) => m.kind))).toEqual(new Set(MUTANT_KINDS));
  });

  it('flags a changed part that constrains a column the rule never names, on an object that also constrains columns it names', () => {
    const flagged = mutants.filter((m) => m.unnamedColumns.length > 0);
    expect(flagged.map((m) => [m.name, m.unnamedColumns])).toEqual([
      ['drop-check items_window_check', ['note']],
      ["drop-check-branch items_window_check: (note <> ''::text)", ['note']],
    ]);
  });

  it('applies every mutant after the schema, each making exactly its change', async () => {
    for (const mutant of mutants) {
      const { catalog: after, sandbox } = await catalogOf([SCHEMA, { path: `mutant: ${mutant.name}`, sql: mutant.sql }]);
      await sandbox.dispose();
      expect(changeOf(catalog, after), mutant.name).toEqual(expectedChange(mutant));
    }
    // A sandbox per mutant: about 50 s on a loaded 2-core machine alone, past the default limit beside another file.
  }, 300_000);
});

describe('reading the server\'s SQL text', () => {
  it('splits at top-level AND and OR only: not inside literals, parentheses, CASE or BETWEEN', () => {
    expect(splitTopLevel("a = 'x AND y' AND (b OR c) AND d BETWEEN 1 AND 2", 'AND')).toEqual(["a = 'x AND y'", 'b OR c', 'd BETWEEN 1 AND 2']);
    expect(splitTopLevel('CASE WHEN a AND b THEN c END AND "and" = 1', 'AND')).toEqual(['CASE WHEN a AND b THEN c END', '"and" = 1']);
    expect(splitTopLevel('((a OR b))', 'OR')).toEqual(['a', 'b']);
    expect(splitTopLevel('brand = 1 AND command = 2', 'AND')).toEqual(['brand = 1', 'command = 2']);
    expect(stripOuterParentheses('(a) AND (b)')).toBe('(a) AND (b)');
  });

  it('finds the predicate and the key list of a definition', () => {
    const definition = 'CREATE UNIQUE INDEX "x WHERE (y)" ON public.t USING btree (a, lower(b), c) WHERE ((s = \'WHERE\'::text) AND (r IS NULL))';
    expect(splitWhere(definition)).toEqual({ head: 'CREATE UNIQUE INDEX "x WHERE (y)" ON public.t USING btree (a, lower(b), c)', predicate: "(s = 'WHERE'::text) AND (r IS NULL)", tail: '' });
    expect(withoutListItem(definition, 1)).toBe('CREATE UNIQUE INDEX "x WHERE (y)" ON public.t USING btree (a, c) WHERE ((s = \'WHERE\'::text) AND (r IS NULL))');
    expect(splitWhere('EXCLUDE USING btree (a WITH =) WHERE ((s = 1)) DEFERRABLE')).toEqual({ head: 'EXCLUDE USING btree (a WITH =)', predicate: '(s = 1)', tail: ' DEFERRABLE' });
  });
});

/** What changed between two catalogs, in the terms a mutant's kind promises. */
function changeOf(before: Catalog, after: Catalog): string[] {
  const changes: string[] = [];
  for (const index of before.indexes) {
    const now = after.indexes.find((i) => i.name === index.name);
    if (!now) changes.push(`index ${index.name} gone`);
    else {
      if (now.unique !== index.unique) changes.push(`index ${index.name} unique ${now.unique}`);
      if (now.predicate !== index.predicate) changes.push(`index ${index.name} predicate ${now.predicate === null ? 'none' : conjuncts(now.predicate).join(' & ')}`);
      if (JSON.stringify(now.keys) !== JSON.stringify(index.keys)) changes.push(`index ${index.name} keys ${now.keys.join(', ')}`);
    }
  }
  for (const constraint of before.constraints) {
    const now = after.constraints.find((c) => c.name === constraint.name);
    if (!now) changes.push(`constraint ${constraint.name} gone`);
    else if (constraint.type === 'c' && now.definition !== constraint.definition) changes.push(`check ${constraint.name} ${now.definition}`);
  }
  for (const trigger of before.triggers) {
    const now = after.triggers.find((t) => t.name === trigger.name);
    if (!now) changes.push(`trigger ${trigger.name} gone`);
    else if (now.events.join() !== trigger.events.join() || now.timing !== trigger.timing) changes.push(`trigger ${trigger.name} ${now.timing} ${now.events.join(' ')}`);
  }
  for (const table of before.tables) {
    for (const column of table.columns) {
      const now = after.tables.find((t) => t.qualified === table.qualified)?.columns.find((c) => c.name === column.name);
      if (now && now.notNull !== column.notNull) changes.push(`column ${table.name}.${column.name} nullable`);
    }
  }
  return changes.sort();
}

/** The change each mutant promises, from the original catalog (a constraint's index changes with it). */
function expectedChange(mutant: Mutant): string[] {
  const index = catalog.indexes.find((i) => i.name === mutant.object);
  const detail = mutant.name.split(': ').slice(1).join(': ');
  const constraintIndex = (name: string) => (catalog.indexes.some((i) => i.name === name) ? [`index ${name} gone`] : []);
  switch (mutant.kind) {
    case 'drop-index':
      return [`index ${mutant.object} gone`];
    case 'non-unique':
      return [`index ${mutant.object} unique false`];
    case 'strip-predicate':
      return [`index ${mutant.object} predicate none`];
    case 'strip-predicate-conjunct':
      return [`index ${mutant.object} predicate ${conjuncts(index!.predicate!).filter((c) => `(${c})` !== detail).join(' & ')}`];
    case 'drop-key-column':
      return [`index ${mutant.object} keys ${index!.keys.filter((k) => k !== detail).join(', ')}`];
    case 'drop-constraint':
    case 'drop-check':
    case 'drop-foreign-key':
      return [`constraint ${mutant.object} gone`, ...constraintIndex(mutant.object)].sort();
    case 'drop-check-branch': {
      const definition = catalog.constraints.find((c) => c.name === mutant.object)!.definition;
      const operator = splitTopLevel(definition.replace(/^CHECK /, ''), 'OR').length > 1 ? 'OR' : 'AND';
      const rest = splitTopLevel(definition.replace(/^CHECK /, ''), operator).filter((b) => `(${b})` !== detail);
      return [`check ${mutant.object} CHECK (${rest.join(` ${operator} `)})`];
    }
    case 'drop-trigger':
      return [`trigger ${mutant.object} gone`];
    case 'insert-only-trigger':
      return [`trigger ${mutant.object} ${catalog.triggers.find((t) => t.name === mutant.object)!.timing} INSERT`];
    case 'drop-not-null':
      return [`column ${mutant.object} nullable`];
  }
}

function conjuncts(predicate: string): string[] {
  return splitTopLevel(predicate, 'AND');
}
