// Nix's search path (`<name>`, NIX_PATH, -I) as Nix 2.8 resolves it: an entry is "prefix=dir" or
// "dir"; a dir that is a URL (http, https, file, channel, git, s3, ssh) names a tarball, fetched
// once into the store; a dir that does not exist, or cannot be fetched, is ignored with one warning.
// Strings here are byte strings, as everywhere in the evaluator.
import { NixEvalError } from './errors.js';
import type { EvalIO } from './io.js';
import { canonPath } from './paths.js';
import { fromBytes, type Pos, toBytes } from './source.js';

export interface SearchPathEntry {
  prefix: string;
  dir: string;
}

/** Nix 2.8's error for `<name>` not found; for nixpkgs, a hint at tix's own package set. */
export function notInSearchPath(name: string, pos?: Pos): NixEvalError {
  const err = new NixEvalError(
    'SEARCH_PATH',
    `file '${name}' was not found in the Nix search path (add it using $NIX_PATH or -I)`,
    pos,
  );
  if (name === 'nixpkgs' || name.startsWith('nixpkgs/')) {
    err.hint =
      'tix has no nixpkgs; use <tix> (the package set bundled with tix) or add nixpkgs with -I nixpkgs=PATH';
  }
  return err;
}

/** "prefix=dir" or "dir". */
export function parseSearchPathEntry(entry: string): SearchPathEntry {
  const eq = entry.indexOf('=');
  return eq < 0 ? { prefix: '', dir: entry } : { prefix: entry.slice(0, eq), dir: entry.slice(eq + 1) };
}

const URI_SCHEMES = new Set(['http', 'https', 'file', 'channel', 'git', 's3', 'ssh']);

/** Nix 2.8's isUri: what a search path entry or a file argument fetches instead of reading. */
export function isSearchPathUri(s: string): boolean {
  if (s.startsWith('channel:')) return true;
  const i = s.indexOf('://');
  return i >= 0 && URI_SCHEMES.has(s.slice(0, i));
}

/** `channel:NAME` is the channel's tarball on nixos.org, as in Nix 2.8. */
export function resolveUri(uri: string): string {
  return uri.startsWith('channel:')
    ? `https://nixos.org/channels/${uri.slice('channel:'.length)}/nixexprs.tar.xz`
    : uri;
}

export class SearchPathResolver {
  /** Each entry's directory as resolved (undefined: ignored), so it is fetched and warned about once. */
  readonly #resolved = new Map<string, string | undefined>();

  constructor(
    private readonly io: EvalIO,
    /** The directory relative entries are relative to (bytes). */
    private readonly cwd: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** A URL fetched and unpacked into the store: the store path (bytes). */
  fetchTarball(uri: string): string {
    return toBytes(this.io.fetchUrl(fromBytes(resolveUri(uri)), { unpack: true, name: 'source' }));
  }

  /** The entry's directory, or undefined when it is to be ignored (warned about the first time). */
  resolveDir(dir: string): string | undefined {
    if (this.#resolved.has(dir)) return this.#resolved.get(dir);
    let res: string | undefined;
    if (isSearchPathUri(dir)) {
      try {
        res = this.fetchTarball(dir);
      } catch {
        this.warn(`Nix search path entry '${dir}' cannot be downloaded, ignoring`);
      }
    } else {
      const abs = canonPath(dir.startsWith('/') ? dir : `${this.cwd}/${dir}`);
      if (this.io.pathExists(fromBytes(abs))) res = abs;
      else this.warn(`Nix search path entry '${dir}' does not exist, ignoring`);
    }
    this.#resolved.set(dir, res);
    return res;
  }

  /** The first existing `<name>` along `entries`, or undefined. */
  find(entries: Iterable<SearchPathEntry>, name: string): string | undefined {
    for (const { prefix, dir } of entries) {
      let rest: string;
      if (prefix === '') rest = name;
      else if (name === prefix) rest = '';
      else if (name.startsWith(`${prefix}/`)) rest = name.slice(prefix.length + 1);
      else continue;
      const base = this.resolveDir(dir);
      if (base === undefined) continue;
      const candidate = canonPath(rest === '' ? base : `${base}/${rest}`);
      if (this.io.pathExists(fromBytes(candidate))) return candidate;
    }
    return undefined;
  }
}
