import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The isolationtester of the local PostgreSQL packages (postgresql-client-NN on Debian), if any: the newest version's. */
export function isolationTester(): string | undefined {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  return versions.map((v) => join(base, v, 'lib/pgxs/src/test/isolation/isolationtester')).find((file) => existsSync(file));
}
