// Distributed builds for the derivation DAG: one Scheduler over this machine and every configured
// remote builder, wrapped as the build layer's Executor. One DistributedBuilds may serve many
// requests at once (`tix daemon` shares one between all its clients): each request gets its own
// executor (executorFor) with its own log, options and allowed machines, while machine load is
// counted across all of them, and a derivation already being built for one request is not built
// again for another — the second waits for the first's result. By default remote builders' log
// lines are prefixed with the machine (`[ssh://hostA] line`), a build placed on a remote machine
// is announced as Nix does (`building '…' on 'ssh://hostA'`), and each retry after a machine
// failure prints one notice.
import type { LocalBuildOptions } from '../build/build-one.js';
import { type BuildJob, type Executor, startVerb } from '../build/goals.js';
import type { LocalBuildStore } from '../build/local-store-view.js';
import { getBoolAttr, getStringsAttr, parseDerivationAttrs } from '../build/parsed-derivation.js';
import type { Machine } from '../formats/machines.js';
import { type BuildOptions, type BuildResult, BuildStatus, immediateResult } from '../store/store.js';
import { type ConnectOptions, connectMachine } from './connect.js';
import { localMachine } from './local-machine.js';
import type { MachineHealth } from './machine-state.js';
import { isSuccess, RemoteMachine } from './remote-machine.js';
import { type BuildContext, type BuildMachine, Scheduler } from './scheduler.js';

export interface DistributedOptions {
  machines: Machine[];
  /** `max-jobs`: local build slots (0 = remote only). */
  localMaxJobs: number;
  /** `system` then `extra-platforms`. */
  localSystems: string[];
  /** `system-features`. */
  localFeatures: string[];
  /** Options of local builds. */
  local: LocalBuildOptions;
  /** Sent with every remote build (timeouts, log limit, keep-failed). */
  buildOptions: BuildOptions;
  /** `builders-use-substitutes`. */
  useSubstitutes: boolean;
  connect: ConnectOptions;
  /** Each line of build output (remote ones prefixed) of `executor`. */
  onLogLine: (line: string) => void;
  /** One-line messages of `executor`: remote placements, lost machines and retries. */
  notice: (line: string) => void;
  /** Where the line announcing each build goes (`building '…' on '…'`); default: `notice`. */
  progress?: (line: string) => void;
  /** Where why each build went to its machine goes (`-v`); default nowhere. */
  explain?: (text: string) => void;
  health?: MachineHealth;
  maxRetries?: number;
}

/** One request's context for executorFor (see BuildContext); `log` gets lines of every build. */
export type RequestContext = Omit<BuildContext, 'log' | 'onStart'> & {
  log: (line: string) => void;
  /** Called when a build starts on a machine; default: announce it and prefix remote log lines. */
  onStart?: (drvPath: string, machine: BuildMachine) => void;
  /** Per-build log (replaces `log` for that build's lines), e.g. a daemon client's activity. */
  logFor?: (drvPath: string) => (line: string) => void;
};

export interface DistributedBuilds {
  scheduler: Scheduler;
  remotes: RemoteMachine[];
  /** The executor with the options given to distributedBuilds. */
  executor: Executor;
  /** An executor for one request with its own log, options and machine restrictions. */
  executorFor(ctx: RequestContext): Executor;
  /** Adds machines not yet known (by store URI); returns the names of all of `machines`. */
  addMachines(machines: Machine[]): string[];
  /** Sum of every machine's slots: how many builds the DAG may start at once. */
  readonly maxParallel: number;
  /** Closes the idle connections to every builder. */
  close(): Promise<void>;
}

/** Nix's requiredSystemFeatures of a derivation (plain or structured attrs). */
export function requiredFeatures(drvPath: string, drv: Parameters<typeof parseDerivationAttrs>[1]): string[] {
  return getStringsAttr(parseDerivationAttrs(drvPath, drv), 'requiredSystemFeatures') ?? [];
}

/** The placement facts of a derivation: required features and `preferLocalBuild`. */
function placementAttrs(
  drvPath: string,
  drv: Parameters<typeof parseDerivationAttrs>[1],
): { requiredFeatures: string[]; preferLocal: boolean } {
  const parsed = parseDerivationAttrs(drvPath, drv);
  return {
    requiredFeatures: getStringsAttr(parsed, 'requiredSystemFeatures') ?? [],
    preferLocal: getBoolAttr(parsed, 'preferLocalBuild'),
  };
}

