import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

/** The isolationtester of the local PostgreSQL packages (postgresql-client-NN on Debian), if any: the newest version's. */
export function isolationTester(): string | undefined {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  return versions.map((v) => join(base, v, 'lib/pgxs/src/test/isolation/isolationtester')).find((file) => existsSync(file));
}

/** Runs an isolation spec through `tester` in a throwaway database of the server at `url` (pgconform_ prefix, dropped afterwards). */
export async function runIsolationSpec(url: string, tester: string, spec: string): Promise<{ code: number | null; output: string }> {
  const name = `pgconform_iso_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const target = new URL(url);
    target.pathname = `/${name}`;
    const child = execFile(tester, [target.toString()], { timeout: 60_000 });
    child.stdin!.end(spec);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, output };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
    await admin.end();
  }
}
