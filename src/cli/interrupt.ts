import { liveSandboxes } from '../db/sandbox.ts';
import type { StartedServer } from '../db/provider.ts';
import { ExitCode } from '../errors/kit-error.ts';
import type { CommandContext } from './context.ts';

/** How long an interrupted command may take to finish what is in flight, drop its databases and write its partial report. */
export const INTERRUPT_DEADLINE_MS = 4_500;

/**
 * On SIGINT/SIGTERM: with `abort`, signal it (the command finishes the scenarios in flight, drops its
 * databases and writes its partial report) and exit 3 after the deadline if that takes too long; without,
 * drop the kit's databases, stop the server and exit 3 at once. Returns the uninstaller.
 */
export function handleInterrupts(server: StartedServer, context: CommandContext, abort?: AbortController): () => void {
  const cleanUpAndExit = () =>
    void Promise.all(liveSandboxes().map((s) => s.dispose()))
      .then(() => server.stop())
      .finally(() => process.exit(ExitCode.Infrastructure));
  const handler = (signal: NodeJS.Signals) => {
    if (abort) {
      if (abort.signal.aborted) return;
      context.err(`pgconform: ${signal} received: stopping, dropping the kit's databases and writing the partial report`);
      abort.abort(signal);
      setTimeout(cleanUpAndExit, INTERRUPT_DEADLINE_MS).unref();
      return;
    }
    context.err(`pgconform: ${signal} received: dropping the kit's databases and stopping the server`);
    setTimeout(() => process.exit(ExitCode.Infrastructure), INTERRUPT_DEADLINE_MS).unref();
    cleanUpAndExit();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
}
