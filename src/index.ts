// pgconform's public API: rule templates for specs, and the pieces the CLI is built from.
export * from './rules/index.ts';
