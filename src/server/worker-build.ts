// The daemon's WorkerBuilder over this machine's store: BuildPaths and friends run through the
// local build layer (src/build) with the client's SetOptions applied — or, when the daemon has a
// distributed scheduler (one shared by all its clients), through it, so that builds go to this
// machine or a remote builder wherever a slot is free. Each derivation is a Build activity on the
// client's stderr stream (naming the machine when remote, as Nix's hook does) and its output
// lines are BuildLogLine results.
import { buildDerivationLocally, type LocalBuildOptions } from '../build/build-one.js';
import { BuildError, exitCodeFor, isSuccess } from '../build/errors.js';
import { buildPaths, type SubstituteHook, startVerb } from '../build/goals.js';
import type { LocalBuildStore } from '../build/local-store-view.js';
import type { BasicDerivation } from '../formats/derivation.js';
import { hashDerivationModulo, makeInputHasher } from '../formats/derivation-hash.js';
import { printHash } from '../formats/hash.js';
import { StoreError } from '../store/errors.js';
import {
  BuildMode,
  type BuildResult,
  BuildStatus,
  type DerivedPath,
  immediateResult,
} from '../store/store.js';
import { ActivityType, ResultType, Verbosity } from '../store/worker-protocol.js';
import type { KeyedBuildResult, WorkerBuildContext, WorkerBuilder } from './worker-context.js';
import { clientExecutor, type WorkerScheduler } from './worker-scheduled.js';

