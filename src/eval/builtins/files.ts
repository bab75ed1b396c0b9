// Builtins that read files or add paths to the store: import, readFile, readDir, path, toFile, …
import { FormatError } from '../../formats/errors.js';
import { hashBytes, printHash } from '../../formats/hash.js';
import { missingAttrFor } from '../attr-errors.js';
import { coerceToString } from '../coerce.js';
import { fileErrorText, NixEvalError, sysErrorText } from '../errors.js';
import type { FileType } from '../io.js';
import { explicitContext } from '../lazy-drv.js';
import {
  callFunction,
  forceAttrs,
  forceBool,
  forceList,
  forceStringCtx,
  forceStringNoCtx,
  mkStr,
} from '../ops.js';
import { baseNameOf, canonPath } from '../paths.js';
import { notInSearchPath, parseSearchPathEntry } from '../search-path.js';
import { bytesOf, fromBytes, type Pos, toBytes } from '../source.js';
import type { BuiltinDef, ConstDef, EvalState } from '../state.js';
import { Attrs, force, isFunction, NixPath, NixStr, showType, type Thunk, type Value } from '../value.js';
import { hashAllowEmpty } from './hash-arg.js';
import { parseHashAlgoArg } from './strings.js';
import { byteMessage, mkAttrs } from './util.js';

/** Coerces to an absolute path string (a path, or a string such as a store path), Nix's coerceToPath. */
export function coercePath(state: EvalState, t: Value | Thunk, pos?: Pos, ctx = new Set<string>()): string {
  const p = coerceToString(state, t, ctx, { copyToStore: false }, pos);
  if (!p.startsWith('/'))
    throw new NixEvalError('TYPE', `string '${p}' doesn't represent an absolute path`, pos);
  return p;
}

/**
 * A path for reading: a store path from a string context must exist (no import-from-derivation).
 * Errors get 2.8's frames for the coercion and for the context.
 */
function realisePath(state: EvalState, t: Value | Thunk, pos?: Pos): string {
  const ctx = new Set<string>();
  let p: string;
  try {
    p = coercePath(state, t, pos, ctx);
  } catch (e) {
    if (e instanceof NixEvalError) e.addTrace(pos, 'while realising the context of a path');
    throw e;
  }
  try {
    realiseContext(state, p, ctx, pos);
  } catch (e) {
    if (e instanceof NixEvalError) e.addTrace(pos, `while realising the context of path '${p}'`);
    throw e;
  }
  return canonPath(p);
}

/** Checks that the store paths of a path's string context can be read (Nix's realiseContext). */
function realiseContext(state: EvalState, p: string, ctx: Set<string>, pos?: Pos): void {
  for (const c of explicitContext(ctx)) {
    // As Nix's realiseContext: the path of every context element (a derivation for `=drv` and
    // `!out!drv`) must be valid. In read-only mode a path from toFile or interpolation was only
    // computed, so reading it fails as in Nix. Outputs of derivations would have to be built.
    const sp = c.startsWith('!') ? c.slice(c.indexOf('!', 1) + 1) : c.startsWith('=') ? c.slice(1) : c;
    if (!state.io.isValidPath(fromBytes(sp))) throw new NixEvalError('IO', `path '${sp}' is not valid`, pos);
    if (c.startsWith('!')) {
      throw new NixEvalError(
        'IFD',
        `cannot read '${p}': import from derivation is not supported (the path is an output of '${sp}')`,
        pos,
      );
    }
  }
}

