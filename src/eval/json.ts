// toJSON with Nix 2.8's behaviour. Strings are byte strings; paths are copied to the
// store; sets with __toString or outPath become strings; floats print with 6 significant digits.
import { coerceToString } from './coerce.js';
import { NixEvalError } from './errors.js';
import type { Pos } from './source.js';
import type { EvalState } from './state.js';
import { formatFloat } from './text/float.js';
import { toJsonString } from './text/strings.js';
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
