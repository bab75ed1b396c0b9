// The engine of `tix repl`, as Nix 2.8's `nix repl`: an input is an expression (printed forced,
// sets and lists one level deep), `name = expr` (a lazy binding), or a command (`:?` lists them).
// Bindings shadow builtins, as Nix's repl scope does; each binding sees those made before it.
// Building (`:b`) and logs (`:log`) need a store, which the host provides. Output is byte strings
// (the evaluator's strings are bytes), written through the host.
import { autoCallFunction } from './attr-path.js';
import { NixEvalError } from './errors.js';
import { isDerivation } from './ops.js';
import { canonPath, joinPath } from './paths.js';
import { printReplValue } from './repl-print.js';
import { fromBytes, toBytes } from './source.js';
import type { EvalState } from './state.js';
import { Attrs, force, Lambda, NixPath, NixStr, showType, Thunk, type Value } from './value.js';

export interface ReplHost {
  out(bytes: string): void;
  err(bytes: string): void;
  /** ANSI colours in printed values. */
  color: boolean;
  /** Builds a derivation; resolves with its outputs (name → store path). */
  build?(drvPath: string): Promise<Map<string, string>>;
  /** The build log of a derivation, if the store has one. */
  log?(drvPath: string): string | undefined;
  /** Builds a derivation's inputs, then runs `tix shell` on it; resolves when the shell exits. */
  shell?(drvPath: string): Promise<void>;
  /** Opens `file` in the user's editor (at `line` when known, else 0); resolves when it exits. */
  edit?(file: string, line: number): Promise<void>;
}

const HELP = `The following commands are available:

  <expr>        Evaluate and print expression
  <x> = <expr>  Bind expression to variable
  :a <expr>     Add attributes from resulting set to scope
  :b <expr>     Build derivation
  :e <expr>     Open package or function in $EDITOR
  :l <path>     Load Nix expression and add it to scope
  :log <expr>   Show logs for a derivation
  :p <expr>     Evaluate and print expression recursively
  :q            Exit tix repl
  :r            Reload all files
  :s <expr>     Build dependencies of derivation, then start tix shell
  :st [bool]    Enable, disable or toggle showing traces for errors
  :t <expr>     Describe result of evaluation
  :u <expr>     Build derivation, then start tix shell
`;

/** Commands of Nix 2.8's repl that tix's does not have. */
const UNSUPPORTED = new Set([':i', ':lf', ':doc']);