export function registerFiles(state: EvalState, defs: BuiltinDef[], consts: ConstDef[]): void {
  const def = (name: string, arity: number, fn: BuiltinDef['fn'], global = false) =>
    defs.push({ name, arity, fn, global });
  const io = state.io;
  const wrapIO = <T>(what: string, p: string, pos: Pos | undefined, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof NixEvalError) throw e;
      throw new NixEvalError('IO', fileErrorText(e, p) ?? `${what} '${p}': ${sysErrorText(e)}`, pos);
    }
  };

  def('import', 1, ([a], pos) => state.evalFile(realisePath(state, a!, pos), pos), true);
  def(
    'scopedImport',
    2,
    ([s, a], pos) => state.evalFileScoped(realisePath(state, a!, pos), forceAttrs(s!, pos), pos),
    true,
  );
  def('readFile', 1, ([a], pos) => {
    const p = realisePath(state, a!, pos);
    // Nix opens, then reads: a directory fails at the read, which names no file.
    if (io.fileType(fromBytes(p)) === 'directory')
      throw new NixEvalError('IO', 'reading from file: Is a directory', pos);
    const bytes = wrapIO('opening file', p, pos, () => io.readFile(fromBytes(p)));
    return Buffer.from(bytes).toString('latin1');
  });
  def('pathExists', 1, ([a], pos) => {
    const v = force(a!, pos);
    const p = realisePath(state, v, pos);
    // A string ending in "/" or "/." names a directory.
    const s = typeof v === 'string' ? v : v instanceof NixStr ? v.s : '';
    if (s.endsWith('/') || s.endsWith('/.')) {
      let t = io.fileType(fromBytes(p));
      if (t === 'symlink') t = io.fileType(io.realPath(fromBytes(p)));
      return t === 'directory';
    }
    return io.pathExists(fromBytes(p));
  });
  def('readDir', 1, ([a], pos) => {
    const p = realisePath(state, a!, pos);
    const entries = wrapIO('reading directory', p, pos, () => io.readDir(fromBytes(p)));
    const m = new Map<string, Value>();
    for (const [name, type] of entries) m.set(toBytes(name), type);
    return Attrs.from(m);
  });
  def('hashFile', 2, ([algo, a], pos) => {
    const alg = parseHashAlgoArg(forceStringNoCtx(algo!, pos), pos);
    const p = realisePath(state, a!, pos);
    const bytes = wrapIO('opening file', p, pos, () => io.readFile(fromBytes(p)));
    return printHash(hashBytes(alg, bytes), 'base16');
  });
  def('toPath', 1, ([a], pos) => {
    const ctx = new Set<string>();
    return mkStr(canonPath(coercePath(state, a!, pos, ctx)), ctx);
  });
  def('storePath', 1, ([a], pos) => {
    const ctx = new Set<string>();
    let p = canonPath(coercePath(state, a!, pos, ctx));
    if (!p.startsWith(`${state.storeDir}/`)) {
      // As Nix 2.8's canonPath(path, true): links are followed (a `result` link leads into the
      // store), each component with lstat, so the first one missing is named (for a dangling link,
      // what it names).
      p = toBytes(io.realPath(fromBytes(p)));
      if (io.fileType(fromBytes(p)) === undefined) {
        let missing = p;
        for (let i = p.indexOf('/', 1); i > 0; i = p.indexOf('/', i + 1)) {
          if (io.fileType(fromBytes(p.slice(0, i))) === undefined) {
            missing = p.slice(0, i);
            break;
          }
        }
        throw new NixEvalError('IO', `getting status of '${missing}': No such file or directory`, pos);
      }
      if (!p.startsWith(`${state.storeDir}/`))
        throw new NixEvalError('TYPE', `path '${p}' is not in the Nix store`, pos);
    }
    const rest = p.slice(state.storeDir.length + 1);
    const sp = `${state.storeDir}/${rest.split('/')[0]}`;
    if (!state.opts.readOnly && !io.isValidPath(fromBytes(sp)))
      throw new NixEvalError('IO', `path '${sp}' is not valid`, pos);
    ctx.add(sp);
    return mkStr(p, ctx);
  });
  def('toFile', 2, ([n, s], pos) => {
    const name = forceStringNoCtx(n!, pos);
    const ctx = new Set<string>();
    const contents = forceStringCtx(s!, ctx, pos);
    const refs: string[] = [];
    for (const c of explicitContext(ctx)) {
      if (c.startsWith('=') || c.startsWith('!')) {
        throw new NixEvalError(
          'TYPE',
          `in 'toFile': the file named '${name}' must not contain a reference to a derivation but contains (${c})`,
          pos,
        );
      }
      refs.push(fromBytes(c));
    }
    const sp = toBytes(io.addTextToStore(fromBytes(name), bytesOf(contents), refs.sort(), state.writeMode));
    return new NixStr(sp, sp);
  });
  /** Nix 2.8's addPath: every error gets the frame "while adding path". */
  const addPath = (
    path: string,
    ctx: Set<string>,
    name: string,
    opts: { recursive: boolean; filter?: Value; sha256?: string },
    pos: Pos | undefined,
  ): Value => {
    try {
      realiseContext(state, path, ctx, pos);
      return addPathToStore(canonPath(path), name, opts, pos);
    } catch (e) {
      if (e instanceof NixEvalError) e.addTrace(pos, `while adding path '${path}'`);
      throw e;
    }
  };
  const addPathToStore = (
    path: string,
    name: string,
    opts: { recursive: boolean; filter?: Value; sha256?: string },
    pos: Pos | undefined,
  ): Value => {
    const filter = opts.filter;
    const sp = wrapIO('adding path', path, pos, () => {
      try {
        return io.addToStore(fromBytes(path), {
          name: fromBytes(name),
          method: opts.recursive ? 'recursive' : 'flat',
          filter:
            filter === undefined
              ? undefined
              : (p: string, type: FileType) =>
                  forceBool(callFunction(callFunction(filter, toBytes(p), pos), type, pos), pos),
          expectedHash: opts.sha256,
          ...state.writeMode,
        });
      } catch (e) {
        // A name that makes no store path is refused in the words of 2.8, which add no context.
        if (e instanceof FormatError && e.code === 'BAD_STORE_PATH')
          throw new NixEvalError('BAD_STORE_PATH', byteMessage(e.message), pos);
        // Nix 2.8 compares the store path with the one the hash gives, and says so.
        if (!(e instanceof NixEvalError) || e.code !== 'HASH_MISMATCH') throw e;
        throw new NixEvalError(
          'HASH_MISMATCH',
          `store path mismatch in (possibly filtered) path added from '${path}'`,
          pos,
        );
      }
    });
    const b = toBytes(sp);
    return new NixStr(b, b);
  };
  def('filterSource', 2, ([f, a], pos) => {
    const ctx = new Set<string>();
    const p = coercePath(state, a!, pos, ctx);
    const filter = force(f!, pos);
    if (!isFunction(filter)) {
      throw new NixEvalError(
        'TYPE',
        `first argument in call to 'filterSource' is not a function but ${showType(filter)}`,
        pos,
      );
    }
    return addPath(p, ctx, baseNameOf(p), { recursive: true, filter }, pos);
  });
  def('path', 1, ([a], pos) => {
    const args = forceAttrs(a!, pos);
    let path: string | undefined;
    let name: string | undefined;
    let filter: Value | undefined;
    let recursive = true;
    let sha256: string | undefined;
    const ctx = new Set<string>();
    for (const [k, v] of args.m) {
      // Errors about an argument are at the argument, as in 2.8.
      const at = args.pos?.get(k);
      if (k === 'path') path = coercePath(state, v, at, ctx);
      else if (k === 'name') name = forceStringNoCtx(v, at);
      else if (k === 'filter') filter = force(v);
      else if (k === 'recursive') recursive = forceBool(v, at);
      // Read (and an empty one warned about) with the arguments, as 2.8 does.
      else if (k === 'sha256')
        sha256 = printHash(hashAllowEmpty(state, forceStringNoCtx(v, at), 'sha256', at), 'sri');
      else throw new NixEvalError('TYPE', `unsupported argument '${k}' to 'addPath'`, at);
    }
    if (path === undefined) throw new NixEvalError('TYPE', "'path' required", pos);
    return addPath(path, ctx, name ?? baseNameOf(path), { recursive, filter, sha256 }, pos);
  });

  // Search path: <x> is __findFile __nixPath "x".
  const nixPath: Value[] = (state.opts.nixPath ?? []).map((entry) => {
    const { prefix, dir } = parseSearchPathEntry(toBytes(entry));
    return mkAttrs([
      ['path', dir],
      ['prefix', prefix],
    ]);
  });
  consts.push({ name: 'nixPath', value: nixPath });
  def('findFile', 2, ([sp, n], pos) => {
    // Every entry is evaluated before the name, as in Nix 2.8 (which error comes first).
    const entries = [...forceList(sp!, pos)].map((e) => {
      const entry = forceAttrs(e, pos);
      const pfx = entry.m.get('prefix');
      const prefix = pfx === undefined ? '' : forceStringNoCtx(pfx, pos);
      const pv = entry.m.get('path');
      if (pv === undefined) throw missingAttrFor('path', 'findFile', entry, pos);
      return { prefix, dir: coerceToString(state, pv, new Set(), { copyToStore: false }, pos) };
    });
    const name = forceStringNoCtx(n!, pos);
    const found = state.findFile(name, entries);
    if (found === undefined) throw notInSearchPath(name, pos);
    return new NixPath(found);
  });
}
