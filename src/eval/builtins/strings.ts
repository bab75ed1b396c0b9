// String builtins, including regexes, versions, hashes and string contexts.
import { type HashAlgo, hashBytes, printHash } from '../../formats/hash.js';
import { parseStorePath } from '../../formats/store-path.js';
import { toCInt } from '../arith.js';
import { coerceToString } from '../coerce.js';
import { NixEvalError } from '../errors.js';
import { explicitContext } from '../lazy-drv.js';
import {
  forceAttrs,
  forceInt,
  forceList,
  forceString,
  forceStringCtx,
  forceStringNoCtx,
  mkPooledStr,
  mkStr,
  takeCtx,
} from '../ops.js';
import { baseNameOf, dirOf } from '../paths.js';
import { bytesOf } from '../source.js';
import type { BuiltinDef, EvalState } from '../state.js';
import { compileRegex, RegexError, regexMatch, regexSplit } from '../text/regex.js';
import { printAttrName } from '../text/strings.js';
import { compareVersions, parseDrvName, splitVersion } from '../text/versions.js';
import { Attrs, force, NixPath, NixStr, type Thunk, type Value } from '../value.js';
import { mkAttrs } from './util.js';

export function parseHashAlgoArg(s: string, pos: NixEvalError['pos']): HashAlgo {
  if (s === 'md5' || s === 'sha1' || s === 'sha256' || s === 'sha512') return s;
  throw new NixEvalError('TYPE', `unknown hash algorithm '${s}'`, pos);
}

