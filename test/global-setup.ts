// Starts one embedded PostgreSQL for the whole suite and checks the local server CI machines have,
// so every database test runs on two server versions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { settingsToUrl } from '../src/db/connection.ts';
import { EmbeddedProvider } from '../src/db/embedded-provider.ts';
import { inspectServer } from '../src/db/server-check.ts';
import { settingsFromUrl } from '../src/db/connection.ts';

export const LOCAL_URL = process.env.PGCONFORM_LOCAL_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export default async function setup(project: TestProject) {
  const server = await new EmbeddedProvider().start();
  let localUrl = '';
  try {
    await inspectServer(settingsFromUrl(LOCAL_URL));
    localUrl = LOCAL_URL;
  } catch (error) {
    if (process.env.CI) throw new Error(`CI needs the local PostgreSQL at ${LOCAL_URL}: ${(error as Error).message}`);
    console.warn(`local PostgreSQL not reachable at ${LOCAL_URL}: its tests are skipped`);
  }
  project.provide('embeddedUrl', settingsToUrl(server.settings));
  project.provide('embeddedVersion', server.serverVersion);
  project.provide('localUrl', localUrl);
  // What several test files would otherwise compute each (the report tests' real runs), for this suite run only.
  const scratch = mkdtempSync(join(tmpdir(), 'pgconform-suite-'));
  project.provide('suiteScratch', scratch);
  return async () => {
    rmSync(scratch, { recursive: true, force: true });
    await server.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    embeddedUrl: string;
    embeddedVersion: number;
    localUrl: string;
    suiteScratch: string;
  }
}
