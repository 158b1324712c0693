import type { ConnectionSettings } from './connection.ts';

/** A PostgreSQL server the kit may create databases on; stopped exactly once. */
export interface StartedServer extends AsyncDisposable {
  /** Which provider started it: embedded, url or container. */
  readonly provider: ProviderName;
  /** Settings of the maintenance database the kit connects to for CREATE/DROP DATABASE. */
  readonly settings: ConnectionSettings;
  /** Server version number, e.g. 150004. */
  readonly serverVersion: number;
  /** Stops what the provider started (the server for embedded and container; nothing for url). */
  stop(): Promise<void>;
}

/** The names the CLI knows providers by. */
export type ProviderName = 'embedded' | 'url' | 'container';

/** Starts (or reaches) a PostgreSQL server. One interface for embedded, url and container. */
export interface DatabaseProvider {
  readonly name: ProviderName;
  start(): Promise<StartedServer>;
}

/** Oldest server the kit supports (pg_isolation_test_session_is_blocked, gen_random_uuid). */
export const MIN_SERVER_VERSION = 130000;
