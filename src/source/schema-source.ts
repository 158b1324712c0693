import type pg from 'pg';
import type { ConnectionSettings } from '../db/connection.ts';
import { applySchema, readSchemaFiles, type SchemaFile } from '../db/schema-source.ts';

/** The empty template database a schema source builds its schema in. */
export interface SchemaTarget {
  /** Where the template database is (for a child process such as a migration tool). */
  readonly settings: ConnectionSettings;
  /** An open connection to it. */
  readonly client: pg.Client;
}

/**
 * Where a sandbox's schema comes from: SQL files applied in order, or a tool that builds it (a migration
 * command). Sandbox.create builds it once in the template database that every worker database is cloned from.
 */
export interface SchemaSource {
  /** What reports and the corpus name as the schema: the file paths in order, `$ command`, or `copy of user@host:port/db`. */
  readonly labels: readonly string[];
  /** Builds the schema in the empty template database; returns the SQL files it applied (none when a tool built it). */
  build(target: SchemaTarget): Promise<readonly SchemaFile[]>;
}

/** SQL files, already read, applied in order. */
export function schemaFiles(files: readonly SchemaFile[]): SchemaSource {
  return {
    labels: files.map((file) => file.path),
    async build({ client }) {
      await applySchema(client, files);
      return files;
    },
  };
}

/** SQL files read from these paths when the schema is built (so a missing file is reported where the sandbox is made). */
export function schemaFilesAt(paths: readonly string[]): SchemaSource {
  return {
    labels: [...paths],
    async build(target) {
      return schemaFiles(await readSchemaFiles(paths)).build(target);
    },
  };
}

/** True when `value` is a SchemaSource rather than a list of paths or files. */
export function isSchemaSource(value: unknown): value is SchemaSource {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as SchemaSource).build === 'function';
}
