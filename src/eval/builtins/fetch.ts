// fetchurl, fetchTarball and fetchGit through EvalIO (which fetches file:// URLs and local paths
// and fails clearly for anything else), fetchMercurial with the system's hg (fetch-hg.ts);
// fetchTree (flakes) is refused.
import { printHash } from '../../formats/hash.js';
import { coerceToString } from '../coerce.js';
import { NixEvalError } from '../errors.js';
import { REV as HG_REV } from '../fetch-hg.js';
import type { FetchGitOptions } from '../io.js';
import { forceAttrs, forceBool, forceString, forceStringNoCtx } from '../ops.js';
import type { Pos } from '../source.js';
import { fromBytes, toBytes } from '../source.js';
import type { BuiltinDef, EvalState } from '../state.js';
import { Attrs, force, NixStr, type Thunk, type Value } from '../value.js';
import { hashAllowEmpty } from './hash-arg.js';

function storeString(p: string): Value {
  const b = toBytes(p);
  return new NixStr(b, b);
}

/** The argument as { url, name?, sha256? } (a bare string is the url). */
function urlArgs(
  state: EvalState,
  t: Value | Thunk,
  who: string,
  pos?: Pos,
): { url: string; name?: string; sha256?: string } {
  const v = force(t);
  if (!(v instanceof Attrs)) return { url: forceStringNoCtx(v, pos) };
  const out: { url?: string; name?: string; sha256?: string } = {};
  for (const [k, x] of v.m) {
    if (k === 'url') out.url = forceStringNoCtx(x, pos);
    else if (k === 'name') out.name = forceStringNoCtx(x, pos);
    // The expected hash is read (an empty one warned about) before anything is fetched, as in 2.8.
    else if (k === 'sha256')
      out.sha256 = printHash(
        hashAllowEmpty(state, fromBytes(forceStringNoCtx(x, pos)), 'sha256', pos),
        'sri',
      );
    else throw new NixEvalError('TYPE', `unsupported argument '${k}' to '${who}'`, pos);
  }
  if (out.url === undefined) throw new NixEvalError('TYPE', `'url' argument required`, pos);
  return out as { url: string };
}

export function registerFetch(state: EvalState, defs: BuiltinDef[]): void {
  const io = state.io;
  const wrap = <T>(url: string, pos: Pos | undefined, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof NixEvalError) {
        e.pos ??= pos;
        throw e;
      }
      // Nix 2.8 downloads file:// URLs with curl, which reports an unreadable file so.
      const code = (e as { code?: unknown }).code;
      if (url.startsWith('file://') && (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR'))
        throw new NixEvalError(
          'FETCH',
          `unable to download '${url}': Couldn't read a file:// file (37)`,
          pos,
        );
      throw new NixEvalError('FETCH', `unable to fetch '${url}': ${(e as Error).message}`, pos);
    }
  };
  const fetchUrl = (who: string, unpack: boolean) => (args: (Value | Thunk)[], pos: Pos | undefined) => {
    const a = urlArgs(state, args[0]!, who, pos);
    const opts = { unpack, name: a.name && fromBytes(a.name), sha256: a.sha256 };
    return storeString(wrap(a.url, pos, () => io.fetchUrl(fromBytes(a.url), opts)));
  };
  defs.push({ name: 'fetchurl', arity: 1, fn: fetchUrl('fetchurl', false) });
  defs.push({ name: 'fetchTarball', arity: 1, fn: fetchUrl('fetchTarball', true), global: true });
  defs.push({
    name: 'fetchGit',
    arity: 1,
    global: true,
    fn: ([a], pos) => {
      const v = force(a!, pos);
      const opts: FetchGitOptions = {
        url: '',
        name: 'source',
        submodules: false,
        shallow: false,
        allRefs: false,
      };
      if (v instanceof Attrs) {
        for (const [k, x] of forceAttrs(v, pos).m) {
          if (k === 'url')
            opts.url = fromBytes(coerceToString(state, x, new Set(), { copyToStore: false }, pos));
          else if (k === 'name') opts.name = fromBytes(forceString(x, pos));
          else if (k === 'ref') opts.ref = fromBytes(forceString(x, pos));
          else if (k === 'rev') opts.rev = fromBytes(forceString(x, pos));
          else if (k === 'submodules') opts.submodules = forceBool(x, pos);
          else if (k === 'shallow') opts.shallow = forceBool(x, pos);
          else if (k === 'allRefs') opts.allRefs = forceBool(x, pos);
          else throw new NixEvalError('TYPE', `unsupported argument '${k}' to 'fetchGit'`, pos);
        }
      } else opts.url = fromBytes(coerceToString(state, v, new Set(), { copyToStore: false }, pos));
      const r = wrap(opts.url, pos, () => io.fetchGit(opts));
      if (r.dirty) state.trace(`warning: Git tree '${toBytes(opts.url)}' is dirty`);
      return Attrs.from(
        new Map<string, Value>([
          ['lastModified', r.lastModified],
          ['lastModifiedDate', r.lastModifiedDate],
          ['narHash', r.narHash],
          ['outPath', storeString(r.storePath)],
          ['rev', r.rev],
          ['revCount', r.revCount],
          ['shortRev', r.shortRev],
          ['submodules', r.submodules],
        ]),
      );
    },
  });
  defs.push({
    name: 'fetchMercurial',
    arity: 1,
    global: true,
    fn: ([a], pos) => {
      const v = force(a!, pos);
      const opts: { url: string; name: string; ref?: string; rev?: string } = { url: '', name: 'source' };
      const noCopy = { copyToStore: false };
      if (v instanceof Attrs) {
        for (const [k, x] of forceAttrs(v, pos).m) {
          const at = v.pos?.get(k) ?? pos;
          if (k === 'url') opts.url = fromBytes(coerceToString(state, x, new Set(), noCopy, at));
          else if (k === 'rev') {
            // Unlike fetchGit's, this `rev` may also name a branch or a tag.
            const r = fromBytes(forceStringNoCtx(x, at));
            if (HG_REV.test(r)) opts.rev = r;
            else opts.ref = r;
          } else if (k === 'name') opts.name = fromBytes(forceStringNoCtx(x, at));
          else throw new NixEvalError('TYPE', `unsupported argument '${k}' to 'fetchMercurial'`, at);
        }
        if (opts.url === '') throw new NixEvalError('TYPE', `'url' argument required`, pos);
      } else opts.url = fromBytes(coerceToString(state, v, new Set(), noCopy, pos));
      const r = wrap(opts.url, pos, () => io.fetchMercurial(opts));
      if (r.unclean !== undefined) state.trace(`warning: Mercurial tree '${toBytes(r.unclean)}' is unclean`);
      const rev = r.rev ?? '0'.repeat(40);
      const attrs = new Map<string, Value>([['outPath', storeString(r.storePath)]]);
      if (r.ref !== undefined) attrs.set('branch', toBytes(r.ref));
      attrs.set('rev', rev);
      attrs.set('shortRev', rev.slice(0, 12));
      if (r.revCount !== undefined) attrs.set('revCount', r.revCount);
      return Attrs.from(new Map([...attrs].sort(([x], [y]) => (x < y ? -1 : 1))));
    },
  });
  defs.push({
    name: 'fetchTree',
    arity: 1,
    global: true,
    fn: (_args, pos) => {
      // Nix 2.8's fetchTree needs the flakes feature before anything else.
      state.requireFeature('flakes');
      throw new NixEvalError('FETCH', `'fetchTree' is not supported by tix`, pos);
    },
  });
}
