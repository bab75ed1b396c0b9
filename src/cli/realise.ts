// Realising derived paths for `tix store realise` and `tix build`: argument syntax
// (`X.drv`, `X.drv!out,dev`, `X.drv^out`, opaque paths), build settings from flags and
// configuration, progress and failures on stderr as Nix prints them, and nix-build's `result`
// links (registered as indirect GC roots).
import type { LocalBuildOptions } from '../build/build-one.js';
import { BuildError, buildOfFailed, exitCodeFor, isSuccess } from '../build/errors.js';
import { type BuildPathsOptions, type BuildPathsResult, buildPaths, startVerb } from '../build/goals.js';
import type { LocalBuildStore } from '../build/local-store-view.js';
import type { RepairOpaque } from '../build/repair.js';
import type { Settings } from '../config/settings.js';
import { isDerivationPath } from '../formats/derivation.js';
import {
  BuildMode,
  type BuildResult,
  type DerivedPath,
  type Store,
  type ValidPathInfo,
} from '../store/store.js';
import { type FlagSpec, flagSet, flagValue, type ParsedArgs } from './args.js';
import { applyAutoGcSettings, localBuildOptions } from './build-settings.js';
import { CliError } from './cli-error.js';
import type { FlagSetting } from './cli-settings.js';
import type { CommandContext } from './command.js';
import { storePathArg } from './store-paths.js';
import { type Substitution, substitutionFromSettings } from './substitute-hook.js';

/** Flags shared by the building commands; each maps to a setting of the same name. */
export const BUILD_FLAGS: Record<string, FlagSpec> = {
  '--max-jobs': { arity: 1, aliases: ['-j'] },
  '--cores': { arity: 1 },
  '--keep-going': { arity: 0, aliases: ['-k'] },
  '--keep-failed': { arity: 0, aliases: ['-K'] },
  '--max-silent-time': { arity: 1 },
  '--timeout': { arity: 1 },
  '--fallback': { arity: 0 },
};

/** The settings given by build flags, for cliSettings(). */
export function buildFlagSettings(args: ParsedArgs): FlagSetting[] {
  const out: FlagSetting[] = [];
  for (const flag of ['--max-jobs', '--cores', '--max-silent-time', '--timeout']) {
    const v = flagValue(args, flag);
    if (v !== undefined) out.push([flag.slice(2), v, flag]);
  }
  for (const flag of ['--keep-going', '--keep-failed', '--fallback']) {
    if (flagSet(args, flag)) out.push([flag.slice(2), 'true', flag]);
  }
  return out;
}

/** The `post-build-hook` setting as buildPaths takes it; undefined when unset. */
export function postBuildHookFrom(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  onLogLine: (line: string) => void,
): BuildPathsOptions['postBuildHook'] {
  const program = settings.get('post-build-hook');
  return program === '' ? undefined : { program, env, onLogLine };
}

/** Parses `PATH`, `DRV!out,dev` or `DRV^out` (symlinks into the store allowed). */
export function parseDerivedPathArg(
  arg: string,
  opts: { cwd: string; storeDir: string; realStoreDir?: string },
): DerivedPath {
  const m = /^(.*\.drv)[!^]([^/!^]*)$/.exec(arg);
  const path = storePathArg(m ? m[1]! : arg, opts);
  if (!isDerivationPath(path)) {
    if (m) throw new CliError('BAD_INPUT', `cannot select outputs of '${path}': it is not a derivation`);
    return { kind: 'opaque', path };
  }
  const outputs = m ? m[2]!.split(',').filter((o) => o !== '') : ['*'];
  return { kind: 'built', drvPath: path, outputs: outputs.length > 0 ? outputs : ['*'] };
}

/** A store that builds for its clients (a daemon): `tix build --store daemon` asks it to. */
interface DelegatingStore extends Store {
  buildPaths(
    paths: DerivedPath[],
    opts?: { onLog?: (line: string) => void; mode?: BuildMode },
  ): Promise<{ path: DerivedPath; result: BuildResult }[]>;
}

/** A damaged path fetched again from the substituters (their copy must have the recorded NAR hash). */
export function repairFromSubstituters(
  store: LocalBuildStore,
  substitution: Substitution | undefined,
): RepairOpaque {
  return async (path) => {
    const info = store.queryPathInfoSync(path);
    const nar = info && substitution ? await substitution.repairSource(info) : undefined;
    if (!info || !nar) return false;
    await store.addToStoreNar(info, nar, { repair: true });
    return true;
  };
}

/** buildPaths' --repair options: what no derivation here produced comes from the substituters. */
export function repairOptions(
  store: LocalBuildStore,
  substitution: Substitution | undefined,
  opts: RealiseOptions,
): Pick<BuildPathsOptions, 'repair' | 'repairOpaque'> {
  return opts.repair ? { repair: true, repairOpaque: repairFromSubstituters(store, substitution) } : {};
}

/**
 * Nix 2.8's repairPath once no substituter had the path: its deriver built again in repair mode
 * (throws if that build fails); false when it has no valid deriver here.
 */
