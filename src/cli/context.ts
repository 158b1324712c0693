/** What a command may touch: its output streams. Commands return their exit code. */
export interface CommandContext {
  out(line: string): void;
  err(line: string): void;
}
