// String quoting exactly as Nix 2.8 does it. All strings are byte strings (one char per byte);
// bytes >= 0x80 and control characters other than \n \r \t are written through unchanged.

/** How a string value prints (`nix-instantiate --eval`): `\" \\ \n \r \t` and `\${` (only before `{`). */
export function printString(s: string): string {
  // Unescaped runs are copied as slices: a concatenation per character would leave a chain of
  // one string object per character until the printed value is joined.
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string;
    if (c === 34) esc = '\\"';
    else if (c === 92) esc = '\\\\';
    else if (c === 10) esc = '\\n';
    else if (c === 13) esc = '\\r';
    else if (c === 9) esc = '\\t';
    else if (c === 36 && s.charCodeAt(i + 1) === 123) esc = '\\$';
    else continue;
    out += s.slice(start, i) + esc;
    start = i + 1;
  }
  return start === 0 ? `"${s}"` : `${out}${s.slice(start)}"`;
}

/** How `nix-instantiate --parse` prints a string literal, also used for quoted attribute names: every `$` is escaped. */
export function printParsedString(s: string): string {
  let out = '"';
  for (const c of s) {
    if (c === '"' || c === '\\' || c === '$') out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else out += c;
  }
  return out + '"';
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/**
 * How an attribute name prints in a value or an AST: bare when it is an identifier, quoted
 * otherwise. Nix 2.8 quotes "" and "if" but no other keyword (`{ then = 1; }` prints bare).
 */
export function printAttrName(name: string): string {
  if (name === '') return '""';
  if (name === 'if') return '"if"';
  return IDENT.test(name) ? name : printParsedString(name);
}

/** A JSON string as Nix 2.8's toJSON writes it: `\" \\ \n \r \t`, other bytes < 0x20 as `\u00XX`, the rest raw. */
export function toJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const b = s.charCodeAt(i);
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (b < 32) out += `\\u${b.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return out + '"';
}

/** A string as Nix 2.8 stores it where it makes a C string (literals, fromJSON): up to a NUL. */
export function upToNul(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}
