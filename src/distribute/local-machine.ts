// This machine as a BuildMachine: builds run through the build layer (buildDerivationLocally) in
// the local store. Its slots are the `max-jobs` setting (0 = remote builds only), its systems are
// `system` plus `extra-platforms`, its features `system-features`; it never has mandatory features.
import { buildDerivationLocally, type LocalBuildOptions } from '../build/build-one.js';
import type { LocalBuildStore } from '../build/local-store-view.js';
import type { BuildResult } from '../store/store.js';
import type { BuildContext, BuildMachine, BuildRequest } from './scheduler.js';

export interface LocalMachineOptions {
  maxJobs: number;
  /** `system` first, then `extra-platforms`. */
  systems: string[];
  /** `system-features`. */
  features: string[];
  /** Options for local builds (sandbox, cores, timeouts…) unless the request brings its own; onLogLine is set per build. */
  build: LocalBuildOptions;
}

export function localMachine(store: LocalBuildStore, opts: LocalMachineOptions): BuildMachine {
  return {
    name: 'local',
    isLocal: true,
    systems: opts.systems,
    maxJobs: opts.maxJobs,
    speedFactor: 1,
    supportedFeatures: opts.features,
    mandatoryFeatures: [],
    build(req: BuildRequest, ctx: BuildContext): Promise<BuildResult> {
      const drv = req.drv ?? store.readDerivation(req.drvPath);
      return buildDerivationLocally(store, req.drvPath, drv, {
        ...(ctx.local ?? opts.build),
        systems: opts.systems,
        systemFeatures: opts.features,
        onLogLine: ctx.log,
        ...(req.check ? { check: true } : {}),
        ...(req.repair ? { repair: true } : {}),
      });
    },
  };
}
