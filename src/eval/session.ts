// One nix-instantiate run: evaluate files or -E expressions, select -A paths, auto-call with
// --arg/--argstr, and print values (--eval: plain, --strict, --json, --xml) or derivation paths.
// Output goes through callbacks as byte strings so a worker thread can forward it in order.
import { autoCallFunction, findAlongAttrPath } from './attr-path.js';
import { forceDeep } from './builtins/util.js';
import { NixEvalError } from './errors.js';
import type { EvalIO } from './io.js';
import { toJSON } from './json.js';
import { forceString, isDerivation } from './ops.js';
import { absPath } from './paths.js';
import { printValue } from './print.js';
import { isSearchPathUri, notInSearchPath } from './search-path.js';
import { showExpr } from './show-expr.js';
import { fromBytes, toBytes } from './source.js';
import { EvalState } from './state.js';
import { Attrs, force, Thunk, type Value } from './value.js';
import { toXML } from './xml.js';

export interface EvalRequest {
  mode: 'eval' | 'instantiate';
  /**
   * With mode 'eval': paths that toFile, interpolation and derivations add are written to the store
   * (nix-instantiate --eval --read-write-mode); otherwise they are only computed, as in Nix.
   */
  readWrite?: boolean;
  /** Files (paths, or `<x>` search-path lookups) or expression texts. */
  exprs: { kind: 'file' | 'expr'; text: string }[];
  attrPaths: string[];
  args: { name: string; kind: 'expr' | 'str'; value: string }[];
  strict: boolean;
  json: boolean;
  xml: boolean;
  location: boolean;
  /** -I entries followed by NIX_PATH entries. */
  nixPath: string[];
  /** Searched after nixPath, not visible in builtins.nixPath (the bundled <tix> entry). */
  extraNixPath?: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  showTrace: boolean;
  currentSystem?: string;
  /** The experimental-features setting (builtins that need one say so as Nix 2.8 does). */
  experimentalFeatures?: string[];
  /** --parse: print each expression as Nix 2.8 shows its parse tree, without evaluating it. */
  parseOnly?: boolean;
  /** --find-file: print where each file argument is found along the search path. */
  findFile?: boolean;
  /** --add-root: each .drv path printed becomes a GC root so named (then NAME-2, NAME-3, …). */
  addRoot?: string;
  /** --dry-run: in mode 'instantiate', .drv paths are computed but not written. */
  dryRun?: boolean;
  /** --repair: sources and .drv files are written again even when valid. */
  repair?: boolean;
}

export interface SessionOutput {
  stdout(bytes: string): void;
  stderr(bytes: string): void;
}

/** The evaluator a request describes (search path, system, environment, cwd). */
export function evalStateFor(req: EvalRequest, io: EvalIO, stderr: (bytes: string) => void): EvalState {
  return new EvalState({
    io,
    nixPath: req.nixPath,
    extraSearchPath: req.extraNixPath,
    currentSystem: req.currentSystem,
    experimentalFeatures: req.experimentalFeatures,
    home: req.env.HOME,
    env: req.env,
    trace: (line) => stderr(`${line}\n`),
    readOnly: req.mode === 'eval' ? req.readWrite !== true : req.dryRun === true,
    repair: req.repair,
    cwd: req.cwd,
  });
}

