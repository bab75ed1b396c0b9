// Building with remote builders from the CLI: `--builders SPEC` sets the `builders` setting; when
// the resulting machine list is empty, building is exactly the local realisePaths; otherwise the
// DAG runs through the distributed Scheduler (src/distribute) with this machine's `max-jobs`
// slots (0 = remote only) next to each builder's.
import { isSuccess } from '../build/errors.js';
import { type BuildPathsResult, buildPaths } from '../build/goals.js';
import type { LocalBuildStore } from '../build/local-store-view.js';
import type { Settings } from '../config/settings.js';
import { distributedBuilds } from '../distribute/distributed.js';
import { loadMachines } from '../distribute/machines-config.js';
import type { Machine } from '../formats/machines.js';
import type { DerivedPath, Store } from '../store/store.js';
import { flagValue, type ParsedArgs } from './args.js';
import { CliError } from './cli-error.js';
import type { FlagSetting } from './cli-settings.js';
import type { CommandContext } from './command.js';
import { realisePaths } from './realise.js';

/** `--builders SPEC` as a setting, for cliSettings(). */
export function buildersFlagSettings(args: ParsedArgs): FlagSetting[] {
  const v = flagValue(args, '--builders');
  return v === undefined ? [] : [['builders', v, '--builders']];
}

/** The remote machines the settings name. */
export function configuredMachines(settings: Settings): Machine[] {
  return loadMachines({ builders: settings.get('builders'), system: settings.get('system') });
}

function asBuildStore(store: Store): LocalBuildStore {
  if (typeof (store as Partial<LocalBuildStore>).readDerivation !== 'function') {
    throw new CliError('UNSUPPORTED', `store '${store.uri}' cannot build derivations locally`);
  }
  return store as LocalBuildStore;
}

/** realisePaths, offloading to the configured builders when there are any. */
export async function realiseWithBuilders(
  store: Store,
  paths: DerivedPath[],
  settings: Settings,
  ctx: CommandContext,
): Promise<BuildPathsResult> {
  const machines = configuredMachines(settings);
  if (machines.length === 0) return realisePaths(store, paths, settings, ctx);
  const buildStore = asBuildStore(store);
  const sandbox = settings.get('sandbox');
  const systems = [settings.get('system'), ...settings.get('extra-platforms')];
  const onLogLine = (line: string) => ctx.err.write(`${line}\n`);
  const dist = distributedBuilds(buildStore, {
    machines,
    localMaxJobs: settings.get('max-jobs'),
    localSystems: systems,
    localFeatures: settings.get('system-features'),
    local: {
      sandbox: sandbox === 'relaxed' ? 'relaxed' : sandbox ? 'true' : 'false',
      sandboxPaths:
        settings.origin('sandbox-paths') === 'default' ? undefined : settings.get('sandbox-paths'),
      buildCores: settings.get('cores'),
      maxSilentTime: settings.get('max-silent-time'),
      timeout: settings.get('timeout'),
      logLines: settings.get('log-lines'),
      keepFailed: settings.get('keep-failed'),
      callerEnv: ctx.env,
    },
    buildOptions: {
      maxSilentTime: settings.get('max-silent-time'),
      buildTimeout: settings.get('timeout'),
      maxLogSize: settings.get('max-build-log-size'),
      keepFailed: settings.get('keep-failed'),
    },
    useSubstitutes: settings.get('builders-use-substitutes'),
    connect: { env: ctx.env, connectTimeout: settings.get('connect-timeout') },
    onLogLine,
    notice: onLogLine,
  });
  try {
    return await buildPaths(buildStore, paths, {
      executor: dist.executor,
      maxJobs: dist.maxParallel,
      keepGoing: settings.get('keep-going'),
      onResult: (_drvPath, r) => {
        if (!isSuccess(r) && r.errorMsg) ctx.err.write(`error: ${r.errorMsg}\n`);
      },
    });
  } finally {
    await dist.close();
  }
}
