// Splits a SQL script into its statements, the way psql does: a semicolon ends a statement unless it is
// inside a string ('…', E'…'), a quoted name ("…"), a dollar-quoted body ($fn$…$fn$), or a comment
// (-- and nested /* */). Used on the error path, to find which statement of a file the server refused.

/** One statement of a script and the line it starts on (1-based, its first non-blank character). */
export interface ScriptStatement {
  readonly text: string;
  readonly line: number;
}

/** The statements of a script, in order, without empty ones. */
export function splitStatements(sql: string): ScriptStatement[] {
  const statements: ScriptStatement[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const from = codeStart(sql, start, end);
    if (from < end) statements.push({ text: sql.slice(from, end).trim(), line: lineOf(sql, from) });
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === ';') {
      push(i + 1);
      start = ++i;
    } else if (c === "'") i = endOfString(sql, i, /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? ''));
    else if (c === '"') i = endOf(sql, i + 1, '"');
    else if (c === '-' && sql[i + 1] === '-') i = endOf(sql, i, '\n');
    else if (c === '/' && sql[i + 1] === '*') i = endOfComment(sql, i);
    else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][\w]*)?\$/.exec(sql.slice(i))?.[0];
      i = tag ? endOf(sql, i + tag.length, tag) : i + 1;
    } else i++;
  }
  push(sql.length);
  return statements;
}

/** The first index from `start` (before `end`) that is neither blank nor in a comment. */
function codeStart(sql: string, start: number, end: number): number {
  let i = start;
  while (i < end) {
    if (/\s/.test(sql[i]!)) i++;
    else if (sql.startsWith('--', i)) i = endOf(sql, i, '\n');
    else if (sql.startsWith('/*', i)) i = endOfComment(sql, i);
    else return i;
  }
  return end;
}

/** The index just past `close`, searched from `from` (the end of the text when it never comes). */
function endOf(sql: string, from: number, close: string): number {
  const at = sql.indexOf(close, from);
  return at < 0 ? sql.length : at + close.length;
}

/** Past a '…' string: '' is a quote inside it; with E'…', so is \'. */
function endOfString(sql: string, open: number, escapes: boolean): number {
  for (let i = open + 1; i < sql.length; i++) {
    if (escapes && sql[i] === '\\') i++;
    else if (sql[i] === "'") {
      if (sql[i + 1] === "'") i++;
      else return i + 1;
    }
  }
  return sql.length;
}

/** Past a /* comment *\/, which nests in PostgreSQL. */
function endOfComment(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length - 1; i++) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i++;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  return sql.length;
}

function lineOf(sql: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (sql.charCodeAt(i) === 10) line++;
  return line;
}
