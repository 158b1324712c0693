import type { Argv } from 'yargs';
import { chooseProvider } from '../db/provider-choice.ts';
import type { DatabaseProvider } from '../db/provider.ts';
import type { CommandContext } from './context.ts';

/** Which server a command uses: --url, --docker (with --pg-version), or the embedded one; --debug shows its log. */
export interface ServerArgs {
  url?: string;
  docker?: boolean;
  pgVersion?: string;
  debug?: boolean;
}

/** The server options of the commands that start a server. */
export const serverOptions = <T>(y: Argv<T>) =>
  y
    .option('url', { type: 'string', describe: 'an existing server (the kit only creates and drops its own pgconform_* databases); default $DATABASE_URL' })
    .option('docker', { type: 'boolean', describe: 'start PostgreSQL in a Docker container (testcontainers)' })
    .option('pg-version', { type: 'string', describe: 'PostgreSQL image version for --docker, e.g. 16' });

/** The provider the server options name, its log going to stderr under --debug. */
export function providerOf(args: ServerArgs, context: CommandContext): DatabaseProvider {
  return chooseProvider({ url: args.url, docker: args.docker, pgVersion: args.pgVersion, onLog: args.debug ? (line) => context.err(line.trimEnd()) : undefined });
}