export async function rebuildDeriver(
  store: Store,
  info: ValidPathInfo,
  settings: Settings,
  ctx: CommandContext,
  substitution: Substitution | undefined,
): Promise<boolean> {
  const drvPath = info.deriver;
  if (drvPath === undefined || !(await store.isValidPath(drvPath))) return false;
  await realisePaths(store, [{ kind: 'built', drvPath, outputs: ['*'] }], settings, ctx, {
    repair: true,
    ...(substitution ? { substitution } : {}),
  });
  return true;
}

/** The store builds for us (it is a daemon's) rather than this process building into it. */
export function buildsForUs(store: Store): store is DelegatingStore {
  return (
    typeof (store as { buildPaths?: unknown }).buildPaths === 'function' &&
    typeof (store as { registerValidPaths?: unknown }).registerValidPaths !== 'function'
  );
}

/** A daemon's failures point at `nix log` (its clients speak Nix's protocol); here it is tix's. */
function ownLogCommand(text: string): string {
  return text.replace(/For full logs, run 'nix log (\/[^']*)'\.$/m, "For full logs, run 'tix log $1'.");
}

/**
 * Has the store (a daemon) build `paths`, as nix-build does in a multi-user installation: the
 * daemon substitutes, schedules (on its own builders too) and builds; its log lines come back on
 * stderr. Failures are reported as the daemon words them.
 */
export async function realiseThroughStore(
  store: DelegatingStore,
  paths: DerivedPath[],
  ctx: CommandContext,
  opts: RealiseOptions = {},
): Promise<BuildPathsResult> {
  const out = buildOutputLog(ctx) ?? ((l: string) => ctx.err.write(`${l}\n`));
  // The daemon logs its failures as it goes; those are not repeated at the end.
  const loggedErrors = new Set<string>();
  const res = await store.buildPaths(paths, {
    mode: opts.repair ? BuildMode.Repair : opts.check ? BuildMode.Check : BuildMode.Normal,
    onLog: (line) => {
      if (line.startsWith('error: ')) loggedErrors.add(line);
      out(ownLogCommand(line));
    },
  });
  for (const { result } of res) result.errorMsg = ownLogCommand(result.errorMsg);
  const results = new Map<string, BuildResult>();
  const failed: string[] = [];
  for (const { path, result } of res) {
    // A path that could not be made valid fails the request too (2.8: "build of 'P' failed").
    if (path.kind !== 'built') {
      if (!isSuccess(result)) failed.push(path.path);
      continue;
    }
    results.set(path.drvPath, result);
    if (!isSuccess(result)) failed.push(path.drvPath);
  }
  if (failed.length > 0) {
    // Reported as a local build's (FailureReport), leaving out errors the daemon logged already.
    const report = new FailureReport(ctx, paths);
    for (const d of failed) {
      const r = results.get(d);
      if (r && !loggedErrors.has(`error: ${r.errorMsg.split('\n')[0]}`)) report.onResult(d, r);
    }
    throw report.finish(
      new BuildError('BUILD_FAILED', buildOfFailed(failed), {
        exitCode: exitCodeFor(results.values()) || 1,
        results,
        failed,
      }),
    );
  }
  const outputs = new Map<string, Map<string, string>>();
  for (const p of paths) {
    if (p.kind !== 'built') continue;
    // Old daemons (Nix 2.8's protocol 1.32) report no outputs: ask for the derivation's.
    const all = await store.queryDerivationOutputMap(p.drvPath);
    const wanted = p.outputs.includes('*') ? [...all.keys()] : p.outputs;
    outputs.set(p.drvPath, new Map(wanted.filter((o) => all.has(o)).map((o) => [o, all.get(o)!])));
  }
  return { results: results as BuildPathsResult['results'], outputs };
}

/** The store as one this process builds into (a local store), or the error that it is not. */
export function asBuildStore(store: Store): LocalBuildStore {
  for (const m of [
    'readDerivation',
    'registerValidPaths',
    'lockPaths',
    'toRealPath',
    'isValidPathSync',
    'buildLogPath',
  ]) {
    if (typeof (store as unknown as Record<string, unknown>)[m] !== 'function') {
      throw new CliError(
        'UNSUPPORTED',
        `store '${store.uri}' cannot build derivations: build into a local store, use a daemon's store (daemon, unix://…, ssh-ng://…), or build on remote machines with --builders`,
      );
    }
  }
  return store as LocalBuildStore;
}

export interface RealiseOptions {
  /** `--check`: build the requested derivations again and compare. */
  check?: boolean;
  /** `--repair`: damaged paths the request needs are built again or fetched again (build/repair.ts). */
  repair?: boolean;
  /**
   * The substituters to use, when the caller already opened them (and their narinfo lookups are
   * worth keeping); the caller closes them. Default: opened from the settings for this call.
   */
  substitution?: Substitution;
}