export function registerStrings(state: EvalState, defs: BuiltinDef[]): void {
  const def = (name: string, arity: number, fn: BuiltinDef['fn'], global = false) =>
    defs.push({ name, arity, fn, global });

  def(
    'toString',
    1,
    ([a], pos) => {
      const ctx = takeCtx();
      const s = coerceToString(state, a!, ctx, { copyToStore: false, coerceMore: true }, pos);
      return mkPooledStr(s, ctx);
    },
    true,
  );
  def(
    'stringLength',
    1,
    ([a], pos) => coerceToString(state, a!, new Set(), { copyToStore: true }, pos).length,
  );
  def('substring', 3, ([a, b, c], pos) => {
    // Nix 2.8 keeps start and length in C ints: their low 32 bits, as signed numbers.
    const start = toCInt(forceInt(a!, pos));
    const len = toCInt(forceInt(b!, pos));
    const ctx = new Set<string>();
    const s = coerceToString(state, c!, ctx, { copyToStore: true }, pos);
    if (start < 0) throw new NixEvalError('TYPE', "negative start position in 'substring'", pos);
    const st = start;
    const end = len < 0 ? s.length : Math.min(s.length, st + len);
    return mkStr(st >= s.length ? '' : s.slice(st, end), ctx);
  });
  def('concatStringsSep', 2, ([sepv, l], pos) => {
    const ctx = takeCtx();
    const sep = forceStringCtx(sepv!, ctx, pos);
    const parts = forceList(l!, pos).map((x) => coerceToString(state, x, ctx, { copyToStore: true }, pos));
    return mkPooledStr(parts.join(sep), ctx);
  });
  def('replaceStrings', 3, ([fromv, tov, sv], pos) => {
    const fromList = forceList(fromv!, pos);
    const toList = forceList(tov!, pos);
    if (fromList.length !== toList.length) {
      throw new NixEvalError(
        'TYPE',
        "'from' and 'to' arguments to 'replaceStrings' have different lengths",
        pos,
      );
    }
    const from = fromList.map((x) => forceString(x, pos));
    const to = toList.map((x) => {
      const c = new Set<string>();
      return { s: forceStringCtx(x, c, pos), c };
    });
    const ctx = new Set<string>();
    const s = forceStringCtx(sv!, ctx, pos);
    let out = '';
    for (let p = 0; p <= s.length; ) {
      let found = false;
      for (let i = 0; i < from.length; i++) {
        const f = from[i]!;
        if (s.startsWith(f, p)) {
          found = true;
          out += to[i]!.s;
          for (const c of to[i]!.c) ctx.add(c);
          if (f.length === 0) {
            if (p < s.length) out += s[p];
            p++;
          } else p += f.length;
          break;
        }
      }
      if (!found) {
        if (p < s.length) out += s[p];
        p++;
      }
    }
    return mkStr(out, ctx);
  });
  // The pattern is compiled (and may fail) before the string is evaluated, as in Nix 2.8.
  def('match', 2, ([re, sv], pos) => {
    const pattern = forceStringNoCtx(re!, pos);
    try {
      compileRegex(pattern);
      return regexMatch(pattern, forceString(sv!, pos));
    } catch (e) {
      throw regexError(e, pos);
    }
  });
  def('split', 2, ([re, sv], pos) => {
    const pattern = forceStringNoCtx(re!, pos);
    try {
      compileRegex(pattern);
      // Like match, the pieces and groups carry no context (Nix 2.8 drops the subject's).
      return regexSplit(pattern, forceString(sv!, pos));
    } catch (e) {
      throw regexError(e, pos);
    }
  });
  def(
    'baseNameOf',
    1,
    ([a], pos) => {
      const ctx = new Set<string>();
      const s = coerceToString(state, a!, ctx, { copyToStore: false }, pos);
      return mkStr(baseNameOf(s), ctx);
    },
    true,
  );
  def(
    'dirOf',
    1,
    ([a], pos) => {
      const v = force(a!, pos);
      const ctx = new Set<string>();
      const s = coerceToString(state, v, ctx, { copyToStore: false }, pos);
      const d = dirOf(s);
      return v instanceof NixPath ? new NixPath(d) : mkStr(d, ctx);
    },
    true,
  );
  def('hashString', 2, ([algo, sv], pos) => {
    const a = parseHashAlgoArg(forceStringNoCtx(algo!, pos), pos);
    const s = forceString(sv!, pos);
    return printHash(hashBytes(a, bytesOf(s)), 'base16');
  });
  def('compareVersions', 2, ([a, b], pos) =>
    compareVersions(forceStringNoCtx(a!, pos), forceStringNoCtx(b!, pos)),
  );
  def('splitVersion', 1, ([a], pos) => splitVersion(forceStringNoCtx(a!, pos)));
  def('parseDrvName', 1, ([a], pos) => {
    const r = parseDrvName(forceStringNoCtx(a!, pos));
    return mkAttrs([
      ['name', r.name],
      ['version', r.version],
    ]);
  });

  // String contexts.
  def('hasContext', 1, ([a], pos) => {
    const v = force(a!, pos);
    forceString(v, pos);
    return v instanceof NixStr;
  });
  // Both coerce (paths copied, sets through outPath/__toString), as Nix 2.8 does.
  def('unsafeDiscardStringContext', 1, ([a], pos) => {
    const v = force(a!, pos);
    if (typeof v === 'string') return v;
    if (v instanceof NixStr) return v.s;
    return coerceToString(state, v, new Set<string>(), COPY, pos);
  });
  def('unsafeDiscardOutputDependency', 1, ([a], pos) => {
    const ctx = new Set<string>();
    const s = coerceToString(state, a!, ctx, COPY, pos);
    const out = new Set<string>();
    for (const c of ctx) out.add(c.startsWith('=') ? c.slice(1) : c);
    return mkStr(s, out);
  });
  def('getContext', 1, ([a], pos) => {
    const collected = new Set<string>();
    forceStringCtx(a!, collected, pos);
    const ctx = explicitContext(collected);
    const info = new Map<string, { path: boolean; all: boolean; outputs: string[] }>();
    const get = (p: string) => {
      let e = info.get(p);
      if (!e) {
        e = { path: false, all: false, outputs: [] };
        info.set(p, e);
      }
      return e;
    };
    for (const c of ctx) {
      if (c.startsWith('=')) get(c.slice(1)).all = true;
      else if (c.startsWith('!')) {
        const i = c.indexOf('!', 1);
        get(c.slice(i + 1)).outputs.push(c.slice(1, i));
      } else get(c).path = true;
    }
    const m = new Map<string, Value>();
    for (const [p, e] of info) {
      const entries: [string, Value][] = [];
      if (e.all) entries.push(['allOutputs', true]);
      if (e.outputs.length > 0) entries.push(['outputs', e.outputs.sort()]);
      if (e.path) entries.push(['path', true]);
      m.set(p, Attrs.from(new Map(entries)));
    }
    return Attrs.from(m);
  });
  def('appendContext', 2, ([a, b], pos) => {
    const ctx = new Set<string>();
    const s = forceStringCtx(a!, ctx, pos);
    const attrs = forceAttrs(b!, pos);
    for (const [p, infoT] of attrs.m) {
      if (!isContextKey(p, state.storeDir)) {
        throw new NixEvalError('TYPE', `Context key '${printAttrName(p)}' is not a store path`, pos);
      }
      const info = forceAttrs(infoT, pos);
      const path = info.m.get('path');
      if (path !== undefined && force(path) === true) ctx.add(p);
      const all = info.m.get('allOutputs');
      if (all !== undefined && force(all) === true) {
        if (!p.endsWith('.drv')) {
          throw new NixEvalError(
            'TYPE',
            `Tried to add all-outputs context of "${p}", which is not a derivation, to a string`,
            pos,
          );
        }
        ctx.add(`=${p}`);
      }
      const outs = info.m.get('outputs');
      if (outs !== undefined) {
        const list = forceList(outs, pos);
        if (list.length > 0 && !p.endsWith('.drv')) {
          throw new NixEvalError(
            'TYPE',
            `Tried to add derivation output context of "${p}", which is not a derivation, to a string`,
            pos,
          );
        }
        for (const o of list) ctx.add(`!${forceStringNoCtx(o, pos)}!${p}`);
      }
    }
    return mkStr(s, ctx);
  });
}

/**
 * Whether `p` is a store path to Nix 2.8's parseStorePath: directly in the store once canonicalised
 * ("//", ".", ".."), with a valid hash part and name; the character between them is not checked.
 */
function isContextKey(p: string, storeDir: string): boolean {
  const at = p.lastIndexOf('/') + 33;
  try {
    parseStorePath(p.length > at ? `${p.slice(0, at)}-${p.slice(at + 1)}` : p, storeDir);
    return true;
  } catch {
    return false;
  }
}

const COPY = { copyToStore: true };

/** A regex's refusal as Nix 2.8 words it (RegexError's message: invalid, or too many states). */
function regexError(e: unknown, pos: NixEvalError['pos']): unknown {
  return e instanceof RegexError ? new NixEvalError('REGEX', e.message, pos) : e;
}

export type { Thunk };
