import { formatOutcome, type HistoryEvent } from '../engine/history.ts';

/** A counterexample as a table with one column per session, one row per step, in the order they ran. */
export function timeline(history: readonly HistoryEvent[], options: { width?: number; highlight?: number } = {}): string[] {
  const sessions = Math.max(0, ...history.map((e) => e.session)) + 1;
  const width = options.width ?? Math.max(30, Math.min(56, Math.floor(150 / sessions)));
  const header = Array.from({ length: sessions }, (_, s) => pad(`session ${s + 1}`, width)).join(' │ ');
  const lines = [`     ${header}`, `     ${Array.from({ length: sessions }, () => '─'.repeat(width)).join('─┼─')}`];
  for (const event of history) {
    const cell = wrap(`${event.label} → ${formatOutcome(event)}${event.waitedFor?.length ? ` (waited for s${event.waitedFor.map((s) => s + 1).join(', s')})` : ''}`, width);
    cell.forEach((text, i) => {
      const columns = Array.from({ length: sessions }, (_, s) => pad(s === event.session ? text : '', width));
      const mark = i > 0 ? '     ' : event.index === options.highlight ? ' ▶' + String(event.index + 1).padStart(2) + ' ' : String(event.index + 1).padStart(4) + ' ';
      lines.push(`${mark}${columns.join(' │ ')}`.trimEnd());
    });
  }
  return lines;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** Breaks text into at most `max` lines of `width` characters, at spaces where it can; the last line is cut with an ellipsis. */
export function wrap(text: string, width: number, max = 5): string[] {
  const lines: string[] = [];
  let rest = text.replace(/\s+/g, ' ').trim();
  while (rest.length > width && lines.length < max - 1) {
    const cut = rest.lastIndexOf(' ', width);
    const at = cut > width / 2 ? cut : width;
    lines.push(rest.slice(0, at));
    rest = rest.slice(at).trimStart();
  }
  lines.push(rest.length > width ? `${rest.slice(0, width - 1)}…` : rest);
  return lines;
}
