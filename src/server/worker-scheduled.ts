// Daemon builds through the distributed scheduler: one scheduler for the whole daemon (machine
// load counted across every client), and per client request an executor that carries that
// client's options and restrictions. A client with `max-jobs = 0` gets no local builds; one that
// set `builders = ""` (anybody may) gets no remote ones; a trusted client's own non-empty
// `builders` are added to the shared scheduler and its builds may use only those remotes. Each
// build attempt is a Build activity whose fields name the machine, as Nix's build hook reports it.
import type { LocalBuildOptions } from '../build/build-one.js';
import { isSuccess } from '../build/errors.js';
import { type Executor, startVerb } from '../build/goals.js';
import type { RequestContext } from '../distribute/distributed.js';
import { loadMachines } from '../distribute/machines-config.js';
import type { BuildMachine } from '../distribute/scheduler.js';
import type { Machine } from '../formats/machines.js';
import type { BuildOptions } from '../store/store.js';
import { ActivityType, ResultType, Verbosity } from '../store/worker-protocol.js';
import type { WorkerBuildContext } from './worker-context.js';

/** The daemon's shared scheduler (a DistributedBuilds) and what its remote builds default to. */
export interface WorkerScheduler {
  builds: {
    executorFor(ctx: RequestContext): Executor;
    addMachines(machines: Machine[]): string[];
    readonly maxParallel: number;
  };
  /** Options sent with remote builds (the daemon's settings; the client's timeouts override). */
  remote: BuildOptions;
  /** The daemon's `system`: systems of a client machines line that leaves them unset. */
  system: string;
}

/** Why a client request may not use a machine, from its SetOptions. */
export function clientRestrictions(
  sched: WorkerScheduler,
  ctx: WorkerBuildContext,
): (m: BuildMachine) => string | undefined {
  const noLocal = ctx.settings.maxBuildJobs === 0;
  const builders = ctx.settings.overrides.get('builders');
  let remotes: Set<string> | undefined;
  if (builders !== undefined && builders.trim() !== '') {
    remotes = new Set(sched.builds.addMachines(loadMachines({ builders, system: sched.system })));
  }
  return (m) => {
    if (m.isLocal) return noLocal ? 'local builds disabled by the client (max-jobs = 0)' : undefined;
    if (builders === undefined) return undefined;
    if (remotes === undefined) return "remote builds disabled by the client (builders = '')";
    return remotes.has(m.name) ? undefined : "not in the client's 'builders'";
  };
}

/** The executor of one client request: builds placed by the shared scheduler, shown as activities. */
export function clientExecutor(
  sched: WorkerScheduler,
  local: LocalBuildOptions,
  ctx: WorkerBuildContext,
  /** The derivations the client asked for: their errors are its answer, not logged. */
  requested: ReadonlySet<string>,
): Executor {
  const exclude = clientRestrictions(sched, ctx);
  const remote: BuildOptions = {
    ...sched.remote,
    maxSilentTime: local.maxSilentTime ?? sched.remote.maxSilentTime,
    buildTimeout: local.timeout ?? sched.remote.buildTimeout,
    keepFailed: local.keepFailed ?? sched.remote.keepFailed,
  };
  return async (job) => {
    let act: bigint | undefined;
    const stop = () => {
      if (act !== undefined) ctx.logger.stopActivity(act);
      act = undefined;
    };
    const run = sched.builds.executorFor({
      log: (line) => {
        if (act !== undefined) ctx.logger.result(act, ResultType.BuildLogLine, [line]);
        else ctx.logger.log(Verbosity.Info, line);
      },
      notice: (line) => ctx.logger.log(Verbosity.Info, line),
      // Why each build went where it did, for clients at -v (talkative) and above.
      explain: (text) => ctx.logger.log(Verbosity.Talkative, text),
      onStart: (drvPath, m) => {
        stop();
        const machine = m.isLocal ? '' : m.name;
        const verb = startVerb(job);
        const text = m.isLocal ? `${verb} '${drvPath}'` : `${verb} '${drvPath}' on '${m.name}'`;
        act = ctx.logger.startActivity(Verbosity.Info, ActivityType.Build, text, [drvPath, machine, 1, 1]);
      },
      exclude,
      local: { ...local, wantedOutputs: job.wantedOutputs },
      remote,
    });
    try {
      const r = await run(job);
      if (!isSuccess(r) && r.errorMsg && !requested.has(job.drvPath)) ctx.logger.error(r.errorMsg);
      return r;
    } finally {
      stop();
    }
  };
}
