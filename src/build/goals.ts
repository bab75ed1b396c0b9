// Realising a set of DerivedPaths: load the `.drv` files, work out which derivations must be
// built (a derivation whose wanted outputs are valid, or can be substituted through the caller's
// hook, is not built and its inputs are not needed; see plan.ts), and build them
// dependencies-first through an executor. The executor decides WHERE a derivation
// is built: the default one builds locally; a distributed scheduler passes its own.
import { availableParallelism } from 'node:os';
import type { Derivation } from '../formats/derivation.js';
import { BuildStatus, type DerivedPath, immediateResult } from '../store/store.js';
import { buildDerivationLocally, type LocalBuildOptions, type LocalBuildResult } from './build-one.js';
import { runDag } from './dag.js';
import { BuildError, buildOfFailed, exitCodeFor, isSuccess } from './errors.js';
import type { LocalBuildStore } from './local-store-view.js';
import { expandOutputs, planBuilds, type SubstituteHook } from './plan.js';
import { runPostBuildHook } from './post-build-hook.js';
import { type RepairOpaque, repairOpaquePaths, scanForRepair } from './repair.js';

export type { SubstituteHook, SubstituteOutcome } from './plan.js';

/** One derivation to build, as handed to an executor. */
export interface BuildJob {
  drvPath: string;
  drv: Derivation;
  /** The outputs somebody needs (a subset of drv.outputs' names). */
  wantedOutputs: string[];
  /** `--check`: build again and compare with the valid outputs (this machine only). */
  check?: boolean;
  /** `--repair`: damaged valid outputs are built again and replaced (this machine only). */
  repair?: boolean;
  /** With `repair`: paths already hashed by the repair scan, and whether they were good. */
  repairChecked?: ReadonlyMap<string, boolean>;
}

/** How Nix 2.8 announces a build, by its build mode: "building", "checking outputs of", … */
export function startVerb(job: Pick<BuildJob, 'check' | 'repair'>): string {
  return job.repair ? 'repairing outputs of' : job.check ? 'checking outputs of' : 'building';
}

/** Builds one derivation somewhere and reports how it went; must not throw for build failures. */
export type Executor = (job: BuildJob) => Promise<LocalBuildResult>;

export interface BuildPathsOptions {
  /** Where derivations are built; default: buildDerivationLocally with `local`. */
  executor?: Executor;
  /** `max-jobs`: executor calls in flight at once; 'auto' = number of CPUs; default 1. */
  maxJobs?: number | 'auto';
  /** `keep-going`; default false. */
  keepGoing?: boolean;
  /** Options of the default (local) executor. */
  local?: LocalBuildOptions;
  /** Called when a derivation starts building (not for already valid ones). */
  onStart?: (job: BuildJob) => void;
  /** Called with each derivation's result as it arrives (failures and substitutions included). */
  onResult?: (drvPath: string, result: LocalBuildResult) => void;
  /**
   * Substitution (`substituters`): before a derivation is built, its missing outputs are offered
   * here, and missing opaque paths too; default: no substitution.
   */
  substitute?: SubstituteHook;
  /** `fallback`: build derivations whose outputs failed to substitute; default false. */
  fallback?: boolean;
  /** `--check`: build the requested derivations again and compare the results with their outputs. */
  check?: boolean;
  /**
   * `--repair`: damaged paths among everything the request needs are repaired (repair.ts); those
   * no derivation here produced go to `repairOpaque`.
   */
  repair?: boolean;
  repairOpaque?: RepairOpaque;
  /** `post-build-hook`: run after every derivation that was built (post-build-hook.ts). */
  postBuildHook?: { program: string; env?: NodeJS.ProcessEnv; onLogLine?: (line: string) => void };
}

export interface BuildPathsResult {
  /** Per derivation that was considered: its result (AlreadyValid, Built, failures…). */
  results: Map<string, LocalBuildResult>;
  /** Requested output paths of the top-level derived paths that are now valid. */
  outputs: Map<string, Map<string, string>>;
}

/** The local executor: builds on this machine. */
export function localExecutor(store: LocalBuildStore, opts: LocalBuildOptions = {}): Executor {
  return (job) =>
    buildDerivationLocally(store, job.drvPath, job.drv, {
      ...opts,
      wantedOutputs: job.wantedOutputs,
      ...(job.check ? { check: true } : {}),
      ...(job.repair ? { repair: true, contentsChecked: job.repairChecked } : {}),
    });
}

/**
 * Builds `paths`. Resolves when everything requested is valid; throws BuildError (exitCode as Nix:
 * 100/101/102/104 or 1) after the builds it started have finished if anything failed.
 */
