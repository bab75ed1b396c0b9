// EvalState: one evaluation session. Holds the EvalIO, the base environment (builtins), the import
// cache, the search path and the path-to-store cache; parses, compiles and evaluates files and
// expressions.

import type { Expr } from './ast.js';
import { Bindings } from './bindings.js';
import { registerBuiltins } from './builtins/index.js';
import { compileExpr } from './compile.js';
import { CORE_PKGS, CORE_PKGS_PREFIX } from './corepkgs.js';
import { fileErrorText, NixEvalError, sysErrorText } from './errors.js';
import type { EvalIO } from './io.js';
import { LazyDrvTable } from './lazy-drv.js';
import { parse } from './parser.js';
import { baseNameOf, canonPath, dirOf, joinPath } from './paths.js';
import type { Scope } from './scope.js';
import { parseSearchPathEntry, type SearchPathEntry, SearchPathResolver } from './search-path.js';
import { bytesOf, fromBytes, type Pos, Source, toBytes } from './source.js';
import { Attrs, Env, type PrimFn, PrimOp, type Thunk, type Value } from './value.js';

export interface EvalOptions {
  io: EvalIO;
  /** Search path entries in order (-I first, then NIX_PATH): "prefix=path" or "path". */
  nixPath?: string[];
  /**
   * Entries ("prefix=path") searched after the search path given to findFile, and not shown in
   * builtins.nixPath (like Nix's own <nix/…>): tix's bundled <tix> package set.
   */
  extraSearchPath?: string[];
  currentSystem?: string;
  /** Enabled experimental features (the experimental-features setting). */
  experimentalFeatures?: string[];
  /** HOME, for `~/…` path literals. */
  home?: string;
  /** Environment for builtins.getEnv. */
  env?: Record<string, string | undefined>;
  /** Receives `trace` messages (already formatted as "trace: …"). */
  trace?: (line: string) => void;
  /** Compute store paths without writing (nix-instantiate --eval). */
  readOnly?: boolean;
  /** Write added paths again even when they are valid (--repair). */
  repair?: boolean;
  cwd?: string;
}

export interface BuiltinDef {
  name: string;
  arity: number;
  fn: PrimFn;
  /** Also reachable without the `builtins.` prefix. */
  global?: boolean;
}

export interface ConstDef {
  name: string;
  value: Value | Thunk;
  global?: boolean;
}

export class EvalState {
  readonly io: EvalIO;
  readonly opts: EvalOptions;
  readonly storeDir: string;
  readonly builtins: Attrs;
  readonly baseScope: Scope;
  readonly baseEnv: Env;
  private importCache = new Map<string, Value>();
  private srcToStore = new Map<string, string>();
  /** hashDerivationModulo results (hex) by .drv path, and derivations parsed back from .drv files. */
  readonly drvHashes = new Map<string, string>();
  readonly derivations = new Map<string, unknown>();
  /** Derivations whose .drv path is left for later (read-only evaluation, lazy-drv.ts). */
  readonly lazyDrvs = new LazyDrvTable();
  /** How paths are added to the store: only computed (read-only), or written again (repair). */
  readonly writeMode: { readOnly?: boolean; repair?: boolean };
  /** Resolves search path entries (each fetched or found missing once per session). */
  readonly searchPath: SearchPathResolver;

  constructor(opts: EvalOptions) {
    this.io = opts.io;
    this.opts = opts;
    this.storeDir = opts.io.storeDir;
    this.writeMode = { readOnly: opts.readOnly, repair: opts.repair };
    this.searchPath = new SearchPathResolver(opts.io, toBytes(opts.cwd ?? process.cwd()), (m) =>
      this.trace(`warning: ${m}`),
    );
    const vars = new Map<string, number>();
    const slots: (Value | Thunk)[] = [];
    const bm = new Bindings([], []);
    this.builtins = Attrs.from(bm);
    const add = (name: string, value: Value | Thunk, global: boolean | undefined) => {
      bm.set(name, value);
      const envName = global ? name : `__${name}`;
      vars.set(envName, slots.length);
      slots.push(value);
    };
    const defs: BuiltinDef[] = [];
    const consts: ConstDef[] = [];
    registerBuiltins(this, defs, consts);
    for (const d of defs) add(d.name, new PrimOp(d.name, d.arity, d.fn), d.global);
    for (const c of consts) add(c.name, c.value, c.global);
    add('builtins', this.builtins, true);
    this.baseScope = { vars, parent: null };
    this.baseEnv = new Env(null, slots);
  }

