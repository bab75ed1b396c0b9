// Realising a set of DerivedPaths: load the `.drv` files, work out which derivations must be
// built (a derivation whose wanted outputs are valid is not built and its inputs are not needed),
// and build them dependencies-first through an executor. The executor decides WHERE a derivation
// is built: the default one builds locally; a distributed scheduler passes its own.
import { availableParallelism } from 'node:os';
import type { Derivation } from '../formats/derivation.js';
import { BuildStatus, type DerivedPath } from '../store/store.js';
import { buildDerivationLocally, type LocalBuildOptions, type LocalBuildResult } from './build-one.js';
import { runDag } from './dag.js';
import { BuildError, exitCodeFor, isSuccess } from './errors.js';
import type { LocalBuildStore } from './local-store-view.js';

/** One derivation to build, as handed to an executor. */
export interface BuildJob {
  drvPath: string;
  drv: Derivation;
  /** The outputs somebody needs (a subset of drv.outputs' names). */
  wantedOutputs: string[];
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
  /** Called with each derivation's result as it arrives (failures included). */
  onResult?: (drvPath: string, result: LocalBuildResult) => void;
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
    buildDerivationLocally(store, job.drvPath, job.drv, { ...opts, wantedOutputs: job.wantedOutputs });
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
  const missingOpaque = paths.filter((p) => p.kind === 'opaque' && !store.isValidPathSync(p.path));
  if (missingOpaque.length > 0) {
    const p = missingOpaque[0]! as { path: string };
    throw new BuildError(
      'MISSING_INPUT',
      `path '${p.path}' is required, but there is no substituter that can build it`,
      {
        exitCode: 1,
      },
    );
  }
  // The derivations being built (and what was asked for) must survive a GC meanwhile (auto-GC
  // included), as Nix's goals root their .drv: temp roots, the requested ones before reading them.
  for (const p of paths) await store.addTempRoot(p.kind === 'opaque' ? p.path : p.drvPath);
  const plan = planBuilds(store, paths);
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
    run: async (drvPath) => {
      const node = plan.nodes.get(drvPath)!;
      if (!plan.toBuild.has(drvPath)) return alreadyValid(node.outputs);
      const job: BuildJob = { drvPath, drv: node.drv, wantedOutputs: [...node.wanted].sort() };
      opts.onStart?.(job);
      return executor(job);
    },
    isSuccess,
    dependencyFailed: (drvPath, failed) =>
      failure(
        BuildStatus.DependencyFailed,
        `${failed.length} dependencies of derivation '${drvPath}' failed to build`,
      ),
    onResult: (k, r) => {
      if (plan.toBuild.has(k) || !isSuccess(r)) opts.onResult?.(k, r);
    },
  });

  const failedTop = plan.top.filter(
    (d) => !isSuccess(results.get(d) ?? failure(BuildStatus.MiscFailure, 'not built')),
  );
  if (failedTop.length > 0 || [...results.values()].some((r) => !isSuccess(r))) {
    const failed =
      failedTop.length > 0 ? failedTop : [...results].filter(([, r]) => !isSuccess(r)).map(([k]) => k);
    throw new BuildError('BUILD_FAILED', `build of ${failed.map((d) => `'${d}'`).join(', ')} failed`, {
      exitCode: exitCodeFor(results.values()),
      results,
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

interface PlanNode {
  drv: Derivation;
  wanted: Set<string>;
  outputs: Map<string, string>;
}

interface Plan {
  nodes: Map<string, PlanNode>;
  deps: Map<string, string[]>;
  toBuild: Set<string>;
  top: string[];
}

function expandOutputs(names: string[], drv: Derivation): string[] {
  return names.includes('*') ? [...drv.outputs.keys()] : names;
}

/** Which derivations need building (wanted outputs not all valid) and their dependency edges. */
function planBuilds(store: LocalBuildStore, paths: DerivedPath[]): Plan {
  const nodes = new Map<string, PlanNode>();
  const queue: string[] = [];
  const want = (drvPath: string, names: string[]) => {
    let node = nodes.get(drvPath);
    if (!node) {
      if (!store.isValidPathSync(drvPath)) {
        throw new BuildError('MISSING_INPUT', `path '${drvPath}' is not valid`, { exitCode: 1 });
      }
      const drv = store.readDerivation(drvPath);
      const outputs = new Map([...drv.outputs].map(([n, o]) => [n, o.path]));
      node = { drv, wanted: new Set(), outputs };
      nodes.set(drvPath, node);
    }
    let grew = false;
    for (const n of expandOutputs(names, node.drv)) {
      if (!node.drv.outputs.has(n)) {
        throw new BuildError('BAD_DRV', `derivation '${drvPath}' does not have wanted outputs '${n}'`, {
          exitCode: 1,
        });
      }
      if (!node.wanted.has(n)) {
        node.wanted.add(n);
        grew = true;
      }
    }
    if (grew) queue.push(drvPath);
  };
  const top: string[] = [];
  for (const p of paths) {
    if (p.kind !== 'built') continue;
    want(p.drvPath, p.outputs.length > 0 ? p.outputs : ['*']);
    top.push(p.drvPath);
  }
  const toBuild = new Set<string>();
  while (queue.length > 0) {
    const drvPath = queue.shift()!;
    const node = nodes.get(drvPath)!;
    const allValid = [...node.wanted].every((n) => {
      const q = node.outputs.get(n)!;
      return q !== '' && store.isValidPathSync(q);
    });
    if (allValid || toBuild.has(drvPath)) continue;
    toBuild.add(drvPath);
    for (const [inDrv, names] of node.drv.inputDrvs) want(inDrv, names);
  }
  const deps = new Map<string, string[]>();
  for (const [drvPath, node] of nodes)
    deps.set(drvPath, toBuild.has(drvPath) ? [...node.drv.inputDrvs.keys()] : []);
  return { nodes, deps, toBuild, top: [...new Set(top)] };
}

function alreadyValid(outputs: Map<string, string>): LocalBuildResult {
  const now = Math.floor(Date.now() / 1000);
  return {
    status: BuildStatus.AlreadyValid,
    errorMsg: '',
    timesBuilt: 0,
    isNonDeterministic: false,
    startTime: now,
    stopTime: now,
    builtOutputs: outputs,
  };
}

function failure(status: LocalBuildResult['status'], errorMsg: string): LocalBuildResult {
  return { ...alreadyValid(new Map()), status, errorMsg };
}