export async function buildPaths(
  store: LocalBuildStore,
  paths: DerivedPath[],
  opts: BuildPathsOptions = {},
): Promise<BuildPathsResult> {
  // The derivations being built (and what was asked for) must survive a GC meanwhile (auto-GC
  // included), as Nix's goals root their .drv: temp roots, the requested ones before reading them.
  for (const p of paths) await store.addTempRoot(p.kind === 'opaque' ? p.path : p.drvPath);
  await substituteOpaque(store, paths, opts.substitute);
  const checked = new Set(opts.check ? paths.flatMap((p) => (p.kind === 'built' ? [p.drvPath] : [])) : []);
  const tops = paths.flatMap((p) => (p.kind === 'built' ? [{ drvPath: p.drvPath, outputs: p.outputs }] : []));
  let repairChecked: ReadonlyMap<string, boolean> | undefined;
  if (opts.repair) {
    const scan = scanForRepair(store, paths);
    repairChecked = scan.checked;
    await repairOpaquePaths(scan.opaque, opts.repairOpaque);
    for (const d of scan.derivations) {
      checked.add(d);
      tops.push({ drvPath: d, outputs: ['*'] });
    }
  }
  const plan = await planBuilds(store, tops, {
    substitute: opts.substitute,
    fallback: opts.fallback,
    check: checked,
  });
  for (const drvPath of plan.nodes.keys()) await store.addTempRoot(drvPath);
  const executor = opts.executor ?? localExecutor(store, opts.local);
  const maxJobs = opts.maxJobs === 'auto' ? availableParallelism() : (opts.maxJobs ?? 1);
  if (maxJobs < 1 && plan.toBuild.size > 0) {
    throw new BuildError(
      'NO_SLOT',
      "unable to start any build; either increase '--max-jobs' or enable remote builds",
      { exitCode: 1 },
    );
  }
  const results = await runDag(plan.deps, {
    maxParallel: Math.max(1, maxJobs),
    keepGoing: opts.keepGoing ?? false,
    order: byGoalKey,
    run: async (drvPath) => {
      const node = plan.nodes.get(drvPath)!;
      const substituteFailed = plan.substituteFailed.get(drvPath);
      if (substituteFailed !== undefined) return failure(BuildStatus.TransientFailure, substituteFailed);
      if (plan.substituted.has(drvPath))
        return { ...alreadyValid(node.outputs), status: BuildStatus.Substituted };
      if (!plan.toBuild.has(drvPath)) return alreadyValid(node.outputs);
      const job: BuildJob = { drvPath, drv: node.drv, wantedOutputs: [...node.wanted].sort() };
      if (opts.repair) {
        job.repair = true;
        job.repairChecked = repairChecked;
      } else if (checked.has(drvPath)) job.check = true;
      opts.onStart?.(job);
      const r = await executor(job);
      const hook = opts.postBuildHook;
      if (!hook || r.status !== BuildStatus.Built || job.check) return r;
      try {
        await runPostBuildHook(hook.program, drvPath, r.builtOutputs.values(), hook);
      } catch (e) {
        if (!(e instanceof BuildError)) throw e;
        return { ...r, status: BuildStatus.MiscFailure, errorMsg: e.message };
      }
      return r;
    },
    isSuccess,
    dependencyFailed: (drvPath, failed) =>
      failure(
        BuildStatus.DependencyFailed,
        `${failed.length} dependencies of derivation '${drvPath}' failed to build`,
      ),
    onResult: (k, r) => {
      if (plan.toBuild.has(k) || plan.substituted.has(k) || !isSuccess(r)) opts.onResult?.(k, r);
    },
  });

  const failedTop = plan.top.filter(
    (d) => !isSuccess(results.get(d) ?? failure(BuildStatus.MiscFailure, 'not built')),
  );
  if (failedTop.length > 0 || [...results.values()].some((r) => !isSuccess(r))) {
    const failed =
      failedTop.length > 0 ? failedTop : [...results].filter(([, r]) => !isSuccess(r)).map(([k]) => k);
    throw new BuildError('BUILD_FAILED', buildOfFailed(failed), {
      exitCode: exitCodeFor(results.values()),
      results,
      failed,
    });
  }
  const outputs = new Map<string, Map<string, string>>();
  for (const p of paths) {
    if (p.kind !== 'built') continue;
    const node = plan.nodes.get(p.drvPath)!;
    const m = new Map<string, string>();
    for (const name of expandOutputs(p.outputs, node.drv)) m.set(name, node.outputs.get(name)!);
    outputs.set(p.drvPath, m);
  }
  return { results, outputs };
}

/**
 * Makes the missing opaque paths of a request valid through the hook; a path that stays missing
 * fails the request (naming the substitution's failure when there was one).
 */
async function substituteOpaque(
  store: LocalBuildStore,
  paths: DerivedPath[],
  substitute: SubstituteHook | undefined,
): Promise<void> {
  const missing = () =>
    paths.flatMap((p) => (p.kind === 'opaque' && !store.isValidPathSync(p.path) ? [p.path] : []));
  let failed: ReadonlyMap<string, Error> = new Map();
  if (substitute && missing().length > 0) failed = (await substitute(missing())).failed ?? failed;
  const still = missing();
  if (still.length === 0) return;
  const why = failed.get(still[0]!);
  // Without a substituter's error, 2.8 says only that the build failed (its substitution goals
  // keep their "no substituter" message in the build result).
  throw new BuildError(
    'MISSING_INPUT',
    why ? `cannot substitute path '${still[0]}': ${why.message}` : buildOfFailed(still),
    { exitCode: 1 },
  );
}

/**
 * The order in which ready derivations start: Nix 2.8's worker keeps its goals ordered by key,
 * the derivation's name and then its path, so with one build slot the same builds run first.
 */
function byGoalKey(a: string, b: string): number {
  const na = a.slice(a.lastIndexOf('/') + 34);
  const nb = b.slice(b.lastIndexOf('/') + 34);
  if (na !== nb) return na < nb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The result for a derivation whose outputs are all valid already. */
export function alreadyValid(outputs: Map<string, string>): LocalBuildResult {
  return immediateResult(BuildStatus.AlreadyValid, '', outputs);
}

function failure(status: LocalBuildResult['status'], errorMsg: string): LocalBuildResult {
  return { ...alreadyValid(new Map()), status, errorMsg };
}