/** `opts.substitution`, or the settings' substituters with a close() for this call to run. */
export function substitutionFor(
  store: Store,
  settings: Settings,
  ctx: CommandContext,
  opts: RealiseOptions,
): { substitution: Substitution | undefined; close: () => Promise<void> } {
  if (opts.substitution) return { substitution: opts.substitution, close: async () => {} };
  const log = (line: string) => ctx.err.write(`${line}\n`);
  const substitution = substitutionFromSettings(store, settings, { env: ctx.env, log });
  return { substitution, close: async () => substitution?.close() };
}

/**
 * Builds what `paths` need (substituting from the `substituters` first), printing progress and
 * failures to ctx.err. Throws BuildError on failure.
 */
export async function realisePaths(
  store: Store,
  paths: DerivedPath[],
  settings: Settings,
  ctx: CommandContext,
  opts: RealiseOptions = {},
): Promise<BuildPathsResult> {
  if (buildsForUs(store)) return realiseThroughStore(store, paths, ctx, opts);
  const buildStore = asBuildStore(store);
  const report = new FailureReport(ctx, paths);
  const log = (line: string) => ctx.err.write(`${line}\n`);
  applyAutoGcSettings(buildStore, settings, log);
  const { substitution, close } = substitutionFor(buildStore, settings, ctx, opts);
  try {
    return await buildPaths(buildStore, paths, {
      ...repairOptions(buildStore, substitution, opts),
      maxJobs: settings.get('max-jobs'),
      keepGoing: settings.get('keep-going'),
      substitute: substitution?.hook,
      fallback: settings.get('fallback'),
      check: opts.check ?? false,
      postBuildHook: postBuildHookFrom(settings, ctx.env, log),
      onStart: (job) => {
        if (!quiet(ctx)) ctx.err.write(`${startVerb(job)} '${job.drvPath}'...\n`);
      },
      onResult: report.onResult,
      local: cliLocalBuildOptions(settings, ctx),
    });
  } catch (e) {
    throw report.finish(e);
  } finally {
    await close();
  }
}

/** Output paths of each top-level derived path: outputs in name order, opaque paths as given. */
export function realisedOutputs(
  paths: DerivedPath[],
  res: BuildPathsResult,
): { path: DerivedPath; outputs: [string, string][] }[] {
  return paths.map((p) => {
    if (p.kind === 'opaque') return { path: p, outputs: [['', p.path]] };
    const m = res.outputs.get(p.drvPath) ?? new Map<string, string>();
    return { path: p, outputs: [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
  });
}

/**
 * Local builds as the CLI runs them: builders' output goes to stderr (unless -Q), and as in Nix a
 * failure message repeats the last log lines only when they were not shown.
 */
export function cliLocalBuildOptions(settings: Settings, ctx: CommandContext): LocalBuildOptions {
  const onLogLine = buildOutputLog(ctx);
  return { ...localBuildOptions(settings, ctx.env), onLogLine, ...(onLogLine ? { logLines: 0 } : {}) };
}

/** `--quiet`: progress lines ("building '…'", what will be built) are left out. */
export function quiet(ctx: CommandContext): boolean {
  return (ctx.global.verbosity ?? 0) < 0;
}

/** Where builders' output lines go: stderr, or nowhere with -Q / --no-build-output. */
export function buildOutputLog(ctx: CommandContext): ((line: string) => void) | undefined {
  if (ctx.global.buildOutput === false) return undefined;
  return (line: string) => ctx.err.write(`${line}\n`);
}

/**
 * How `tix build` reports build failures, as Nix 2.8's worker does: a failed derivation that
 * others wait for is reported at once; a requested one (a top-level goal) is held, and at the end
 * the only one is the error, or the held ones are printed (the first last) before "build of …
 * failed". Each message's further lines are indented under `error: `.
 */
export class FailureReport {
  readonly #held = new Map<string, string>();
  readonly #top: Set<string>;
  constructor(
    private readonly ctx: CommandContext,
    paths: DerivedPath[],
  ) {
    this.#top = new Set(paths.flatMap((p) => (p.kind === 'built' ? [p.drvPath] : [])));
  }

  /** buildPaths' onResult. */
  readonly onResult = (drvPath: string, r: BuildResult): void => {
    if (isSuccess(r) || !r.errorMsg) return;
    if (this.#top.has(drvPath)) this.#held.set(drvPath, r.errorMsg);
    else this.ctx.err.write(errorText(r.errorMsg));
  };

  /** The error that ends the build, with the held failures in Nix's order. */
  finish(e: unknown): unknown {
    if (!(e instanceof BuildError) || e.failed === undefined) return e;
    const held = [...this.#top].flatMap((d) => {
      const m = this.#held.get(d);
      return m === undefined ? [] : [m];
    });
    if (held.length === 0) return e;
    const text =
      e.failed.length === 1 && held.length === 1
        ? errorText(held[0]!)
        : [...held.slice(1), held[0]!].map(errorText).join('') + errorText(e.message);
    e.format = () => text;
    return e;
  }
}

function errorText(msg: string): string {
  return `error: ${msg.replaceAll('\n', '\n       ')}\n`;
}
