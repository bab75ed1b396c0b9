// Distributed builds for the derivation DAG: one Scheduler over this machine and every configured
// remote builder, wrapped as the build layer's Executor. Remote builders' log lines are prefixed
// with the machine (`[ssh://hostA] line`); a build placed on a remote machine is announced as Nix
// does (`building '…' on 'ssh://hostA'`); retries after a machine failure print one notice each.
import type { LocalBuildOptions } from '../build/build-one.js';
import type { Executor } from '../build/goals.js';
import type { LocalBuildStore } from '../build/local-store-view.js';
import { getStringsAttr, parseDerivationAttrs } from '../build/parsed-derivation.js';
import type { Machine } from '../formats/machines.js';
import { type BuildOptions, type BuildResult, BuildStatus } from '../store/store.js';
import { type ConnectOptions, connectMachine } from './connect.js';
import { localMachine } from './local-machine.js';
import type { MachineHealth } from './machine-state.js';
import { RemoteMachine } from './remote-machine.js';
import { type BuildContext, type BuildMachine, type BuildRequest, Scheduler } from './scheduler.js';

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
  /** Each line of build output (remote ones prefixed). */
  onLogLine: (line: string) => void;
  /** One-line messages: remote placements, lost machines and retries. */
  notice: (line: string) => void;
  health?: MachineHealth;
  maxRetries?: number;
}

export interface DistributedBuilds {
  scheduler: Scheduler;
  remotes: RemoteMachine[];
  executor: Executor;
  /** Sum of every machine's slots: how many builds the DAG may start at once. */
  maxParallel: number;
  /** Closes the idle connections to every builder. */
  close(): Promise<void>;
}

/** Nix's requiredSystemFeatures of a derivation (plain or structured attrs). */
export function requiredFeatures(drvPath: string, drv: Parameters<typeof parseDerivationAttrs>[1]): string[] {
  return getStringsAttr(parseDerivationAttrs(drvPath, drv), 'requiredSystemFeatures') ?? [];
}

function announced(m: BuildMachine, notice: (line: string) => void): BuildMachine {
  if (m.isLocal) {
    return {
      ...m,
      build(req, ctx) {
        notice(`building '${req.drvPath}'...`);
        return m.build(req, ctx);
      },
    };
  }
  return {
    name: m.name,
    isLocal: m.isLocal,
    systems: m.systems,
    maxJobs: m.maxJobs,
    speedFactor: m.speedFactor,
    supportedFeatures: m.supportedFeatures,
    mandatoryFeatures: m.mandatoryFeatures,
    build(req: BuildRequest, ctx: BuildContext): Promise<BuildResult> {
      notice(`building '${req.drvPath}' on '${m.name}'`);
      return m.build(req, { log: (line) => ctx.log(`[${m.name}] ${line}`) });
    },
  };
}

function failed(errorMsg: string): BuildResult {
  const t = Math.floor(Date.now() / 1000);
  return {
    status: BuildStatus.MiscFailure,
    errorMsg,
    timesBuilt: 0,
    isNonDeterministic: false,
    startTime: t,
    stopTime: t,
    builtOutputs: new Map(),
  };
}

export function distributedBuilds(store: LocalBuildStore, opts: DistributedOptions): DistributedBuilds {
  const remotes = opts.machines.map(
    (m) =>
      new RemoteMachine(m, {
        local: store,
        readDerivation: async (p) => store.readDerivation(p),
        connect: (machine) => connectMachine(machine, opts.connect),
        buildOptions: opts.buildOptions,
        useSubstitutes: opts.useSubstitutes,
      }),
  );
  const local = localMachine(store, {
    maxJobs: opts.localMaxJobs,
    systems: opts.localSystems,
    features: opts.localFeatures,
    build: opts.local,
  });
  const machines = [local, ...remotes].map((m) => announced(m, opts.notice));
  const scheduler = new Scheduler(machines, {
    notice: opts.notice,
    health: opts.health,
    maxRetries: opts.maxRetries,
  });
  const executor: Executor = async (job) => {
    let features: string[];
    try {
      features = requiredFeatures(job.drvPath, job.drv);
    } catch (e) {
      return failed((e as Error).message);
    }
    const req = { drvPath: job.drvPath, system: job.drv.system, requiredFeatures: features };
    try {
      return await scheduler.build(req, { log: opts.onLogLine });
    } catch (e) {
      // Store-level failures around a remote build (an output that does not import, a local
      // store error) fail this derivation, not the whole run; programming errors still throw.
      if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') {
        return failed(`cannot build '${job.drvPath}': ${e.message}`);
      }
      throw e;
    }
  };
  const maxParallel = [local, ...remotes].reduce((n, m) => n + Math.max(0, m.maxJobs), 0);
  return {
    scheduler,
    remotes,
    executor,
    maxParallel,
    close: async () => {
      await Promise.all(remotes.map((r) => r.pool.closeAll()));
    },
  };
}
