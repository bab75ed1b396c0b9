// toJSON and fromJSON with Nix 2.8's behaviour. Strings are byte strings; paths are copied to the
// store; sets with __toString or outPath become strings; floats print with 6 significant digits.
import { normInt } from './arith.js';
import { coerceToString } from './coerce.js';
import { NixEvalError } from './errors.js';
import type { Pos } from './source.js';
import type { EvalState } from './state.js';
import { formatFloat } from './text/float.js';
import { toJsonString, upToNul } from './text/strings.js';
import { Attrs, force, Lambda, NixFloat, NixPath, NixStr, showType, Thunk, type Value } from './value.js';

export interface ToJSONOptions {
  /** Force values inside lists and sets (false: `nix-instantiate --eval --json` without --strict). */
  strict?: boolean;
  /** Receives the text as it is produced, so a failure leaves the partial output (as Nix's). */
  out?: string[];
}

/** Nix 2.8's error for a value JSON cannot hold (with its literal placeholder trace message). */
function unconvertible(what: string, pos: Pos | undefined): NixEvalError {
  return new NixEvalError('TYPE', `cannot convert ${what} to JSON`, pos).addTrace(
    pos,
    'message for the trace',
  );
}

export function toJSON(
  state: EvalState,
  t: Value | Thunk,
  ctx: Set<string>,
  pos?: Pos,
  opts: ToJSONOptions = {},
): string {
  const out: string[] = opts.out ?? [];
  const strict = opts.strict ?? true;
  let depth = 0;
  const open: string[] = [];
  /** `p` is the position of the enclosing attribute, which Nix 2.8 reports errors at. */
  const go = (x: Value | Thunk, p: Pos | undefined): void => {
    if (!strict && depth > 0 && x instanceof Thunk && !x.forced) throw unconvertible('a thunk', p);
    depth++;
    try {
      goForced(force(x), p);
    } finally {
      depth--;
    }
  };
  const goForced = (v: Value, p: Pos | undefined): void => {
    if (typeof v === 'number' || typeof v === 'bigint') out.push(String(v));
    else if (typeof v === 'string') out.push(toJsonString(v));
    else if (typeof v === 'boolean') out.push(v ? 'true' : 'false');
    else if (v === null) out.push('null');
    else if (v instanceof NixStr) {
      v.addContextTo(ctx);
      out.push(toJsonString(v.s));
    } else if (v instanceof NixFloat) out.push(formatFloat(v.v));
    else if (v instanceof NixPath)
      out.push(toJsonString(coerceToString(state, v, ctx, { copyToStore: true }, p)));
    else if (Array.isArray(v)) {
      out.push('[');
      open.push(']');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out.push(',');
        go(v[i]!, p);
      }
      out.push(open.pop()!);
    } else if (v instanceof Attrs) {
      if (v.m.has('__toString')) {
        out.push(toJsonString(coerceToString(state, v, ctx, { copyToStore: false }, p)));
        return;
      }
      const op = v.m.get('outPath');
      if (op !== undefined) {
        go(op, v.pos?.get('outPath') ?? p);
        return;
      }
      out.push('{');
      open.push('}');
      const names = v.m.names;
      for (let i = 0; i < names.length; i++) {
        if (i > 0) out.push(',');
        out.push(toJsonString(names[i]!), ':');
        go(v.m.vals[i]!, v.pos?.get(names[i]!) ?? p);
      }
      out.push(open.pop()!);
    } else throw unconvertible(showType(v), v instanceof Lambda ? v.info.pos : p);
  };
  try {
    go(t, pos);
  } catch (e) {
    // Like Nix's JSON writer, a failure still closes the lists and objects already opened.
    while (open.length > 0) out.push(open.pop()!);
    throw e;
  }
  return out.join('');
}

/** Parses JSON text (a byte string); \u escapes become UTF-8 bytes. */
export function fromJSON(text: string, pos?: Pos): Value {
  let i = 0;
  const n = text.length;
  const fail = (what: string): never => {
    throw new NixEvalError('JSON', `[json.exception.parse_error.101] parse error at ${i + 1}: ${what}`, pos);
  };
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const value = (): Value => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const m = new Map<string, Value>();
      ws();
      if (text[i] === '}') {
        i++;
        return Attrs.from(m);
      }
      while (true) {
        ws();
        if (text[i] !== '"') fail('expected string');
        const k = upToNul(str());
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        const v = value();
        m.set(k, v);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return Attrs.from(m);
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const l: Value[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return l;
      }
      while (true) {
        l.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return l;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') {
      // Nix 2.8 stores the string as a C string: it ends at a NUL ("\u0000").
      return upToNul(str());
    }
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    const m = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    m.lastIndex = i;
    const r = m.exec(text);
    if (!r) return fail('syntax error while parsing value');
    i += r[0].length;
    if (r[1] === undefined && r[2] === undefined) {
      const b = BigInt(r[0]);
      // As Nix 2.8 (nlohmann's unsigned integers stored in a signed one): 2^63 .. 2^64-1 wrap
      // around; beyond 64 bits a number is a float.
      if (b > 9223372036854775807n && b <= 18446744073709551615n) return normInt(b - 18446744073709551616n);
      if (b > 9223372036854775807n || b < -9223372036854775808n) return float(r[0]);
      return normInt(b);
    }
    return float(r[0]);
  };
  // A number beyond a double's range fails (nlohmann's out_of_range.406), one that underflows is 0.
  const float = (t: string): NixFloat => {
    const v = Number(t);
    if (!Number.isFinite(v))
      throw new NixEvalError('JSON', `[json.exception.out_of_range.406] number overflow parsing '${t}'`, pos);
    return new NixFloat(v);
  };
  const hex4 = (at: number): number => {
    const h = text.slice(at, at + 4);
    if (!/^[0-9A-Fa-f]{4}$/.test(h)) fail("invalid string: '\\u' must be followed by 4 hex digits");
    return Number.parseInt(h, 16);
  };
  const str = (): string => {
    i++;
    let out = '';
    while (true) {
      if (i >= n) fail('unterminated string');
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const d = text[i + 1];
        i += 2;
        switch (d) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case '/':
          case '\\':
          case '"':
            out += d;
            break;
          case 'u': {
            let cp = hex4(i);
            i += 4;
            // A surrogate must be the high half of a pair (as nlohmann's parser in Nix 2.8 demands).
            if (cp >= 0xdc00 && cp < 0xe000)
              fail('invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF');
            if (cp >= 0xd800 && cp < 0xdc00) {
              const lo = text[i] === '\\' && text[i + 1] === 'u' ? hex4(i + 2) : -1;
              if (!(lo >= 0xdc00 && lo < 0xe000))
                fail('invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF');
              cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              i += 6;
            }
            out += Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1');
            break;
          }
          default:
            fail('invalid escape');
        }
        continue;
      }
      if (c < ' ')
        fail(
          `invalid string: control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} must be escaped`,
        );
      out += c;
      i++;
    }
  };
  const v = value();
  ws();
  if (i < n) fail('syntax error while parsing value - unexpected trailing characters');
  return v;
}
