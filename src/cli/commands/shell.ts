// `tix shell [FILE | -E EXPR | -p PKGS… | DRV] [-A ATTR] [--arg N E] [--argstr N S] [-I P]
// [--run CMD | --command CMD] [--pure] [--keep VAR] [--exclude REGEX] [--dry-run]` = nix-shell 2.8
// for a derivation: evaluates it (with `inNixShell = true` passed to a function, IN_NIX_SHELL in
// the environment), builds or substitutes its inputs (locally or on the configured builders),
// then runs bash in the derivation's environment as nix-shell does (build/shell-env.ts). The
// shell is $NIX_BUILD_SHELL, else <nixpkgs>' bashInteractive, else `bash` from PATH; its exit
// status is tix shell's. Without FILE, shell.nix when it exists, else default.nix.
// `tix shell SCRIPT ARGS…` runs a "#! nix-shell -i INTERPRETER …" script (shell-shebang.ts); its
// files, and the default shell.nix/default.nix, are looked for beside the script (nix-shell looks
// for shell.nix in the working directory but then loads it from beside the script).
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isatty } from 'node:tty';
import { prepareStructuredAttrs, type ReferencesGraphOptions } from '../../build/env.js';
import { parseDerivationAttrs } from '../../build/parsed-derivation.js';
import { bwrapPath } from '../../build/sandbox.js';
import { nixShellSetup } from '../../build/shell-env.js';
import type { Settings } from '../../config/settings.js';
import type { EvalRequest } from '../../eval/session.js';
import type { EvalIOSpec } from '../../eval/worker.js';
import type { Derivation } from '../../formats/derivation.js';
import { isDerivationPath } from '../../formats/derivation.js';
import { instantiate, ioSpecFor } from '../../glue/instantiate.js';
import { queryClosure } from '../../store/closure.js';
import { createNumberedDir } from '../../store/fs-util.js';
import { LocalStore } from '../../store/local.js';
import type { DerivedPath, Store, ValidPathInfo } from '../../store/store.js';
import { type FlagSpec, flagSet, flagValues, type ParsedArgs, parseArgs } from '../args.js';
import { cliSettings } from '../cli-settings.js';
import { type Command, type CommandContext, UsageError } from '../command.js';
import { runInForeground } from '../foreground.js';
import { missingFor } from '../missing.js';
import { resolveCliStoreUri, withStore } from '../open-store.js';
import { BUILD_FLAGS, buildFlagSettings, quiet } from '../realise.js';
import { buildersFlagSettings, prewarmRemoteOnly, realiseWithBuilders } from '../remote-builds.js';
import { readStoreDerivation, storeDirsOf, storePathArg } from '../store-paths.js';
import { substitutionFromSettings } from '../substitute-hook.js';
import { BUILD_EVAL_FLAGS, readStdinArgs, requestFromArgs } from './eval-common.js';
import { interpreterCommand, readShebang } from './shell-shebang.js';

const SHELL_FLAGS: Record<string, FlagSpec> = {
  ...BUILD_EVAL_FLAGS,
  '--packages': { arity: 0, aliases: ['-p'] },
  '--run': { arity: 1 },
  '--command': { arity: 1 },
  '--pure': { arity: 0 },
  '--impure': { arity: 0 },
  '--keep': { arity: 1 },
  '--exclude': { arity: 1 },
  '--dry-run': { arity: 0 },
  '--check': { arity: 0 },
  '--repair': { arity: 0 },
  '--builders': { arity: 1 },
};

/** `-i INTERPRETER`: only in a "#!" script, as in nix-shell. */
const SHEBANG_FLAGS: Record<string, FlagSpec> = { '-i': { arity: 1 } };

/** The later of two flags in argv wins (nix-shell reads its arguments in order). */
function later(argv: string[], a: string, b: string): boolean {
  return argv.lastIndexOf(a) > argv.lastIndexOf(b);
}

/** nix-shell -p's expression: the packages as buildInputs of an empty runCommand from <nixpkgs>. */
export function packagesExpr(packages: string[]): string {
  return `{...}@args: with import <nixpkgs> args; (pkgs.runCommandCC or pkgs.runCommand) "shell" { buildInputs = [ ${packages.map((p) => `(${p}) `).join('')}]; } ""`;
}

/**
 * The evaluation nix-shell makes of its arguments, as a tix evaluation request. Files are found
 * from `fileDir`: the working directory, or a "#!" script's own directory.
 */
