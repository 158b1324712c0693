// The packed package as a user gets it: npm pack, npm install of the tarball into fresh projects outside the
// repository, and every way in (the CLI, specs and configurations in ESM, CommonJS and bare folders, the library
// from Node and TypeScript, pgconform/vitest). One install, shared by every case.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COMMANDS } from '../../src/cli/main.ts';
import { reportSchema } from '../../src/report/report-document.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
const INSTALL_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund'];

let work = '';
let tarball = '';
let project = '';
const url = () => inject('localUrl') || inject('embeddedUrl');

function sh(command: string, args: string[], options: SpawnSyncOptions & { cwd: string }) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 240_000, ...options, env: { ...process.env, DATABASE_URL: '', NODE_OPTIONS: '', ...options.env } });
  return { code: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** The installed CLI, as npx runs it in the project. */
const pgconform = (args: string[], cwd = project) => sh('npx', ['--no', '--', 'pgconform', ...args], { cwd });
/** A folder of its own that uses the project's installation. */
function folder(name: string, type: 'module' | 'commonjs'): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'db'), { recursive: true });
  symlinkSync(join(project, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type }));
  writeFileSync(join(dir, 'db', 'schema.sql'), SCHEMA);
  return dir;
}
// A shared 2-core machine runs a command in seconds to minutes.
const SLOW = 600_000;

// A small schema of the project's own: one open order per customer, enforced by a partial unique index.
const SCHEMA = `CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL,
  is_open boolean NOT NULL DEFAULT true
);
CREATE UNIQUE INDEX orders_one_open ON orders (customer_id) WHERE is_open;
`;
// The same table without the index: two open orders for a customer commit.
const BROKEN = SCHEMA.replace(/CREATE UNIQUE INDEX[^\n]*\n/, '');
// A spec written as the README shows, importing the templates by the package's name.
const SPEC = `import { idPool, isTrue, scopedUnique, valuePool } from 'pgconform';

export default scopedUnique({
  id: 'one-open-order',
  title: 'one open order per customer',
  source: 'orders team',
  table: 'orders',
  primaryKey: { column: 'id', pool: idPool('order', 4, 'bigint') },
  columns: { customer_id: idPool('customer', 2, 'bigint'), is_open: valuePool('is_open', [true, false]) },
  mutable: ['is_open'],
  unique: [{ name: 'open orders', key: ['customer_id'], where: isTrue('is_open') }],
  defaultSchema: ['../db/schema.sql'],
});
`;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pgconform-consumer-'));
  const pack = sh('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT });
  expect(pack.code, pack.stderr).toBe(0);
  tarball = join(work, pack.stdout.trim().split('\n').at(-1)!);
  project = join(work, 'project');
  mkdirSync(join(project, 'db'), { recursive: true });
  mkdirSync(join(project, 'specs'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  writeFileSync(join(project, 'db', 'schema.sql'), SCHEMA);
  writeFileSync(join(project, 'db', 'broken.sql'), BROKEN);
  writeFileSync(join(project, 'specs', 'one-open-order.ts'), SPEC);
  const dev = PACKAGE.devDependencies;
  const install = sh('npm', ['install', ...INSTALL_FLAGS, tarball, `vitest@${dev.vitest}`, `typescript@${dev.typescript}`, `@types/node@${dev['@types/node']}`], { cwd: project });
  expect(install.code, install.stderr).toBe(0);
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds the build, the specs and their seed schemas, README and licence, and no test, bench or mutant', () => {
    const list = sh('tar', ['-tzf', tarball], { cwd: work }).stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'bin/pgconform.js', 'cjs/index.cjs', 'specs/one-pending-request.ts', 'fixtures/one-pending-request/seed.sql', 'README.md', 'LICENSE', 'CHANGELOG.md', 'docs/rules.md']) {
      expect(list).toContain(needed);
    }
    expect(list.filter((f) => /^(test|bench|src)\/|\.test\.|^fixtures\/.*\/(mutants|equivalents)\/|reference\.sql|sample-project/.test(f))).toEqual([]);
  }, SLOW);

  it('passes publint and "are the types wrong"', () => {
    const bin = join(ROOT, 'node_modules', '.bin');
    const publint = sh(join(bin, 'publint'), ['run', tarball, '--strict'], { cwd: work });
    expect(publint.code, publint.stdout + publint.stderr).toBe(0);
    // node10 resolution predates "exports": pgconform/vitest cannot resolve there, and Node 20.19+ is required anyway.
    const attw = sh(join(bin, 'attw'), [tarball, '--profile', 'node16', '--format', 'ascii'], { cwd: work });
    expect(attw.code, attw.stdout + attw.stderr).toBe(0);
  }, SLOW);
});

