// What `tix daemon` and `tix-daemon` share: the store they serve (opened as for any command), its
// builder — one distributed scheduler for the whole daemon, over this machine (`max-jobs` slots)
// and the daemon's own `builders`, shared by every client connection — the trust settings, and
// the `--stdio` session (one trusted client on stdin/stdout, as `nix-daemon --stdio`).
import { join } from 'node:path';
import type { Settings } from '../config/settings.js';
import { StreamOutput } from '../distribute/stream-output.js';
import type { DaemonServerOptions } from '../server/daemon-server.js';
import { serveWorkerConnection, TOLD_CLIENT } from '../server/worker.js';
import { localWorkerBuilder } from '../server/worker-build.js';
import type { Store } from '../store/store.js';
import {
  applyAutoGcSettings,
  isLocalBuildStore,
  localBuildOptions,
  remoteBuildOptions,
} from './build-settings.js';
import { serverStdin } from './pipe-size.js';
import { distributedFromSettings } from './remote-builds.js';
import { substitutionFromSettings } from './substitute-hook.js';

export interface DaemonSetup extends Omit<DaemonServerOptions, 'log'> {
  /** Closes the connections to remote builders. */
  close(): Promise<void>;
}

/** Everything the daemon server needs besides the socket path; `log` gets daemon-side messages. */
export function daemonOptions(
  store: Store,
  settings: Settings,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void = () => {},
): DaemonSetup {
  let builder: DaemonServerOptions['builder'];
  let close = async () => {};
  // The daemon's own substituters, opened afresh for each request that needs them.
  const substitution = () => substitutionFromSettings(store, settings, { env, log });
  if (isLocalBuildStore(store)) {
    applyAutoGcSettings(store, settings, log);
    const builds = distributedFromSettings(store, settings, { env, onLogLine: log, notice: log });
    close = () => builds.close();
    builder = localWorkerBuilder(store, localBuildOptions(settings, env), {
      scheduler: { builds, remote: remoteBuildOptions(settings), system: settings.get('system') },
      substitution,
      postBuildHook: settings.get('post-build-hook'),
    });
  }
  return {
    store,
    builder,
    trust: {
      trustedUsers: settings.get('trusted-users'),
      allowedUsers: settings.get('allowed-users'),
      buildUsersGroup: settings.get('build-users-group'),
    },
    daemonSettings: (name) => settings.text(name),
    substituters: substitution,
    close,
  };
}

/** `<stateDir>/daemon-socket/socket` of a local store; undefined for other stores. */
export function defaultSocketFor(store: Store): string | undefined {
  const stateDir = (store as { stateDir?: unknown }).stateDir;
  return typeof stateDir === 'string' ? join(stateDir, 'daemon-socket', 'socket') : undefined;
}

/** Serves one trusted client on this process's stdin/stdout until it hangs up. */
export async function serveStdio(
  store: Store,
  settings: Settings,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void = () => {},
): Promise<void> {
  const opts = daemonOptions(store, settings, env, log);
  const input = serverStdin();
  const output = new StreamOutput(process.stdout);
  try {
    await serveWorkerConnection(
      store,
      {
        pull: input.pull,
        write: (c) => output.write(c),
        tryWrite: (c) => output.tryWrite(c),
        onEnd: (f) => input.onEnd(f),
      },
      {
        trusted: true,
        builder: opts.builder,
        substituters: opts.substituters,
        daemonSettings: opts.daemonSettings,
      },
    );
  } catch (e) {
    // The client has the error already; nix-daemon --stdio ends without a word here too.
    if ((e as { [TOLD_CLIENT]?: boolean } | undefined)?.[TOLD_CLIENT]) return;
    throw e;
  } finally {
    await output.end();
    await opts.close();
  }
}
