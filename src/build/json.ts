// JSON as Nix 2.8 handles structured attrs: parsed and re-printed by nlohmann::json. Integers stay
// exact (bigint), objects are printed with keys in byte order, floats use nlohmann's shortest
// round-trip format ("1.5", "2.0", "1e+20"), strings keep non-ASCII bytes and escape only controls.
import { compareUtf8 } from '../formats/byte-order.js';
import { BuildError } from './errors.js';

export type JsonValue = null | boolean | string | JsonInt | number | JsonValue[] | JsonObject;
/** An integer as nlohmann stores it (int64 or uint64); plain `number` values are floats. */
export interface JsonInt {
  int: bigint;
}
export type JsonObject = { [key: string]: JsonValue };

export function isJsonInt(v: JsonValue): v is JsonInt {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v.int === 'bigint';
}

export function isJsonObject(v: JsonValue): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isJsonInt(v);
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Parses JSON text; integers that fit in int64/uint64 become JsonInt, other numbers floats. */
export function parseJson(text: string, what: string): JsonValue {
  let i = 0;
  const fail = (msg: string): never => {
    throw new BuildError('BAD_DRV', `cannot parse JSON of ${what}: ${msg} at byte ${i}`);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const value = (): JsonValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: JsonObject = Object.create(null);
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected '\"'");
        const k = str();
        ws();
        if (text[i++] !== ':') fail("expected ':'");
        obj[k] = value();
        ws();
        const d = text[i++];
        if (d === '}') return obj;
        if (d !== ',') fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        const d = text[i++];
        if (d === ']') return arr;
        if (d !== ',') fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    for (const [lit, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return v;
      }
    }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const n = BigInt(m[0]);
      if (n >= INT64_MIN && n <= UINT64_MAX) return { int: n };
    }
    return Number(m[0]);
  };
  const str = (): string => {
    i++;
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i++]!;
      if (c === '"') return out;
      if (c.charCodeAt(0) < 0x20) fail('control character in string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[i++];
      const simple: Record<string, string> = {
        '"': '"',
        '\\': '\\',
        '/': '/',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
      };
      if (e !== undefined && e in simple) out += simple[e];
      else if (e === 'u') {
        const h = text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
        out += String.fromCharCode(Number.parseInt(h, 16));
        i += 4;
      } else fail('bad escape');
    }
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

/** Prints like nlohmann::json::dump() (compact, sorted keys, UTF-8 kept). */
export function dumpJson(v: JsonValue): string {
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return dumpString(v);
  if (typeof v === 'number') return dumpFloat(v);
  if (Array.isArray(v)) return `[${v.map(dumpJson).join(',')}]`;
  if (isJsonInt(v)) return v.int.toString();
  const keys = Object.keys(v).sort(compareUtf8);
  return `{${keys.map((k) => `${dumpString(k)}:${dumpJson(v[k]!)}`).join(',')}}`;
}

function dumpString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** nlohmann's to_chars/format_buffer: shortest digits, fixed notation for exponents -4 < n <= 15. */
export function dumpFloat(x: number): string {
  if (!Number.isFinite(x)) return 'null';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, exp] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const k = digits.length;
  const n = Number(exp) + 1; // position of the decimal point relative to the digits
  if (k <= n && n <= 15) return `${sign}${digits}${'0'.repeat(n - k)}.0`;
  if (0 < n && n <= 15) return `${sign}${digits.slice(0, n)}.${digits.slice(n)}`;
  if (-4 < n && n <= 0) return `${sign}0.${'0'.repeat(-n)}${digits}`;
  const e = n - 1;
  const es = `${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return `${sign}${k === 1 ? digits : `${digits[0]}.${digits.slice(1)}`}e${es}`;
}
