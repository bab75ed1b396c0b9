// A TOML 1.0 parser for builtins.fromTOML. It returns a tagged tree that the evaluator turns into
// Nix values. Behaviour of Nix 2.8 (toml11) that it keeps:
// - dates and times are rejected with "Dates and times are not supported";
// - integers outside 64 bits are clamped to the nearest 64-bit bound;
// - arrays may mix types.
// Input and output strings are byte strings (UTF-8 bytes, one per char).

export class TomlError extends Error {
  constructor(
    readonly code: 'BAD_TOML' | 'TOML_DATETIME',
    message: string,
  ) {
    super(message);
    this.name = 'TomlError';
  }
}

export type TomlValue =
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'string'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'array'; v: TomlValue[] }
  | { t: 'table'; v: Map<string, TomlValue> };

type Table = { t: 'table'; v: Map<string, TomlValue> };

/** How a table came to exist, which decides whether it may be defined or extended later. */
type Origin = 'implicit' | 'header' | 'dotted' | 'inline' | 'aot';

const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);

const toBytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

export function parseToml(input: string): Table {
  const src = Buffer.from(input, 'latin1').toString('utf8');
  let i = 0;
  const origins = new WeakMap<Table, Origin>();
  const root: Table = { t: 'table', v: new Map() };
  origins.set(root, 'header');
  let current = root;

  const fail = (msg: string, at = i): never => {
    let line = 1;
    let col = 1;
    for (let k = 0; k < at && k < src.length; k++) {
      if (src[k] === '\n') {
        line++;
        col = 1;
      } else col++;
    }
    throw new TomlError('BAD_TOML', `cannot parse TOML: ${msg} at ${line}:${col}`);
  };
  const ws = () => {
    while (src[i] === ' ' || src[i] === '\t') i++;
  };
  const comment = () => {
    if (src[i] === '#') while (i < src.length && src[i] !== '\n') i++;
  };
  const eol = () => {
    ws();
    comment();
    if (i >= src.length) return;
    if (src[i] === '\n') i++;
    else if (src[i] === '\r' && src[i + 1] === '\n') i += 2;
    else fail('expected the end of the line');
  };
  /** Skips whitespace, newlines and comments (inside arrays). */
  const wsnl = () => {
    for (;;) {
      ws();
      comment();
      if (src[i] === '\n') i++;
      else if (src[i] === '\r' && src[i + 1] === '\n') i += 2;
      else return;
    }
  };

  const newTable = (origin: Origin): Table => {
    const t: Table = { t: 'table', v: new Map() };
    origins.set(t, origin);
    return t;
  };

  function key(): string[] {
    const parts: string[] = [];
    for (;;) {
      ws();
      const c = src[i];
      if (c === '"') parts.push(basicString());
      else if (c === "'") parts.push(literalString());
      else {
        const start = i;
        while (i < src.length && /[A-Za-z0-9_-]/.test(src[i]!)) i++;
        if (i === start) fail('expected a key');
        parts.push(src.slice(start, i));
      }
      ws();
      if (src[i] !== '.') return parts.map(toBytes);
      i++;
    }
  }

  function hexChar(len: number): string {
    const h = src.slice(i, i + len);
    if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(h)) fail('invalid unicode escape');
    const cp = Number.parseInt(h, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) fail('invalid unicode scalar value');
    i += len;
    return String.fromCodePoint(cp);
  }

  function escapeSeq(): string {
    const c = src[i++];
    switch (c) {
      case 'b':
        return '\b';
      case 't':
        return '\t';
      case 'n':
        return '\n';
      case 'f':
        return '\f';
      case 'r':
        return '\r';
      case '"':
        return '"';
      case '\\':
        return '\\';
      case 'u':
        return hexChar(4);
      case 'U':
        return hexChar(8);
      default:
        return fail(`invalid escape '\\${c ?? ''}'`, i - 1);
    }
  }

  function basicString(): string {
    if (src.startsWith('"""', i)) return multilineBasic();
    i++;
    let out = '';
    for (;;) {
      const c = src[i];
      if (c === undefined || c === '\n') fail('unterminated string');
      i++;
      if (c === '"') return out;
      out += c === '\\' ? escapeSeq() : c;
    }
  }

  function multilineBasic(): string {
    i += 3;
    if (src[i] === '\n') i++;
    else if (src.startsWith('\r\n', i)) i += 2;
    let out = '';
    for (;;) {
      if (i >= src.length) fail('unterminated string');
      if (src.startsWith('"""', i)) {
        let n = 3;
        while (src[i + n] === '"' && n < 5) n++;
        out += '"'.repeat(n - 3);
        i += n;
        return out;
      }
      const c = src[i++]!;
      if (c !== '\\') {
        out += c;
        continue;
      }
      // A backslash at the end of a line trims the newline and following whitespace.
      let j = i;
      while (src[j] === ' ' || src[j] === '\t') j++;
      if (src[j] === '\n' || src.startsWith('\r\n', j)) {
        i = j;
        while (src[i] === ' ' || src[i] === '\t' || src[i] === '\n' || src[i] === '\r') i++;
      } else {
        out += escapeSeq();
      }
    }
  }

  function literalString(): string {
    if (src.startsWith("'''", i)) {
      i += 3;
      if (src[i] === '\n') i++;
      else if (src.startsWith('\r\n', i)) i += 2;
      const end = src.indexOf("'''", i);
      if (end < 0) fail('unterminated string');
      let n = 3;
      while (src[end + n] === "'" && n < 5) n++;
      const out = src.slice(i, end) + "'".repeat(n - 3);
      i = end + n;
      return out;
    }
    i++;
    const start = i;
    while (i < src.length && src[i] !== "'" && src[i] !== '\n') i++;
    if (src[i] !== "'") fail('unterminated string');
    return src.slice(start, i++);
  }

  function scalar(): TomlValue {
    const start = i;
    while (i < src.length && /[0-9A-Za-z_+\-.:]/.test(src[i]!)) i++;
    // A date-time may contain one space between date and time.
    let tok = src.slice(start, i);
    if (/^\d{4}-\d{2}-\d{2}$/.test(tok) && /^ \d{2}:/.test(src.slice(i, i + 4))) {
      i++;
      while (i < src.length && /[0-9A-Za-z_+\-.:]/.test(src[i]!)) i++;
      tok = src.slice(start, i);
    }
    if (tok === 'true') return { t: 'bool', v: true };
    if (tok === 'false') return { t: 'bool', v: false };
    if (/^\d{4}-\d{2}-\d{2}/.test(tok) || /^\d{2}:\d{2}:\d{2}/.test(tok)) {
      throw new TomlError('TOML_DATETIME', 'Dates and times are not supported');
    }
    const m = /^([+-]?)(inf|nan)$/.exec(tok);
    if (m) return { t: 'float', v: m[2] === 'inf' ? (m[1] === '-' ? -Infinity : Infinity) : Number.NaN };
    const radix = /^0([xob])/.exec(tok);
    if (radix) {
      const digits = { x: /^[0-9A-Fa-f](_?[0-9A-Fa-f])*$/, o: /^[0-7](_?[0-7])*$/, b: /^[01](_?[01])*$/ }[
        radix[1] as 'x' | 'o' | 'b'
      ];
      const body = tok.slice(2);
      if (!digits.test(body)) fail(`invalid number '${tok}'`, start);
      return int(BigInt(`0${radix[1]}${body.replaceAll('_', '')}`));
    }
    if (/^[+-]?(0|[1-9](_?\d)*)$/.test(tok)) return int(BigInt(tok.replaceAll('_', '')));
    if (/^[+-]?(0|[1-9](_?\d)*)(\.\d(_?\d)*)?([eE][+-]?\d(_?\d)*)?$/.test(tok) && /[.eE]/.test(tok)) {
      return { t: 'float', v: Number(tok.replaceAll('_', '')) };
    }
    return fail(tok === '' ? 'expected a value' : `invalid value '${tok}'`, start);
  }

  const int = (n: bigint): TomlValue => ({ t: 'int', v: n > MAX ? MAX : n < MIN ? MIN : n });

  function value(): TomlValue {
    const c = src[i];
    if (c === '"') return { t: 'string', v: toBytes(basicString()) };
    if (c === "'") return { t: 'string', v: toBytes(literalString()) };
    if (c === '[') {
      i++;
      const items: TomlValue[] = [];
      for (;;) {
        wsnl();
        if (src[i] === ']') break;
        items.push(value());
        wsnl();
        if (src[i] === ',') i++;
        else if (src[i] !== ']') fail("expected ',' or ']' in array");
      }
      i++;
      return { t: 'array', v: items };
    }
    if (c === '{') {
      i++;
      const t = newTable('inline');
      ws();
      if (src[i] === '}') {
        i++;
        return t;
      }
      for (;;) {
        keyValue(t);
        ws();
        if (src[i] === '}') break;
        if (src[i] !== ',') fail("expected ',' or '}' in inline table");
        i++;
      }
      i++;
      return t;
    }
    return scalar();
  }

  function keyValue(table: Table) {
    const at = i;
    const path = key();
    if (src[i] !== '=') fail("expected '=' after a key");
    i++;
    ws();
    let t = table;
    for (const k of path.slice(0, -1)) {
      const next = t.v.get(k);
      if (next === undefined) {
        const n = newTable('dotted');
        t.v.set(k, n);
        t = n;
      } else if (next.t === 'table' && origins.get(next) !== 'inline' && origins.get(next) !== 'header') {
        t = next;
      } else {
        fail(`cannot define key '${k}' again`, at);
      }
    }
    const last = path[path.length - 1]!;
    if (t.v.has(last)) fail(`duplicate key '${last}'`, at);
    t.v.set(last, value());
  }

  function header() {
    const at = i;
    const array = src.startsWith('[[', i);
    i += array ? 2 : 1;
    const path = key();
    if (array ? !src.startsWith(']]', i) : src[i] !== ']') fail('unterminated table header');
    i += array ? 2 : 1;
    let t = root;
    for (const k of path.slice(0, -1)) {
      let next = t.v.get(k);
      if (next === undefined) {
        next = newTable('implicit');
        t.v.set(k, next);
      }
      if (next.t === 'array' && origins.get(next.v[next.v.length - 1] as Table) === 'aot') {
        next = next.v[next.v.length - 1]!;
      }
      if (next.t !== 'table' || origins.get(next) === 'inline') fail(`cannot redefine key '${k}'`, at);
      t = next as Table;
    }
    const last = path[path.length - 1]!;
    const existing = t.v.get(last);
    if (array) {
      const n = newTable('aot');
      if (existing === undefined) t.v.set(last, { t: 'array', v: [n] });
      else if (
        existing.t === 'array' &&
        existing.v.length > 0 &&
        origins.get(existing.v[0] as Table) === 'aot'
      ) {
        existing.v.push(n);
      } else fail(`cannot redefine key '${last}'`, at);
      current = n;
    } else {
      if (existing === undefined) {
        current = newTable('header');
        t.v.set(last, current);
      } else if (existing.t === 'table' && origins.get(existing) === 'implicit') {
        origins.set(existing, 'header');
        current = existing;
      } else {
        fail(`cannot define table '${last}' again`, at);
      }
    }
  }

  if (src.charCodeAt(0) === 0xfeff) i++;
  for (;;) {
    wsnl();
    if (i >= src.length) return root;
    if (src[i] === '[') header();
    else keyValue(current);
    eol();
  }
}