/** Runs the request; returns the exit code. Errors are printed like Nix's. */
export function runSession(
  req: EvalRequest,
  io: EvalIO,
  out: SessionOutput,
  opts: { rethrowStackOverflow?: boolean } = {},
): number {
  const state = evalStateFor(req, io, out.stderr);
  const cwd = toBytes(req.cwd);
  try {
    const autoArgs = Attrs.from(
      new Map<string, Value | Thunk>(
        req.args.map((a) => [
          toBytes(a.name),
          a.kind === 'str'
            ? toBytes(a.value)
            : new Thunk(() => state.evalString(toBytes(a.value), cwd), null),
        ]),
      ),
    );
    let warned = false;
    let rootNr = 0;
    if (req.findFile) {
      for (const e of req.exprs) {
        const found = state.findFile(toBytes(e.text));
        if (found === undefined) throw notInSearchPath(toBytes(e.text));
        out.stdout(`${found}\n`);
      }
      return 0;
    }
    for (const e of req.exprs) {
      if (req.parseOnly) {
        const file = e.kind === 'file' ? lookupFileArg(state, toBytes(e.text), cwd) : undefined;
        out.stdout(`${showExpr(state.parseChecked(e.kind, file ?? toBytes(e.text), cwd))}\n`);
        continue;
      }
      const root = new Thunk(() => {
        if (e.kind === 'expr') return state.evalString(toBytes(e.text), cwd);
        return state.evalFile(lookupFileArg(state, toBytes(e.text), cwd), undefined, false);
      }, null);
      for (const path of req.attrPaths.length > 0 ? req.attrPaths : ['']) {
        const v = findAlongAttrPath(toBytes(path), autoArgs, root);
        if (req.mode === 'eval') {
          const res = autoArgs.m.size > 0 ? autoCallFunction(autoArgs, v) : v;
          if (req.xml)
            out.stdout(toXML(state, res, { strict: req.strict, location: req.location }, new Set()));
          else if (req.json) {
            const text: string[] = [];
            try {
              toJSON(state, res, new Set(), undefined, { strict: req.strict, out: text });
            } finally {
              out.stdout(text.join(''));
            }
          } else {
            if (req.strict) forceDeep(res);
            out.stdout(`${printValue(res, { strict: req.strict })}\n`);
          }
        } else {
          for (const d of getDerivations(v, autoArgs)) {
            const drvPath = forceString(d.m.get('drvPath') ?? '');
            const on = d.m.get('outputName');
            const outputName = on === undefined ? '' : forceString(on);
            if (outputName === '')
              throw new NixEvalError('DERIVATION', `derivation '${drvPath}' lacks an 'outputName' attribute`);
            let shown = drvPath;
            if (req.addRoot === undefined) {
              if (!warned) {
                out.stderr(
                  "warning: you did not specify '--add-root'; the result might be removed by the garbage collector\n",
                );
                warned = true;
              }
            } else if (io.addPermRoot !== undefined) {
              const base = absPath(toBytes(req.addRoot), cwd);
              const name = ++rootNr > 1 ? `${base}-${rootNr}` : base;
              shown = toBytes(io.addPermRoot(fromBytes(drvPath), fromBytes(name)));
            }
            out.stdout(`${shown}${outputName !== 'out' ? `!${outputName}` : ''}\n`);
          }
        }
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof NixEvalError) {
      out.stderr(e.formatBytes({ showTrace: req.showTrace }));
      return 1;
    }
    if (isStackOverflow(e)) {
      if (opts.rethrowStackOverflow) throw e;
      out.stderr('error: stack overflow (possible infinite recursion)\n');
      return 1;
    }
    throw e;
  }
}

/**
 * Nix 2.8's lookupFileArg: a file argument `<name>` is looked up along the search path, a URL is a
 * tarball fetched into the store, anything else is a path relative to the working directory.
 */
function lookupFileArg(state: EvalState, arg: string, cwd: string): string {
  if (isSearchPathUri(arg)) return state.searchPath.fetchTarball(arg);
  if (arg.length > 2 && arg.startsWith('<') && arg.endsWith('>')) {
    const found = state.findFile(arg.slice(1, -1));
    if (found === undefined) throw notInSearchPath(arg.slice(1, -1));
    return found;
  }
  return absPath(arg, cwd);
}

export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/.test(e.message);
}

const ATTR_RE = /^[a-zA-Z_][a-zA-Z0-9_'-]*$/;

/** nix-instantiate's getDerivations: derivations in a value, a set (one level, or recursing on
 * recurseForDerivations) or a list. */
export function getDerivations(v: Value | Thunk, autoArgs: Attrs): Attrs[] {
  const out: Attrs[] = [];
  const done = new Set<Attrs>();
  /** Returns true when the value is not a derivation (so the caller may recurse). */
  const one = (t: Value | Thunk): boolean => {
    const x = force(t);
    if (!isDerivation(x)) return true;
    const a = x as Attrs;
    if (done.has(a)) return false;
    done.add(a);
    out.push(a);
    return false;
  };
  const walk = (t: Value | Thunk): void => {
    const x = autoCallFunction(autoArgs, t);
    if (!one(x)) return;
    if (x instanceof Attrs) {
      for (const name of x.sortedNames()) {
        if (!ATTR_RE.test(name)) continue;
        const child = x.m.get(name)!;
        if (one(child)) {
          const c = force(child);
          if (c instanceof Attrs) {
            const r = c.m.get('recurseForDerivations');
            if (r !== undefined && force(r) === true) walk(c);
          }
        }
      }
    } else if (Array.isArray(x)) {
      for (const e of x) if (one(e)) walk(e);
    } else {
      throw new NixEvalError(
        'TYPE',
        'expression does not evaluate to a derivation (or a set or list of those)',
      );
    }
  };
  walk(v);
  return out;
}