  /**
   * Nix 2.8's requireExperimentalFeature: fails, with no position (as there), unless the feature
   * is in the experimental-features setting. Not catchable by tryEval.
   */
  requireFeature(name: string): void {
    if (this.opts.experimentalFeatures?.includes(name)) return;
    throw new NixEvalError(
      'EXPERIMENTAL',
      `experimental Nix feature '${name}' is disabled; use '--extra-experimental-features ${name}' to override`,
    );
  }

  /**
   * Parses and evaluates a file (or a directory's default.nix), with caching. `frame`: whether an
   * error while evaluating the file's expression gets Nix 2.8's "while evaluating the file" frame
   * (as for import; not for the file named on the command line).
   */
  evalFile(path: string, pos?: Pos, frame = true): Value {
    const resolved = this.resolveImportPath(path, pos);
    const cached = this.importCache.get(resolved);
    if (cached !== undefined) return cached;
    const code = this.compileFile(resolved, this.baseScope, pos);
    let v: Value;
    try {
      v = code(this.baseEnv);
    } catch (e) {
      // As Nix 2.8 does for an error while the file's own expression is evaluated.
      if (frame && e instanceof NixEvalError) {
        e.addTrace(undefined, `while evaluating the file '${resolved}':`);
      }
      throw e;
    }
    this.importCache.set(resolved, v);
    return v;
  }

  resolveImportPath(path: string, pos?: Pos): string {
    let p = canonPath(path);
    if (p.startsWith(CORE_PKGS_PREFIX)) return p;
    const t = this.io.fileType(fromBytes(p));
    if (t === undefined)
      throw new NixEvalError('IO', `getting status of '${p}': No such file or directory`, pos);
    if (t === 'symlink') p = toBytes(this.io.realPath(fromBytes(p)));
    if (this.io.fileType(fromBytes(p)) === 'directory') p = joinPath(p, 'default.nix');
    return p;
  }

  /** A file's text as a Source (tix's built-in files included). */
  private readSource(path: string, pos?: Pos): Source {
    let bytes: Uint8Array;
    try {
      const core = path.startsWith(CORE_PKGS_PREFIX)
        ? CORE_PKGS.get(path.slice(CORE_PKGS_PREFIX.length))
        : undefined;
      bytes = core !== undefined ? Buffer.from(core, 'latin1') : this.io.readFile(fromBytes(path));
    } catch (e) {
      throw new NixEvalError('IO', `opening file '${path}': ${sysErrorText(e)}`, pos);
    }
    return new Source(path, Buffer.from(bytes).toString('latin1'), !path.startsWith(CORE_PKGS_PREFIX));
  }

  compileFile(path: string, scope: Scope, pos?: Pos): (env: Env) => Value {
    const src = this.readSource(path, pos);
    const ast = parse(src, { basePath: dirOf(path), home: this.opts.home });
    return compileExpr(this, src, ast, scope);
  }

  /**
   * Parses a file (or a directory's default.nix) or an expression's text and checks its variables,
   * without evaluating it: nix-instantiate --parse.
   */
  parseChecked(kind: 'file' | 'expr', text: string, basePath: string): Expr {
    const path = kind === 'file' ? this.resolveImportPath(text) : undefined;
    const src = path === undefined ? new Source(undefined, text) : this.readSource(path);
    const ast = parse(src, { basePath: path === undefined ? basePath : dirOf(path), home: this.opts.home });
    compileExpr(this, src, ast, this.baseScope);
    return ast;
  }