function num(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** The daemon's own build options, overridden by what the client may set. */
export function clientBuildOptions(base: LocalBuildOptions, ctx: WorkerBuildContext): LocalBuildOptions {
  const s = ctx.settings;
  const o = s.overrides;
  const sandbox = o.get('sandbox');
  return {
    ...base,
    keepFailed: s.keepFailed,
    maxSilentTime: num(o.get('max-silent-time')) ?? s.maxSilentTime,
    timeout: num(o.get('timeout')) ?? base.timeout,
    maxLogSize: num(o.get('max-build-log-size')) ?? base.maxLogSize,
    buildCores: s.buildCores > 0 ? s.buildCores : base.buildCores,
    sandbox: sandbox === 'true' || sandbox === 'false' || sandbox === 'relaxed' ? sandbox : base.sandbox,
    logCommand: 'nix log',
    signal: ctx.signal,
  };
}

/** Runs one derivation build as a Build activity, forwarding its log lines. */
async function asActivity(
  ctx: WorkerBuildContext,
  drvPath: string,
  run: (onLogLine: (l: string) => void) => Promise<BuildResult>,
  requested: ReadonlySet<string>,
  verb = 'building',
) {
  const act = ctx.logger.startActivity(Verbosity.Info, ActivityType.Build, `${verb} '${drvPath}'`, [
    drvPath,
    '',
    1,
    1,
  ]);
  try {
    const r = await run((line) => ctx.logger.result(act, ResultType.BuildLogLine, [line]));
    if (!isSuccess(r) && r.errorMsg && !requested.has(drvPath)) ctx.logger.error(r.errorMsg);
    return r;
  } finally {
    ctx.logger.stopActivity(act);
  }
}

/** BuildDerivation (a remote build of one derivation) takes only Normal; BuildPaths takes every mode. */
function checkMode(mode: BuildMode): void {
  if (mode !== BuildMode.Normal) {
    throw new StoreError(
      'UNSUPPORTED',
      `build mode '${mode === BuildMode.Repair ? 'repair' : 'check'}' is not supported by the tix daemon`,
    );
  }
}

export interface LocalWorkerBuilderOptions {
  scheduler?: WorkerScheduler;
  /**
   * The daemon's substituters for one BuildPaths request (used unless the client turned
   * substitution off; the client's `fallback` applies); undefined: none.
   */
  substitution?: () => { hook: SubstituteHook; close(): Promise<void> } | undefined;
  /** The daemon's `post-build-hook` program ('' or undefined: none); its output goes to the client. */
  postBuildHook?: string;
}

export function localWorkerBuilder(
  store: LocalBuildStore,
  base: LocalBuildOptions = {},
  opts: LocalWorkerBuilderOptions = {},
): WorkerBuilder {
  const sched = opts.scheduler;
  const outputIdOf = (drvPath: string) => {
    const inputHash = makeInputHasher((p) => store.readDerivation(p), { storeDir: store.storeDir });
    let h: string | undefined;
    return (name: string) => {
      h ??= printHash(
        hashDerivationModulo(store.readDerivation(drvPath), {
          maskOutputs: true,
          inputHash,
          storeDir: store.storeDir,
        }),
        'base16',
        { prefix: true },
      );
      return `${h}!${name}`;
    };
  };

  return {
    async buildPaths(paths, ctx) {
      // Every mode: check and repair (nix-build --check / --repair through the daemon) build on
      // this machine; check compares with the valid outputs, repair replaces damaged ones (the
      // client must be trusted, see checkRepair).
      const local = clientBuildOptions(base, ctx);
      // As 2.8's goals: a failed dependency's error is logged as it happens; the requested
      // derivations' own are the request's answer.
      const requested = new Set(paths.flatMap((p) => (p.kind === 'built' ? [p.drvPath] : [])));
      let results = new Map<string, BuildResult>();
      let failure: { message: string; exitStatus: number; builds: boolean } | undefined;
      const substitution = ctx.settings.useSubstitutes ? opts.substitution?.() : undefined;
      try {
        const res = await buildPaths(store, paths, {
          substitute: substitution?.hook,
          fallback: ctx.settings.tryFallback,
          maxJobs: sched ? sched.builds.maxParallel : ctx.settings.maxBuildJobs,
          keepGoing: ctx.settings.keepGoing,
          check: ctx.mode === BuildMode.Check,
          repair: ctx.mode === BuildMode.Repair,
          postBuildHook: opts.postBuildHook
            ? { program: opts.postBuildHook, onLogLine: (line) => ctx.logger.log(Verbosity.Info, line) }
            : undefined,
          executor: sched
            ? clientExecutor(sched, local, ctx, requested)
            : (job) =>
                asActivity(
                  ctx,
                  job.drvPath,
                  (onLogLine) =>
                    buildDerivationLocally(store, job.drvPath, job.drv, {
                      ...local,
                      wantedOutputs: job.wantedOutputs,
                      onLogLine,
                      ...(job.check ? { check: true } : {}),
                      ...(job.repair ? { repair: true } : {}),
                    }),
                  requested,
                  startVerb(job),
                ),
        });
        results = res.results;
      } catch (e) {
        if (!(e instanceof BuildError)) throw e;
        results = e.results ?? new Map();
        // As Nix 2.8: one failed path reports its own error (the builder's, with its last log
        // lines); several, that the build of them failed.
        const only = e.failed?.length === 1 ? results.get(e.failed[0]!)?.errorMsg : undefined;
        failure = {
          message: only || e.message,
          exitStatus: e.results ? exitCodeFor(e.results.values()) || e.exitCode : e.exitCode,
          builds: e.results !== undefined,
        };
      } finally {
        await substitution?.close();
      }
      const keyed: KeyedBuildResult[] = [];
      for (const p of paths) keyed.push(await keyedResult(p, results, failure));
      return { results: keyed, failure };
    },

    async buildDerivation(drvPath: string, drv: BasicDerivation, ctx) {
      checkMode(ctx.mode);
      const local = { ...clientBuildOptions(base, ctx), inMemoryDerivation: true };
      if (sched) {
        const full = { ...drv, inputDrvs: new Map<string, string[]>() };
        return clientExecutor(
          sched,
          local,
          ctx,
          new Set([drvPath]),
        )({ drvPath, drv: full, wantedOutputs: [...drv.outputs.keys()] });
      }
      return asActivity(
        ctx,
        drvPath,
        (onLogLine) => buildDerivationLocally(store, drvPath, drv, { ...local, onLogLine }),
        new Set([drvPath]),
      );
    },
  };

  async function keyedResult(
    p: DerivedPath,
    results: Map<string, BuildResult>,
    failure: { message: string; builds: boolean } | undefined,
  ): Promise<KeyedBuildResult> {
    if (p.kind === 'opaque') {
      const valid = store.isValidPathSync(p.path);
      const result = valid
        ? immediateResult(BuildStatus.AlreadyValid)
        : immediateResult(BuildStatus.MiscFailure, failure?.message ?? `path '${p.path}' is not valid`);
      return { path: p, result, outputId: () => '' };
    }
    // Not built: the request's error when it failed before any build (a missing derivation, say);
    // none of its own when another build failed and stopped the rest (no --keep-going), as 2.8.
    const r =
      results.get(p.drvPath) ??
      immediateResult(
        BuildStatus.MiscFailure,
        failure === undefined
          ? `derivation '${p.drvPath}' was not built`
          : failure.builds
            ? ''
            : failure.message,
      );
    const all = p.outputs.includes('*');
    const builtOutputs = new Map([...r.builtOutputs].filter(([name]) => all || p.outputs.includes(name)));
    return { path: p, result: { ...r, builtOutputs }, outputId: outputIdOf(p.drvPath) };
  }
}