describe('the installed CLI', () => {
  it('with no command names every command; --version is the package version', () => {
    const none = pgconform([]);
    expect(none.code).toBe(2);
    for (const command of COMMANDS) expect(none.stderr).toContain(command);
    const help = pgconform(['--help']);
    const listed = [...help.stdout.matchAll(/^\s+pgconform (\w+)/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...COMMANDS].sort());
    expect(pgconform(['--version']).stdout.trim()).toBe(PACKAGE.version);
  }, SLOW);

  it('runs the built-in rules on their seed designs: exit 1, the seeds are broken on purpose', () => {
    const reports = join(work, 'builtin-reports');
    // A project without a specs folder of its own runs the kit's.
    const run = pgconform(['run', 'super-admin-tenant-strict', 'one-active-membership', '--url', url(), '--runs', '20', '--seed', '1', '--no-corpus', '--quiet', '--report-dir', reports], folder('demo', 'module'));
    expect(run.code, run.stderr).toBe(1);
    const report = reportSchema.parse(JSON.parse(readFileSync(join(reports, 'report.json'), 'utf8')));
    expect(report.exitCode).toBe(1);
    expect(report.rules.map((r) => r.id).sort()).toEqual(['one-active-membership', 'super-admin-tenant-strict']);
    expect(report.rules.some((r) => r.verdict !== 'pass')).toBe(true);
    // Each rule ran on the seed schema shipped in the package.
    for (const rule of report.rules) expect(rule.schema[0]).toMatch(/node_modules\/pgconform\/fixtures\/[\w-]+\/seed\.sql$/);
  }, SLOW);

  it('init --schema db/schema.sql, then run on the embedded server: the rules init wrote pass', () => {
    const dir = folder('init-project', 'module');
    const init = pgconform(['init', '--schema', 'db/schema.sql'], dir);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/wrote pgconform\.config\.ts: [1-9]\d* rule\(s\)/);
    const run = pgconform(['run', '--runs', '20', '--no-corpus', '--quiet', '--report-dir', join(dir, 'reports')], dir);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = reportSchema.parse(JSON.parse(readFileSync(join(dir, 'reports', 'report.json'), 'utf8')));
    expect(report.server.provider).toBe('embedded');
    expect(report.rules.length).toBeGreaterThan(0);
  }, SLOW);

  it("runs a spec of the project's own that imports from 'pgconform': pass on the schema, violation without its index", () => {
    expect(pgconform(['list']).stdout).toMatch(/^one-open-order\s+one open order per customer/m);
    const pass = pgconform(['run', 'one-open-order', '--url', url(), '--runs', '20', '--no-corpus', '--quiet', '--report-dir', join(work, 'spec-pass')]);
    expect(pass.code, pass.stdout + pass.stderr).toBe(0);
    const fail = pgconform(['run', 'one-open-order', '--schema', 'db/broken.sql', '--url', url(), '--runs', '50', '--seed', '1', '--no-corpus', '--quiet', '--report-dir', join(work, 'spec-fail')]);
    expect(fail.code, fail.stderr).toBe(1);
    expect(fail.stdout).toMatch(/VIOLATION: one-open-order/);
  }, SLOW);

  it('loads a TypeScript spec in a "type": "commonjs" project (npm init -y)', () => {
    const dir = folder('commonjs-project', 'commonjs');
    mkdirSync(join(dir, 'specs'));
    writeFileSync(join(dir, 'specs', 'one-open-order.ts'), SPEC);
    const list = pgconform(['list'], dir);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^one-open-order\s+one open order per customer \(orders team\)/m);
    const run = pgconform(['run', '--url', url(), '--runs', '10', '--no-corpus', '--quiet', '--report-dir', join(dir, 'reports')], dir);
    expect(run.code, run.stdout + run.stderr).toBe(0);
  }, SLOW);

  it('init --out cfg.ts in a bare folder where pgconform is not installed: the configuration it wrote loads and runs', () => {
    const dir = join(work, 'vendor-schema');
    mkdirSync(dir);
    writeFileSync(join(dir, 'schema.sql'), SCHEMA);
    const bin = join(project, 'node_modules', '.bin', 'pgconform');
    const init = sh(bin, ['init', '--schema', 'schema.sql', '--url', url(), '--out', 'cfg.ts'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    expect(readFileSync(join(dir, 'cfg.ts'), 'utf8')).toMatch(/from 'pgconform'/);
    const next = /next: read it, then pgconform (run --config \S+)/.exec(init.stdout);
    expect(next, init.stdout).not.toBeNull();
    const run = sh(bin, [...next![1]!.split(' '), '--url', url(), '--runs', '10', '--no-corpus', '--quiet', '--report-dir', join(dir, 'reports')], { cwd: dir });
    expect(run.code, run.stdout + run.stderr).toBe(0);
  }, SLOW);
});