function shellRequest(
  args: ParsedArgs,
  ctx: CommandContext,
  env: NodeJS.ProcessEnv,
  settings: Settings,
  fileDir: string,
) {
  const req = requestFromArgs(args, { ...ctx, env }, 'instantiate', settings);
  if (flagSet(args, '--packages')) {
    req.exprs = [{ kind: 'expr', text: packagesExpr(args.positional) }];
  } else if (!flagSet(args, '--expr')) {
    const files =
      args.positional.length > 0
        ? args.positional
        : [existsSync(join(fileDir, 'shell.nix')) ? 'shell.nix' : 'default.nix'];
    // `<…>`, URLs and `-` (standard input) are not file names.
    const onDisk = (f: string) => !/^<.*>$|^[a-z][a-z0-9+.-]*:\/\/|^-$/.test(f);
    req.exprs = files.map((f) => ({ kind: 'file', text: onDisk(f) ? resolve(fileDir, f) : f }));
  }
  // Functions are called with inNixShell = true (an --arg of the same name wins).
  if (!req.args.some((a) => a.name === 'inNixShell'))
    req.args.unshift({ name: 'inNixShell', kind: 'expr', value: 'true' });
  return req;
}

/** The one derivation the arguments name (a .drv path, or what they evaluate to); undefined after an evaluation error. */
async function shellDerivation(
  args: ParsedArgs,
  ctx: CommandContext,
  env: NodeJS.ProcessEnv,
  settings: Settings,
  ioSpec: EvalIOSpec,
  dirs: ReturnType<typeof storeDirsOf>,
  fileDir: string,
): Promise<string | undefined> {
  const single = args.positional.length === 1 ? args.positional[0]! : undefined;
  if (!flagSet(args, '--packages') && !flagSet(args, '--expr') && single?.endsWith('.drv'))
    return storePathArg(single, { cwd: ctx.cwd, ...dirs });
  const errOut = (d: string) => ctx.err.write(Buffer.from(d, 'latin1'));
  // `-` reads the expression from standard input, as nix-shell does.
  const req = await readStdinArgs(shellRequest(args, ctx, env, settings, fileDir), ctx);
  const res = await instantiate(req, ioSpec, errOut);
  if (res.code !== 0) return undefined;
  const drvs = new Set(res.paths.map((p) => (p.kind === 'built' ? p.drvPath : p.path)));
  if (drvs.size !== 1) throw new UsageError('tix shell requires a single derivation');
  return [...drvs][0]!;
}

/**
 * nix-shell's shell when NIX_BUILD_SHELL is not set: <nixpkgs>' bashInteractive (its .drv, to be
 * built with the inputs), else undefined for `bash` from PATH, said as 2.8 says it: the error (as
 * its logError prints it, without the top level's --show-trace hint) then a notice. tix leaves the
 * error out when there is no <nixpkgs> at all: that is not worth an error on every start.
 */
async function bashInteractive(
  req: EvalRequest,
  ioSpec: EvalIOSpec,
  err: (text: string) => void,
): Promise<string | undefined> {
  let errText = '';
  const exprs: EvalRequest['exprs'] = [{ kind: 'expr', text: '(import <nixpkgs> {}).bashInteractive' }];
  const bash = await instantiate({ ...req, exprs, attrPaths: [], args: [] }, ioSpec, (d) => {
    errText += d;
  });
  const first = bash.paths[0];
  if (bash.code === 0 && first?.kind === 'built') return first.drvPath;
  if (bash.code === 0)
    errText = "error: the 'bashInteractive' attribute in <nixpkgs> did not evaluate to a derivation\n";
  errText = errText.replace(/^\(use '--show-trace' to show detailed location information\)\n/m, '');
  if (!errText.startsWith("error: file 'nixpkgs' was not found in the Nix search path")) err(errText);
  err('will use bash from your environment\n');
  return undefined;
}

/** nix-shell's temporary directory: $TMPDIR/nix-shell-PID-N (mode 0700). */
function makeTempDir(env: NodeJS.ProcessEnv): string {
  return createNumberedDir(env.TMPDIR ?? '/tmp', `nix-shell-${process.pid}`);
}

/** What prepareStructuredAttrs is given when there is no exportReferencesGraph to resolve. */
const NO_GRAPH = (storeDir: string): ReferencesGraphOptions => ({
  storeDir,
  inputPaths: new Set(),
  pathInfo: (p) => {
    throw new Error(`no path info of '${p}' was read`);
  },
  derivationOutputs: () => [],
});

/** Path infos of the closure of the derivation's input outputs, for exportReferencesGraph. */
async function referencesGraph(store: Store, drv: Derivation) {
  const roots: string[] = [];
  for (const [inDrv, names] of drv.inputDrvs) {
    const outputs = await store.queryDerivationOutputMap(inDrv);
    for (const name of names) {
      const p = outputs.get(name);
      if (p !== undefined) roots.push(p);
    }
  }
  const closure = await queryClosure(store, roots);
  const infos = new Map<string, ValidPathInfo>();
  const drvOutputs = new Map<string, string[]>();
  for (const p of closure) {
    infos.set(p, (await store.queryPathInfo(p))!);
    if (isDerivationPath(p)) drvOutputs.set(p, [...(await store.queryDerivationOutputMap(p)).values()]);
  }
  return {
    storeDir: store.storeDir,
    inputPaths: new Set(closure),
    pathInfo: (p: string) => infos.get(p)!,
    derivationOutputs: (p: string) => drvOutputs.get(p) ?? [],
  };
}

