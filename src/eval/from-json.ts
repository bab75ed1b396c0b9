// builtins.fromJSON as Nix 2.8 reads JSON: nlohmann::json 3.11's parser over JsonLexer, so that
// malformed text fails with the very message Nix prints, and nesting has no limit (the parser
// keeps its own stack, not the JS one). Values: integers up to 2^64-1 wrap to 64-bit signed,
// larger ones and those with '.' or an exponent are floats; strings end at their first NUL (Nix 2.8
// keeps them as C strings), names keep it (see nameValue); of repeated names the last wins.
import { normInt } from './arith.js';
import { NixEvalError } from './errors.js';
import {
  BEGIN_ARRAY,
  BEGIN_OBJECT,
  END_ARRAY,
  END_OBJECT,
  END_OF_INPUT,
  ERROR,
  FALSE,
  FLOAT,
  INTEGER,
  JsonLexer,
  LITERAL_OR_VALUE,
  NAME_SEPARATOR,
  NONE,
  NULL,
  STRING,
  TOKEN_NAME,
  TRUE,
  UNSIGNED,
  VALUE_SEPARATOR,
} from './json-lexer.js';
import type { Pos } from './source.js';
import { upToNul } from './text/strings.js';
import { Attrs, NixFloat, type Value } from './value.js';

const U64_MAX = 18446744073709551615n;
const I64_MIN = -9223372036854775808n;

/** Parses JSON text (a byte string); \u escapes become UTF-8 bytes. */
export function fromJSON(text: string, pos?: Pos): Value {
  const lx = new JsonLexer(text);
  const fail = (message: string): never => {
    throw new NixEvalError('JSON', message).addTrace(pos, 'while decoding a JSON string');
  };
  let token = NONE;
  /** nlohmann's syntax error: what was found instead of `expected`, while parsing `context`. */
  const syntaxError = (expected: number, context: string): never => {
    let m = `syntax error while parsing ${context} - `;
    if (token === ERROR) m += `${lx.message}; last read: '${lx.lastRead()}'`;
    else m += `unexpected ${TOKEN_NAME[token]}`;
    if (expected !== NONE) m += `; expected ${TOKEN_NAME[expected]}`;
    return fail(`[json.exception.parse_error.101] parse error at ${lx.position()}: ${m}`);
  };
  const float = (t: string): NixFloat => {
    const v = Number(t);
    if (!Number.isFinite(v)) fail(`[json.exception.out_of_range.406] number overflow parsing '${t}'`);
    return new NixFloat(v);
  };
  const next = () => {
    token = lx.scan();
    return token;
  };
  // Open arrays and objects, innermost last; an object's pending name is in `names`.
  const open: (Value[] | Map<string, Value>)[] = [];
  const names: string[] = [];
  /** After `{` or `,` in an object: a name and ':' (then the value's first token is read). */
  const objectName = (): void => {
    if (token !== STRING) syntaxError(STRING, 'object key');
    // A name keeps a NUL (2.8's symbols are std::strings); it ends there where it becomes a string.
    names.push(lx.text);
    if (next() !== NAME_SEPARATOR) syntaxError(NAME_SEPARATOR, 'object separator');
    next();
  };
  next();
  while (true) {
    // `token` starts a value: read it into v, or open an array or object and read its first value.
    let v: Value;
    switch (token) {
      case BEGIN_OBJECT:
        if (next() === END_OBJECT) {
          v = Attrs.from(new Map());
          break;
        }
        objectName();
        open.push(new Map());
        continue;
      case BEGIN_ARRAY:
        if (next() === END_ARRAY) {
          v = [];
          break;
        }
        open.push([]);
        continue;
      case STRING:
        v = lx.hasNul ? upToNul(lx.text) : lx.text;
        break;
      case UNSIGNED: {
        const t = lx.text;
        if (t.length <= 15) v = Number(t);
        else {
          // Up to 2^64-1 it is an unsigned 64-bit integer, stored in a signed one.
          const b = BigInt(t);
          v = b <= U64_MAX ? normInt(b) : float(t);
        }
        break;
      }
      case INTEGER: {
        const t = lx.text;
        if (t.length <= 16)
          v = Number(t) + 0; // no -0
        else {
          const b = BigInt(t);
          v = b >= I64_MIN ? normInt(b) : float(t);
        }
        break;
      }
      case FLOAT:
        v = float(lx.text);
        break;
      case TRUE:
        v = true;
        break;
      case FALSE:
        v = false;
        break;
      case NULL:
        v = null;
        break;
      case ERROR:
        return syntaxError(NONE, 'value');
      default:
        return syntaxError(LITERAL_OR_VALUE, 'value');
    }
    // v is complete: add it to the innermost open array or object, closing those that end here.
    while (true) {
      const top = open[open.length - 1];
      if (top === undefined) {
        if (next() !== END_OF_INPUT) syntaxError(END_OF_INPUT, 'value');
        return v;
      }
      if (Array.isArray(top)) {
        top.push(v);
        if (next() === VALUE_SEPARATOR) {
          next();
          break;
        }
        if (token !== END_ARRAY) syntaxError(END_ARRAY, 'array');
        v = top;
      } else {
        top.set(names.pop()!, v);
        if (next() === VALUE_SEPARATOR) {
          next();
          objectName();
          break;
        }
        if (token !== END_OBJECT) syntaxError(END_OBJECT, 'object');
        v = Attrs.from(top);
      }
      open.pop();
    }
  }
}