describe('the installed library', () => {
  it('imports from plain Node: ESM import, and require from CommonJS', () => {
    const esm = sh('node', ['--input-type=module', '-e', "const kit = await import('pgconform'); console.log(typeof kit.scopedUnique, typeof kit.runConformance)"], { cwd: project });
    expect(esm.stdout.trim(), esm.stderr).toBe('function function');
    const cjs = sh('node', ['--input-type=commonjs', '-e', "const kit = require('pgconform'); console.log(typeof kit.scopedUnique, typeof kit.loadSpecs)"], { cwd: project });
    expect(cjs.stdout.trim(), cjs.stderr).toBe('function function');
  }, SLOW);

  it('type-checks under strict, exactOptionalPropertyTypes and skipLibCheck false', () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, exactOptionalPropertyTypes: true, skipLibCheck: false, noEmit: true, types: ['node'] },
        include: ['specs', 'test', 'use.ts'],
      }),
    );
    writeFileSync(
      join(project, 'use.ts'),
      `import { chooseProvider, loadSpecs, runConformance, type RunOptions } from 'pgconform';
import { conformance } from 'pgconform/vitest';
const specs = await loadSpecs([], 'specs');
const options: Partial<RunOptions> = {};
const provider = chooseProvider({ url: 'postgresql://localhost/postgres' });
export { specs, options, provider, runConformance, conformance };
`,
    );
    const tsc = sh(join(project, 'node_modules', '.bin', 'tsc'), ['--noEmit', '-p', '.'], { cwd: project });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  }, SLOW);

  it("pgconform/vitest in the project's vitest suite: passes on the schema, fails with the counterexample on the broken one", () => {
    mkdirSync(join(project, 'test'), { recursive: true });
    const test = (schema: string) => `import { conformance } from 'pgconform/vitest';
import rule from '../specs/one-open-order.ts';
conformance(rule, { schema: '${schema}', url: process.env.PGCONFORM_TEST_URL, runs: 50, seed: 1 });
`;
    writeFileSync(join(project, 'test', 'schema.test.ts'), test('db/schema.sql'));
    writeFileSync(join(project, 'test', 'broken.test.ts'), test('db/broken.sql'));
    const results = join(work, 'vitest.json');
    const vitest = sh(join(project, 'node_modules', '.bin', 'vitest'), ['run', '--reporter', 'json', '--outputFile', results], { cwd: project, env: { PGCONFORM_TEST_URL: url() } });
    expect(vitest.code, vitest.stderr).toBe(1);
    type FileResult = { name: string; assertionResults: { status: string; failureMessages: string[] }[] };
    const files = (JSON.parse(readFileSync(results, 'utf8')) as { testResults: FileResult[] }).testResults;
    const byFile: Record<string, FileResult> = Object.fromEntries(files.map((f) => [f.name.split('/').at(-1)!, f]));
    expect(byFile['schema.test.ts']?.assertionResults.map((a) => a.status)).toEqual(['passed']);
    expect(byFile['broken.test.ts']?.assertionResults.map((a) => a.status)).toEqual(['failed']);
    expect(byFile['broken.test.ts']?.assertionResults[0]?.failureMessages.join('\n')).toMatch(/one-open-order/);
  }, SLOW);
});

// The repository's own files are never reached: every project above lives under the system's temporary folder.
it('works outside the repository', () => {
  expect(project.startsWith(tmpdir())).toBe(true);
  expect(existsSync(join(project, 'node_modules', 'pgconform', 'dist', 'index.js'))).toBe(true);
  expect(readdirSync(join(project, 'node_modules', 'pgconform'))).not.toContain('test');
});