/** One tix shell invocation's arguments, environment and settings. */
interface ShellRun {
  args: ParsedArgs;
  ctx: CommandContext;
  env: NodeJS.ProcessEnv;
  settings: Settings;
  /** Where file arguments are looked for (the working directory, or a #! script's). */
  fileDir: string;
}

interface Prepared {
  drv: Derivation;
  storeDir: string;
  /** Where the store keeps its paths on disk, when not at storeDir (a store with a root). */
  realStoreDir?: string;
  shell: string;
  structuredAttrs?: ReturnType<typeof prepareStructuredAttrs>;
}

/**
 * The shell's command line. A store with a root (the default one, `local?root=…`) keeps its paths
 * away from the store directory they are named by; then the shell runs in a bwrap mount namespace
 * where they are at their names, so that the derivation's variables point at real files — when
 * the store directory exists on this machine to mount them on; else with a warning.
 */
function shellCommand(
  shell: string,
  args: string[],
  p: Prepared & { env: NodeJS.ProcessEnv },
  warn: (line: string) => void,
): [string, string[], string | undefined] {
  // As the shell will see it: a store path of a store with a root is found below the root.
  const onDisk = (path: string) =>
    p.realStoreDir !== undefined && path.startsWith(`${p.storeDir}/`)
      ? p.realStoreDir + path.slice(p.storeDir.length)
      : path;
  const found = shell.includes('/')
    ? existsSync(onDisk(shell))
    : (p.env.PATH ?? '').split(':').some((d) => existsSync(onDisk(join(d || '.', shell))));
  if (!found) throw new UsageError(`executing shell '${shell}': No such file or directory`);
  if (p.realStoreDir === undefined) return [shell, args, 'bash'];
  if (existsSync(p.storeDir)) {
    const bwrap = ['--dev-bind', '/', '/', '--bind', p.realStoreDir, p.storeDir, '--', shell, ...args];
    return [bwrapPath(), bwrap, undefined];
  }
  warn(
    `warning: the store keeps its paths in '${p.realStoreDir}' and '${p.storeDir}' does not exist here, so the store paths the shell's variables name are not there`,
  );
  return [shell, args, 'bash'];
}

/** Runs the shell and waits for it; its exit status (128 + signal when killed), as exec would give. */
function runShell(
  [file, args, argv0]: [string, string[], string | undefined],
  env: Map<string, string>,
  cwd: string,
): Promise<number> {
  return runInForeground(file, args, {
    env: Object.fromEntries(env),
    cwd,
    argv0,
    spawnError: (e) => new UsageError(`executing shell '${file}': ${e.code ?? e.message}`),
  });
}

/** What tix shell does with the store: evaluate, build the inputs, choose the shell. */
async function prepareShell(
  store: Store,
  { args, ctx, env, settings, fileDir }: ShellRun,
): Promise<Prepared | number> {
  if (store instanceof LocalStore) prewarmRemoteOnly(settings, ctx);
  const dirs = storeDirsOf(store);
  const ioSpec = ioSpecFor(store, resolveCliStoreUri(ctx, settings), settings, env);
  const errOut = (d: string) => ctx.err.write(Buffer.from(d, 'latin1'));
  const drvPath = await shellDerivation(args, ctx, env, settings, ioSpec, dirs, fileDir);
  if (drvPath === undefined) return 1;
  const drv = await readStoreDerivation(store, drvPath);

  const toBuild: DerivedPath[] = [];
  let shellPath = env.NIX_BUILD_SHELL;
  let shellDrv: string | undefined;
  if (shellPath === undefined) {
    shellDrv = await bashInteractive(shellRequest(args, ctx, env, settings, fileDir), ioSpec, errOut);
    if (shellDrv === undefined) shellPath = 'bash';
    else toBuild.push({ kind: 'built', drvPath: shellDrv, outputs: ['out'] });
  }
  const excludes = flagValues(args, '--exclude').map((v) => new RegExp(v[0]!));
  for (const [inDrv, outputs] of drv.inputDrvs) {
    if (excludes.every((re) => !re.test(inDrv))) toBuild.push({ kind: 'built', drvPath: inDrv, outputs });
  }
  for (const src of drv.inputSrcs) toBuild.push({ kind: 'opaque', path: src });

  const log = (line: string) => ctx.err.write(`${line}\n`);
  const substitution = substitutionFromSettings(store, settings, { env: ctx.env, log });
  try {
    for (const line of await missingFor(store, toBuild, substitution)) if (!quiet(ctx)) log(line);
    if (flagSet(args, '--dry-run')) return 0;
    // --check and --repair apply to the inputs' builds, as nix-shell's build mode does.
    await realiseWithBuilders(store, toBuild, settings, ctx, {
      substitution,
      check: flagSet(args, '--check'),
      repair: flagSet(args, '--repair'),
    });
  } finally {
    await substitution?.close();
  }
  if (shellDrv !== undefined) {
    shellPath = `${(await store.queryDerivationOutputMap(shellDrv)).get('out')}/bin/bash`;
  }
  const parsed = parseDerivationAttrs(drvPath, drv);
  const attrs = parsed.structuredAttrs;
  // The inputs' closure and path infos are read only when exportReferencesGraph needs them.
  const structuredAttrs =
    attrs === undefined
      ? undefined
      : prepareStructuredAttrs(
          parsed,
          attrs,
          attrs.exportReferencesGraph === undefined
            ? NO_GRAPH(store.storeDir)
            : await referencesGraph(store, drv),
        );
  // A local store with a root, or a daemon on this machine serving one.
  const daemonRoot = (store as { localRoot?: string }).localRoot;
  const real = dirs.realStoreDir ?? (daemonRoot ? join(daemonRoot, store.storeDir) : undefined);
  return {
    drv,
    storeDir: store.storeDir,
    realStoreDir: real !== undefined && real !== store.storeDir ? real : undefined,
    shell: shellPath!,
    structuredAttrs,
  };
}

