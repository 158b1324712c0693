import { ContainerProvider } from './container-provider.ts';
import { EmbeddedProvider } from './embedded-provider.ts';
import type { DatabaseProvider } from './provider.ts';
import { UrlProvider } from './url-provider.ts';
import { KitError } from '../errors/kit-error.ts';

/** How the user asked for a server. */
export interface ProviderChoice {
  url?: string;
  docker?: boolean;
  pgVersion?: string;
  onLog?: (line: string) => void;
}

/** --url (or DATABASE_URL) → url; --docker → container; otherwise the embedded server. */
export function chooseProvider(choice: ProviderChoice, env: NodeJS.ProcessEnv = process.env): DatabaseProvider {
  const url = choice.url ?? env.DATABASE_URL;
  if (url && choice.docker) throw new KitError('usage', '--url and --docker exclude each other', { fix: 'pass one of them' });
  if (url) return new UrlProvider(url);
  if (choice.docker) return new ContainerProvider(choice.pgVersion);
  if (choice.pgVersion) throw new KitError('usage', '--pg-version applies to --docker only', { fix: 'add --docker, or drop --pg-version' });
  return new EmbeddedProvider({ onLog: choice.onLog });
}
