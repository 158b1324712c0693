import { describeSettings, settingsFromUrl, type ConnectionSettings } from './connection.ts';
import type { DatabaseProvider, StartedServer } from './provider.ts';
import { inspectServer } from './server-check.ts';
import { KitError } from '../errors/kit-error.ts';

/** An existing server given by URL. The kit only creates and drops its own pgconform_* databases on it. */
export class UrlProvider implements DatabaseProvider {
  readonly name = 'url' as const;
  private readonly settings: ConnectionSettings;

  constructor(url: string) {
    this.settings = settingsFromUrl(url);
  }

  async start(): Promise<StartedServer> {
    const facts = await inspectServer(this.settings);
    if (!facts.canCreateDatabases) {
      throw new KitError('infrastructure', `role "${this.settings.user}" may not create databases`, {
        where: describeSettings(this.settings),
        fix: `the kit works in throwaway databases: ALTER ROLE ${this.settings.user} CREATEDB, or use another role`,
      });
    }
    const settings = this.settings;
    return {
      provider: 'url',
      settings,
      serverVersion: facts.version,
      stop: async () => undefined,
      [Symbol.asyncDispose]: async () => undefined,
    };
  }
}