export const shell: Command = {
  name: ['shell'],
  summary: "start a bash shell in a derivation's build environment, its inputs built (like nix-shell)",
  async run(argv, ctx) {
    // As a "#!" interpreter, the arguments come from the script's `#! nix-shell` lines.
    const shebang = readShebang(argv, ctx.cwd);
    const words = shebang?.args ?? argv;
    const args = parseArgs(words, { ...BUILD_FLAGS, ...SHELL_FLAGS, ...(shebang ? SHEBANG_FLAGS : {}) });
    if (flagSet(args, '--packages') && flagSet(args, '--expr'))
      throw new UsageError("'-p' and '-E' are mutually exclusive");
    const pure = flagSet(args, '--pure') && later(words, '--pure', '--impure');
    const runFlag = flagSet(args, '--run') || flagSet(args, '--command');
    const useRun =
      flagSet(args, '--run') && (!flagSet(args, '--command') || later(words, '--run', '--command'));
    const interpreter = flagValues(args, '-i').at(-1)?.[0];
    const command =
      shebang && interpreter !== undefined
        ? interpreterCommand(interpreter, shebang.script, shebang.scriptArgs)
        : runFlag
          ? `${flagValues(args, useRun ? '--run' : '--command').at(-1)![0]}\nexit`
          : '';
    const interactive = !flagSet(args, '--run') && interpreter === undefined && isatty(0) && isatty(2);
    const fileDir =
      shebang && !flagSet(args, '--packages') ? dirname(resolve(ctx.cwd, shebang.script)) : ctx.cwd;
    const env: NodeJS.ProcessEnv = { ...ctx.env, IN_NIX_SHELL: pure ? 'pure' : 'impure' };
    const settings = cliSettings(ctx, [...buildFlagSettings(args), ...buildersFlagSettings(args)]);
    const tmpDir = makeTempDir(env);
    try {
      const prepared = await withStore(
        ctx,
        (store) => prepareShell(store, { args, ctx, env, settings, fileDir }),
        settings,
      );
      if (typeof prepared === 'number') return prepared;
      const setup = nixShellSetup(prepared.drv, {
        callerEnv: env,
        pure,
        keep: flagValues(args, '--keep').map((v) => v[0]!),
        tmpDir,
        storeDir: prepared.storeDir,
        buildCores: Number(settings.get('cores')) || availableParallelism(),
        shell: prepared.shell,
        command,
        structuredAttrs: prepared.structuredAttrs,
      });
      for (const [name, text] of setup.files) writeFileSync(join(tmpDir, name), text);
      const rc = join(tmpDir, 'rc');
      writeFileSync(rc, setup.rc);
      const cmdLine = shellCommand(
        prepared.shell,
        interactive ? ['--rcfile', rc] : [rc],
        { ...prepared, env: Object.fromEntries(setup.env) },
        (line) => ctx.err.write(`${line}\n`),
      );
      return await runShell(cmdLine, setup.env, ctx.cwd);
    } finally {
      // The rc file removes the directory itself, but not when the shell cannot run `rm`.
      rmSync(tmpDir, { recursive: true, force: true });
    }
  },
};