interface InFlight {
  result: Promise<BuildResult>;
  signal?: AbortSignal;
}

export function distributedBuilds(store: LocalBuildStore, opts: DistributedOptions): DistributedBuilds {
  const newRemote = (m: Machine) =>
    new RemoteMachine(m, {
      local: store,
      readDerivation: async (p) => store.readDerivation(p),
      connect: (machine) => connectMachine(machine, opts.connect),
      buildOptions: opts.buildOptions,
      useSubstitutes: opts.useSubstitutes,
    });
  const remotes: RemoteMachine[] = [];
  for (const m of opts.machines) if (!remotes.some((r) => r.name === m.storeUri)) remotes.push(newRemote(m));
  const local = localMachine(store, {
    maxJobs: opts.localMaxJobs,
    systems: opts.localSystems,
    features: opts.localFeatures,
    build: opts.local,
  });
  const scheduler = new Scheduler([local, ...remotes], {
    notice: opts.notice,
    health: opts.health,
    maxRetries: opts.maxRetries,
  });
  const inFlight = new Map<string, InFlight>();

  const run = async (job: BuildJob, ctx: RequestContext): Promise<BuildResult> => {
    let attrs: ReturnType<typeof placementAttrs>;
    try {
      attrs = placementAttrs(job.drvPath, job.drv);
    } catch (e) {
      return immediateResult(BuildStatus.MiscFailure, (e as Error).message);
    }
    const req = {
      drvPath: job.drvPath,
      system: job.drv.system,
      ...attrs,
      drv: job.drv,
      ...(job.check ? { check: true } : {}),
      ...(job.repair ? { repair: true } : {}),
    };
    const notice = ctx.notice ?? opts.notice;
    const progress = ctx.notice ?? opts.progress ?? opts.notice;
    const log = ctx.logFor?.(job.drvPath) ?? ctx.log;
    let prefix = '';
    const buildCtx: BuildContext = {
      ...ctx,
      notice,
      explain: ctx.explain ?? opts.explain,
      log: (line) => log(prefix + line),
      onStart: (m) => {
        if (ctx.onStart) return ctx.onStart(job.drvPath, m);
        const verb = startVerb(job);
        progress(m.isLocal ? `${verb} '${job.drvPath}'...` : `${verb} '${job.drvPath}' on '${m.name}'`);
        prefix = m.isLocal ? '' : `[${m.name}] `;
      },
    };
    try {
      return await scheduler.build(req, buildCtx);
    } catch (e) {
      // Store-level failures around a remote build (an output that does not import, a local
      // store error) fail this derivation, not the whole run; programming errors still throw.
      if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') {
        return immediateResult(BuildStatus.MiscFailure, `cannot build '${job.drvPath}': ${e.message}`);
      }
      throw e;
    }
  };

  const executorFor =
    (ctx: RequestContext): Executor =>
    async (job) => {
      // A build of the same derivation for another request: wait for it instead of building
      // again. If that request was abandoned (its client hung up) and its build failed, build.
      for (;;) {
        const other = inFlight.get(job.drvPath);
        if (!other) break;
        const r = await other.result;
        if (isSuccess(r.status) || !other.signal?.aborted) return r;
      }
      const mine: InFlight = { result: run(job, ctx), signal: ctx.local?.signal };
      inFlight.set(job.drvPath, mine);
      try {
        return await mine.result;
      } finally {
        if (inFlight.get(job.drvPath) === mine) inFlight.delete(job.drvPath);
      }
    };

  return {
    scheduler,
    remotes,
    executor: executorFor({ log: opts.onLogLine, notice: opts.notice }),
    executorFor,
    addMachines(machines) {
      for (const m of machines) {
        if (scheduler.machines.some((x) => x.name === m.storeUri)) continue;
        const r = newRemote(m);
        remotes.push(r);
        scheduler.machines.push(r);
      }
      return machines.map((m) => m.storeUri);
    },
    get maxParallel() {
      return scheduler.machines.reduce((n, m) => n + Math.max(0, m.maxJobs), 0);
    },
    close: async () => {
      await Promise.all(remotes.map((r) => r.pool.closeAll()));
    },
  };
}