const BINDING = /^\s*([A-Za-z_][A-Za-z0-9_'-]*)\s*=(?!=)([\s\S]+)$/;

export class Repl {
  #state: EvalState;
  readonly #vars = new Map<string, Value | Thunk>();
  readonly #files: string[] = [];
  #showTrace: boolean;

  constructor(
    /** A fresh evaluator (`:r` starts over with a new one, dropping cached imports). */
    readonly newState: () => EvalState,
    /** Directory that relative paths resolve against (a byte string). */
    readonly cwd: string,
    readonly host: ReplHost,
    opts: { showTrace?: boolean } = {},
  ) {
    this.#state = newState();
    this.#showTrace = opts.showTrace ?? false;
  }

  /** True when `text` is an expression cut short (the repl should read another line). */
  isIncomplete(text: string): boolean {
    const t = text.trim();
    if (t === '' || t.startsWith(':')) return false;
    const m = BINDING.exec(t);
    try {
      this.#state.parseOnly(toBytes(m ? m[2]! : t), this.cwd);
      return false;
    } catch (e) {
      return (
        e instanceof NixEvalError &&
        e.code === 'PARSE' &&
        /unexpected end of file|^unterminated/.test(e.message)
      );
    }
  }

  /** Handles one input (an expression, a binding or a command); false after `:q`. */
  async run(input: string): Promise<boolean> {
    const line = input.trim();
    if (line === '') return true;
    try {
      if (line.startsWith(':')) return await this.#command(line);
      const m = BINDING.exec(line);
      if (m) {
        const name = m[1]!;
        const text = toBytes(m[2]!);
        const scope = new Map(this.#vars);
        this.#vars.set(name, new Thunk(() => this.#state.evalStringScoped(text, this.cwd, scope), null));
        return true;
      }
      this.#print(this.#eval(line), 1);
    } catch (e) {
      this.#reportError(e);
    }
    return true;
  }

  /** `:l path`: the file's value (called with defaults if it is a function) added to scope. */
  load(arg: string): void {
    const path = this.#resolvePath(arg);
    const v = autoCallFunction(Attrs.empty, this.#state.evalFile(path));
    this.#files.push(arg);
    this.#addAttrs(v);
  }

  #eval(text: string): Value {
    return force(this.#state.evalStringScoped(toBytes(text), this.cwd, this.#vars));
  }

  #print(v: Value, depth: number): void {
    const text = printReplValue(v, {
      depth,
      color: this.host.color,
      showPos: (f: Lambda) => {
        const { line, col } = f.info.pos.src.lineCol(f.info.pos.off);
        return { file: f.info.pos.src.path ?? '(string)', line, col };
      },
      formatError: (e) => e.formatBytes({ showTrace: false }),
    });
    this.host.out(`${text}\n`);
  }

  #addAttrs(v: Value | Thunk): void {
    const set = force(v);
    if (!(set instanceof Attrs))
      throw new NixEvalError('TYPE', `value is ${showType(set)} while a set was expected`);
    for (const name of set.sortedNames()) this.#vars.set(name, set.m.get(name)!);
    this.host.out(`Added ${set.m.size} variables.\n`);
  }

  #resolvePath(arg: string): string {
    if (arg.startsWith('<') && arg.endsWith('>')) {
      const p = force(this.#state.evalString(toBytes(arg), this.cwd));
      if (!(p instanceof NixPath)) throw new NixEvalError('TYPE', `'${arg}' is not a path`);
      return p.p;
    }
    const bytes = toBytes(arg);
    return bytes.startsWith('/') ? canonPath(bytes) : canonPath(joinPath(this.cwd, bytes));
  }

  #reload(): void {
    this.#state = this.newState();
    this.#vars.clear();
    for (const f of this.#files.splice(0)) this.load(f);
  }

  /** Where `:e` opens: a path or string as a file, a function at its definition, a package at meta.position. */
  #sourceOf(text: string): { file: string; line: number } {
    const v = this.#eval(text);
    if (v instanceof NixPath) return { file: fromBytes(v.p), line: 0 };
    if (typeof v === 'string' || v instanceof NixStr)
      return { file: fromBytes(typeof v === 'string' ? v : v.s), line: 0 };
    if (v instanceof Lambda) {
      const { line } = v.info.pos.src.lineCol(v.info.pos.off);
      return { file: fromBytes(v.info.pos.src.path ?? ''), line };
    }
    let pos: Value;
    try {
      const meta = v instanceof Attrs ? v.m.get('meta') : undefined;
      const metaV = meta === undefined ? undefined : force(meta);
      const p = metaV instanceof Attrs ? metaV.m.get('position') : undefined;
      if (p === undefined) throw new Error('no meta.position');
      pos = force(p);
    } catch {
      throw new NixEvalError('REPL', `package '${text}' has no source location information`);
    }
    const s = typeof pos === 'string' ? pos : pos instanceof NixStr ? pos.s : undefined;
    const colon = s?.lastIndexOf(':') ?? -1;
    if (s === undefined || colon < 0)
      throw new NixEvalError('REPL', `cannot parse meta.position attribute '${s ?? showType(pos)}'`);
    // As std::stoi: leading digits, the rest ignored.
    const line = Number.parseInt(s.slice(colon + 1), 10);
    if (Number.isNaN(line)) throw new NixEvalError('REPL', `cannot parse line number '${s}'`);
    return { file: fromBytes(s.slice(0, colon)), line };
  }

  #drvPathOf(text: string): string {
    const v = this.#eval(text);
    if (!(v instanceof Attrs) || !isDerivation(v))
      throw new NixEvalError('TYPE', "expression does not evaluate to a derivation, so I can't build it");
    const p = v.m.get('drvPath');
    const s = p === undefined ? undefined : force(p);
    const path = typeof s === 'string' ? s : s instanceof NixStr ? s.s : undefined;
    if (path === undefined) throw new NixEvalError('TYPE', 'derivation has no drvPath');
    return fromBytes(path);
  }

  async #command(line: string): Promise<boolean> {
    const space = line.search(/\s/);
    const cmd = space < 0 ? line : line.slice(0, space);
    const arg = space < 0 ? '' : line.slice(space).trim();
    switch (cmd) {
      case ':?':
      case ':help':
        this.host.out(HELP);
        return true;
      case ':q':
      case ':quit':
        return false;
      case ':a':
      case ':add':
        this.#addAttrs(this.#eval(arg));
        return true;
      case ':l':
      case ':load':
        this.load(arg);
        return true;
      case ':r':
      case ':reload':
        this.#reload();
        return true;
      case ':e':
      case ':edit': {
        if (!this.host.edit) throw new NixEvalError('REPL', 'editing needs a terminal');
        const { file, line } = this.#sourceOf(arg);
        await this.host.edit(file, line);
        // As Nix 2.8: the files are read again after the editor exits.
        this.#reload();
        return true;
      }
      case ':p':
      case ':print':
        this.#print(this.#eval(arg), Number.POSITIVE_INFINITY);
        return true;
      case ':t':
        this.host.out(`${showType(this.#eval(arg))}\n`);
        return true;
      case ':st':
      case ':show-trace':
        this.#showTrace = arg === '' ? !this.#showTrace : arg === 'true';
        this.host.out(this.#showTrace ? 'showing error traces\n' : 'not showing error traces\n');
        return true;
      case ':b':
      case ':build': {
        if (!this.host.build) throw new NixEvalError('REPL', 'building needs a store');
        const drvPath = this.#drvPathOf(arg);
        const outputs = await this.host.build(drvPath);
        let text = '\nThis derivation produced the following outputs:\n';
        for (const [name, path] of [...outputs].sort()) text += `  ${name} -> ${path}\n`;
        this.host.out(text);
        return true;
      }
      case ':s':
      case ':u': {
        if (!this.host.shell) throw new NixEvalError('REPL', 'a shell needs a store');
        // :u, as Nix 2.8: a shell whose buildInputs is the derivation, from <nixpkgs>' runCommand.
        const text =
          cmd === ':s'
            ? arg
            : `(drv: (import <nixpkgs> {}).runCommand "shell" { buildInputs = [ drv ]; } "") (${arg})`;
        await this.host.shell(this.#drvPathOf(text));
        return true;
      }
      case ':log': {
        const drvPath = this.#drvPathOf(arg);
        const log = this.host.log?.(drvPath);
        if (log === undefined) throw new NixEvalError('REPL', `build log of '${drvPath}' is not available`);
        this.host.out(toBytes(log));
        return true;
      }
      default:
        if (UNSUPPORTED.has(cmd)) throw new NixEvalError('REPL', `'${cmd}' is not supported by tix repl`);
        throw new NixEvalError('REPL', `unknown command '${cmd}'`);
    }
  }

  #reportError(e: unknown): void {
    if (e instanceof NixEvalError) {
      this.host.err(e.formatBytes({ showTrace: this.#showTrace }));
      return;
    }
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      this.host.err('error: stack overflow (possible infinite recursion)\n');
      return;
    }
    if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') {
      this.host.err(toBytes(`error: ${e.message}\n`));
      return;
    }
    throw e;
  }
}
