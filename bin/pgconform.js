#!/usr/bin/env node
// The CLI runs the built JavaScript in dist/ (npm run build; npm install, npm ci and npm pack build it).
// TypeScript specs and configurations are compiled when loaded, by tsx, and only then.
import { existsSync } from 'node:fs';
import { hideBin } from 'yargs/helpers';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('pgconform: the kit is not built (no dist/cli/main.js); fix: run npm run build in its folder\n');
  process.exit(3);
}
// A reader that stops early (pgconform list | head) closes the pipe: that ends the output, not the run with a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = await import(entry.href);
process.exitCode = await main(hideBin(process.argv));
