#!/usr/bin/env node
// Specs are TypeScript loaded at run time, so the CLI runs under tsx's loader: no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
