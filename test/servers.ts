import { inject } from 'vitest';

/** The servers every database test runs on: the embedded one, and the local one when reachable. */
export function testServers(): Array<{ name: string; url: string }> {
  const servers = [{ name: 'embedded', url: inject('embeddedUrl') }];
  if (inject('localUrl')) servers.push({ name: 'local', url: inject('localUrl') });
  return servers;
}
