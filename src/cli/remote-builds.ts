// Building with remote builders from the CLI: `--builders SPEC` sets the `builders` setting; when
// the resulting machine list is empty, building is exactly the local realisePaths; otherwise the
// DAG runs through the distributed Scheduler (src/distribute) with this machine's `max-jobs`
// slots (0 = remote only) next to each builder's.
import type { LocalBuildOptions } from '../build/build-one.js';
import { type BuildPathsResult, buildPaths } from '../build/goals.js';
import type { LocalBuildStore } from '../build/local-store-view.js';
import type { Settings } from '../config/settings.js';
import { prewarmMachine } from '../distribute/connect.js';
import { type DistributedBuilds, distributedBuilds } from '../distribute/distributed.js';
import { loadMachines } from '../distribute/machines-config.js';
import type { Machine } from '../formats/machines.js';
import type { DerivedPath, Store } from '../store/store.js';
import { flagValue, type ParsedArgs } from './args.js';
import { applyAutoGcSettings, localBuildOptions, remoteBuildOptions } from './build-settings.js';
import type { FlagSetting } from './cli-settings.js';
import type { CommandContext } from './command.js';
import {
  asBuildStore,
  buildOutputLog,
  buildsForUs,
  cliLocalBuildOptions,
  FailureReport,
  postBuildHookFrom,
  quiet,
  type RealiseOptions,
  realisePaths,
  repairOptions,
  substitutionFor,
} from './realise.js';

/** `--builders SPEC` as a setting, for cliSettings(). */
export function buildersFlagSettings(args: ParsedArgs): FlagSetting[] {
  const v = flagValue(args, '--builders');
  return v === undefined ? [] : [['builders', v, '--builders']];
}

/** The remote machines the settings name. */
export function configuredMachines(settings: Settings): Machine[] {
  return loadMachines({ builders: settings.get('builders'), system: settings.get('system') });
}

/** The distributed builds the settings describe: their `builders`, and `max-jobs` local slots. */
export function distributedFromSettings(
  store: LocalBuildStore,
  settings: Settings,
  opts: {
    env: NodeJS.ProcessEnv;
    onLogLine: (line: string) => void;
    notice: (line: string) => void;
    progress?: (line: string) => void;
    /** Why each build went where it did (with -v). */
    explain?: (text: string) => void;
    machines?: Machine[];
    /** Options of local builds; default: the settings'. */
    local?: LocalBuildOptions;
  },
): DistributedBuilds {
  return distributedBuilds(store, {
    machines: opts.machines ?? configuredMachines(settings),
    localMaxJobs: settings.get('max-jobs'),
    localSystems: [settings.get('system'), ...settings.get('extra-platforms')],
    localFeatures: settings.get('system-features'),
    local: opts.local ?? localBuildOptions(settings, opts.env),
    buildOptions: remoteBuildOptions(settings),
    useSubstitutes: settings.get('builders-use-substitutes'),
    connect: { env: opts.env, connectTimeout: settings.get('connect-timeout') },
    onLogLine: opts.onLogLine,
    notice: opts.notice,
    progress: opts.progress,
    explain: opts.explain,
  });
}

/**
 * With `max-jobs = 0` every build goes to a builder: start their SSH connections now, so the
 * handshakes overlap evaluation and planning (an unneeded one is closed at exit).
 */
export function prewarmRemoteOnly(settings: Settings, ctx: CommandContext): void {
  if (settings.get('max-jobs') !== 0) return;
  let machines: Machine[];
  try {
    machines = configuredMachines(settings);
  } catch {
    return; // a bad machines list is reported when the build needs it
  }
  const connect = { env: ctx.env, connectTimeout: settings.get('connect-timeout') };
  for (const m of machines) void prewarmMachine(m, connect);
}

/** realisePaths, offloading to the configured builders when there are any. */
export async function realiseWithBuilders(
  store: Store,
  paths: DerivedPath[],
  settings: Settings,
  ctx: CommandContext,
  opts: RealiseOptions = {},
): Promise<BuildPathsResult> {
  const machines = configuredMachines(settings);
  // A daemon's store is built by the daemon, with its builders and the ones this client sends.
  if (machines.length === 0 || buildsForUs(store)) return realisePaths(store, paths, settings, ctx, opts);
  const buildStore = asBuildStore(store);
  const report = new FailureReport(ctx, paths);
  const onLogLine = (line: string) => ctx.err.write(`${line}\n`);
  applyAutoGcSettings(buildStore, settings, onLogLine);
  const dist = distributedFromSettings(buildStore, settings, {
    env: ctx.env,
    onLogLine: buildOutputLog(ctx) ?? (() => {}),
    notice: onLogLine,
    progress: quiet(ctx) ? () => {} : onLogLine,
    explain: (ctx.global.verbosity ?? 0) >= 1 ? onLogLine : undefined,
    local: cliLocalBuildOptions(settings, ctx),
    machines,
  });
  const { substitution, close } = substitutionFor(buildStore, settings, ctx, opts);
  try {
    return await buildPaths(buildStore, paths, {
      ...repairOptions(buildStore, substitution, opts),
      executor: dist.executor,
      maxJobs: dist.maxParallel,
      keepGoing: settings.get('keep-going'),
      substitute: substitution?.hook,
      fallback: settings.get('fallback'),
      check: opts.check ?? false,
      postBuildHook: postBuildHookFrom(settings, ctx.env, onLogLine),
      onResult: report.onResult,
    });
  } catch (e) {
    throw report.finish(e);
  } finally {
    await close();
    await dist.close();
  }
}
