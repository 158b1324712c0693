// SQL written by people names its parameters (`:account`, `:slot.start`); the server takes $1, $2 …
// Rewriting skips string literals, quoted identifiers, dollar-quoted bodies, comments and `::` casts.

/** A statement with named parameters, rewritten to positional ones. */
export interface NamedStatement {
  /** The SQL with $1, $2 … in place of the names. */
  readonly text: string;
  /** The parameter names, in $n order (each once). */
  readonly names: readonly string[];
}

const NAME = /^:([A-Za-z_][A-Za-z0-9_]*(?:\.(?:start|end))?)/;

/** Rewrites `:name` placeholders to `$n`; the same name always gets the same number. */
export function positional(sql: string): NamedStatement {
  const names: string[] = [];
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const skipped = skipQuoted(sql, i);
    if (skipped > i) {
      out += sql.slice(i, skipped);
      i = skipped;
      continue;
    }
    const ch = sql[i]!;
    if (ch === ':' && sql[i + 1] === ':') {
      out += '::';
      i += 2;
      continue;
    }
    const match = ch === ':' && sql[i - 1] !== ':' ? NAME.exec(sql.slice(i)) : null;
    if (match) {
      const name = match[1]!;
      let index = names.indexOf(name);
      if (index < 0) index = names.push(name) - 1;
      out += `$${index + 1}`;
      i += match[0].length;
      continue;
    }
    out += ch;
    i++;
  }
  return { text: out, names };
}

/** The end of a quoted run (string, identifier, dollar quote, comment) starting at i, or i when none starts there. */
function skipQuoted(sql: string, i: number): number {
  const ch = sql[i];
  if (ch === "'" || ch === '"') {
    let j = i + 1;
    while (j < sql.length) {
      if (sql[j] === ch) {
        if (sql[j + 1] === ch) j += 2;
        else return j + 1;
      } else j++;
    }
    return sql.length;
  }
  if (ch === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end;
  }
  if (ch === '/' && sql[i + 1] === '*') {
    const end = sql.indexOf('*/', i + 2);
    return end < 0 ? sql.length : end + 2;
  }
  if (ch === '$') {
    const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
    if (tag) {
      const end = sql.indexOf(tag[0], i + tag[0].length);
      return end < 0 ? sql.length : end + tag[0].length;
    }
  }
  return i;
}
