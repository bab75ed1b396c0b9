// `builtin:buildenv`, the builder of nix-env's user environments (its <nix/buildenv.nix>): a tree of
// symlinks merging the installed packages, as Nix 2.8's builtins/buildenv.cc makes it. The env's
// `derivations` lists, per package, "ACTIVE PRIORITY N OUTPUT1 … OUTPUTN"; lower priorities win
// collisions, equal ones are an error; directories two packages share become real directories;
// packages named in an installed one's nix-support/propagated-user-env-packages follow with
// priorities from 1000. `manifest` is linked as manifest.nix.
//
// It runs in this process, outside any sandbox, so store paths are read through `realPath` (for a
// store kept elsewhere on disk), while the symlinks it makes hold the store paths themselves.
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { BuildError } from './errors.js';

export interface BuildenvContext {
  /** Where a path (a store path or below one) is on disk. */
  realPath: (path: string) => string;
  /** The output's store path (`out` is where it is written on disk). */
  outPath: string;
  warn: (message: string) => void;
}

interface Package {
  path: string;
  active: boolean;
  priority: number;
}

/** Files that never go into a profile (useless there, or colliding between packages). */
const SKIPPED = [
  '/propagated-build-inputs',
  '/nix-support',
  '/perllocal.pod',
  '/info/dir',
  '/log',
  '/manifest.nix',
  '/manifest.json',
];

/** Builds the user environment of `env` at `out` (the output's path on disk). */
export function builtinBuildenv(env: ReadonlyMap<string, string>, out: string, ctx: BuildenvContext): void {
  const attr = (name: string) => {
    const v = env.get(name);
    if (v === undefined) throw new BuildError('BAD_DRV', `attribute '${name}' missing`);
    return v;
  };
  mkdirSync(out, { recursive: true });
  const words = attr('derivations')
    .split(/[ \t\n\r]+/)
    .filter((w) => w !== '');
  const pkgs: Package[] = [];
  for (let i = 0; i < words.length; ) {
    const active = words[i++]!;
    const priority = parseCount(words[i++], 'priority');
    const outputs = parseCount(words[i++], 'output count');
    for (let n = 0; n < outputs; n++) {
      const path = words[i++];
      if (path === undefined)
        throw new BuildError('BAD_DRV', "attribute 'derivations' lists too few outputs");
      pkgs.push({ path, active: active !== 'false', priority });
    }
  }
  new Profile(out, ctx).build(pkgs);
  symlinkSync(attr('manifest'), join(out, 'manifest.nix'));
}

/** A number of `derivations` (2.8 reads them with stoi: leading digits, optional sign). */
function parseCount(word: string | undefined, what: string): number {
  const m = word === undefined ? null : /^[ \t]*[-+]?\d+/.exec(word);
  if (m === null)
    throw new BuildError('BAD_DRV', `attribute 'derivations' has a bad ${what} '${word ?? ''}'`);
  return Number(m[0]);
}

/** Path components with "." and ".." taken out. */
function normalise(parts: string[]): string[] {
  const out: string[] = [];
  for (const c of parts) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out;
}

class Profile {
  /** Priority of each symlink made, by its path under `out` (on disk). */
  readonly #priorities = new Map<string, number>();

  constructor(
    readonly out: string,
    readonly ctx: BuildenvContext,
  ) {}