  /** Evaluates an expression given as text (bytes), e.g. from -E; relative paths resolve against basePath. */
  evalString(text: string, basePath: string): Value {
    const src = new Source(undefined, text);
    const ast = parse(src, { basePath, home: this.opts.home });
    return compileExpr(this, src, ast, this.baseScope)(this.baseEnv);
  }

  /**
   * Nix's EvalState::findFile: the path `<name>` stands for along `entries` (default: -I and
   * NIX_PATH), then the extra entries (<tix>), then `nix/…` in tix's built-in files; or undefined.
   */
  findFile(
    name: string,
    entries: SearchPathEntry[] = (this.opts.nixPath ?? []).map((e) => parseSearchPathEntry(toBytes(e))),
  ): string | undefined {
    const extra = (this.opts.extraSearchPath ?? []).map((e) => parseSearchPathEntry(toBytes(e)));
    const found = this.searchPath.find([...entries, ...extra], name);
    if (found !== undefined) return found;
    if (name.startsWith('nix/') && CORE_PKGS.has(name.slice(4))) return `${CORE_PKGS_PREFIX}${name.slice(4)}`;
    return undefined;
  }

  /** Parses an expression without evaluating it (throws its parse error). */
  parseOnly(text: string, basePath: string): void {
    parse(new Source(undefined, text), { basePath, home: this.opts.home });
  }

  /** evalString with extra variables in scope, shadowing builtins (the repl's bindings). */
  evalStringScoped(text: string, basePath: string, scopeAttrs: Iterable<[string, Value | Thunk]>): Value {
    const src = new Source(undefined, text);
    const ast = parse(src, { basePath, home: this.opts.home });
    const { scope, env } = this.extraScope(scopeAttrs);
    return compileExpr(this, src, ast, scope)(env);
  }

  /** `scopedImport`: the file sees the given attributes as variables, shadowing builtins. */
  evalFileScoped(path: string, scopeAttrs: Attrs, pos?: Pos): Value {
    const resolved = this.resolveImportPath(path, pos);
    const { scope, env } = this.extraScope(scopeAttrs.m);
    return this.compileFile(resolved, scope, pos)(env);
  }

  /** A scope just inside the builtins holding `attrs`, and the environment with their values. */
  private extraScope(attrs: Iterable<[string, Value | Thunk]>): { scope: Scope; env: Env } {
    const vars = new Map<string, number>();
    const slots: (Value | Thunk)[] = [];
    for (const [k, v] of attrs) {
      vars.set(k, slots.length);
      slots.push(v);
    }
    return { scope: { vars, parent: this.baseScope }, env: new Env(this.baseEnv, slots) };
  }

  /** Copies a source path to the store (cached), for path interpolation. Returns the store path. */
  copyPathToStore(path: string, pos?: Pos): string {
    const cached = this.srcToStore.get(path);
    if (cached !== undefined) return cached;
    const name = baseNameOf(path);
    if (name.endsWith('.drv'))
      throw new NixEvalError('TYPE', `file names are not allowed to end in '.drv'`, pos);
    let sp: string;
    try {
      sp = this.io.addToStore(fromBytes(path), {
        name: fromBytes(name),
        method: 'recursive',
        ...this.writeMode,
      });
    } catch (e) {
      if (e instanceof NixEvalError) throw e;
      const text = fileErrorText(e, path) ?? `copying path '${path}' to the store: ${(e as Error).message}`;
      throw new NixEvalError('IO', text, pos);
    }
    sp = toBytes(sp);
    this.srcToStore.set(path, sp);
    return sp;
  }

  posToAttrs(p: Pos): Value {
    const { line, col } = p.src.lineCol(p.off);
    return Attrs.from(
      new Map<string, Value>([
        ['file', p.src.path ?? p.src.text],
        ['line', line],
        ['column', col],
      ]),
    );
  }

  trace(msg: string): void {
    (this.opts.trace ?? ((l) => process.stderr.write(bytesOf(`${l}\n`))))(msg);
  }
}