  build(pkgs: Package[]): void {
    const done = new Set<string>();
    let postponed = new Set<string>();
    const add = (pkgDir: string, priority: number) => {
      if (done.has(pkgDir)) return;
      done.add(pkgDir);
      this.#link(pkgDir, this.out, priority);
      let propagated: string;
      try {
        propagated = readFileSync(this.#real(`${pkgDir}/nix-support/propagated-user-env-packages`), 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw e;
      }
      for (const p of propagated.split(/[ \n]+/)) if (p !== '' && !done.has(p)) postponed.add(p);
    };
    // Installed packages in priority order (then by path), as 2.8 links them.
    const sorted = [...pkgs].sort(
      (a, b) => a.priority - b.priority || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
    );
    for (const p of sorted) if (p.active) add(p.path, p.priority);
    // Then what they propagate, below every installed package.
    let priority = 1000;
    while (postponed.size > 0) {
      const batch = [...postponed].sort();
      postponed = new Set();
      for (const p of batch) add(p, priority++);
    }
  }

  /**
   * `path` (a store path, or a path below one) with every symlink in it resolved, as Nix's
   * canonPath(path, true): component by component, since the targets are store paths, which may
   * live elsewhere on disk.
   */
  #canon(path: string): string {
    let rest = path.split('/').filter((c) => c !== '');
    let done = '';
    for (let hops = 0; rest.length > 0; ) {
      const next = `${done}/${rest[0]!}`;
      const real = this.ctx.realPath(next);
      const st = lstatSync(real, { throwIfNoEntry: false });
      if (st === undefined) break;
      if (st.isSymbolicLink()) {
        if (++hops > 40) throw Object.assign(new Error(`too many symlinks at '${next}'`), { code: 'ELOOP' });
        const target = readlinkSync(real);
        rest = [...(target.startsWith('/') ? [] : done.split('/')), ...target.split('/'), ...rest.slice(1)];
        rest = normalise(rest);
        done = '';
        continue;
      }
      done = next;
      rest = rest.slice(1);
    }
    return `${done}${rest.length > 0 ? `/${rest.join('/')}` : ''}` || '/';
  }

  /** Where `path` is on disk, its symlinks resolved. */
  #real(path: string): string {
    return this.ctx.realPath(this.#canon(path));
  }

  /** A path under the output as the builder's messages name it (the output's store path). */
  #shown(dst: string): string {
    return `${this.ctx.outPath}${dst.slice(this.out.length)}`;
  }

  #link(srcDir: string, dstDir: string, priority: number): void {
    let names: string[];
    try {
      names = readdirSync(this.#real(srcDir));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') {
        this.ctx.warn(`not including '${srcDir}' in the user environment because it's not a directory`);
        return;
      }
      throw e;
    }
    for (const name of names.sort()) {
      if (name.startsWith('.')) continue;
      const srcFile = `${srcDir}/${name}`;
      const dstFile = `${dstDir}/${name}`;
      let src: ReturnType<typeof statSync>;
      try {
        src = statSync(this.#real(srcFile));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          this.ctx.warn(`skipping dangling symlink '${this.#shown(dstFile)}'`);
          continue;
        }
        throw e;
      }
      if (SKIPPED.some((s) => srcFile.endsWith(s))) continue;
      const dst = lstatSync(dstFile, { throwIfNoEntry: false });
      if (src.isDirectory()) {
        if (dst?.isDirectory()) {
          this.#link(srcFile, dstFile, priority);
          continue;
        }
        if (dst?.isSymbolicLink()) {
          // A directory one package linked whole, now shared: a real directory of both's links.
          // (Our links point at store paths, which #canon resolves further.)
          const target = this.#canon(readlinkSync(dstFile));
          if (!lstatSync(this.ctx.realPath(target), { throwIfNoEntry: false })?.isDirectory()) {
            throw new BuildError(
              'BUILD_FAILED',
              `collision between '${srcFile}' and non-directory '${target}'`,
            );
          }
          unlinkSync(dstFile);
          mkdirSync(dstFile, { mode: 0o755 });
          this.#link(target, dstFile, this.#priorities.get(dstFile) ?? 0);
          this.#link(srcFile, dstFile, priority);
          continue;
        }
      } else if (dst?.isSymbolicLink()) {
        const prev = this.#priorities.get(dstFile) ?? 0;
        if (prev === priority) {
          throw new BuildError(
            'BUILD_FAILED',
            `packages '${srcFile}' and '${readlinkSync(dstFile)}' have the same priority ${priority}; use 'nix-env --set-flag priority NUMBER INSTALLED_PKGNAME' to change the priority of one of the conflicting packages (0 being the highest priority)`,
          );
        }
        if (prev < priority) continue;
        unlinkSync(dstFile);
      } else if (dst?.isDirectory()) {
        throw new BuildError(
          'BUILD_FAILED',
          `collision between non-directory '${srcFile}' and directory '${this.#shown(dstFile)}'`,
        );
      }
      symlinkSync(srcFile, dstFile);
      this.#priorities.set(dstFile, priority);
    }
  }
}
