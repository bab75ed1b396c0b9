// What `tix daemon` and `tix-daemon` share: the store they serve (opened as for any command),
// the local build layer with this machine's build settings, the trust settings, and the
// `--stdio` session (one trusted client on stdin/stdout, as `nix-daemon --stdio`).
import { join } from 'node:path';
import type { LocalBuildOptions } from '../build/build-one.js';
import type { LocalBuildStore } from '../build/local-store-view.js';
import type { Settings } from '../config/settings.js';
import { StreamInput } from '../distribute/stream-input.js';
import { StreamOutput } from '../distribute/stream-output.js';
import type { DaemonServerOptions } from '../server/daemon-server.js';
import { serveWorkerConnection } from '../server/worker.js';
import { localWorkerBuilder } from '../server/worker-build.js';
import type { Store } from '../store/store.js';

export function isLocalBuildStore(s: Store): s is LocalBuildStore {
  return 'realStoreDir' in s && typeof (s as Partial<LocalBuildStore>).lockPaths === 'function';
}

export function localBuildOptions(settings: Settings, env: NodeJS.ProcessEnv): LocalBuildOptions {
  const sandbox = settings.get('sandbox');
  return {
    sandbox: sandbox === 'relaxed' ? 'relaxed' : sandbox ? 'true' : 'false',
    sandboxPaths: settings.origin('sandbox-paths') === 'default' ? undefined : settings.get('sandbox-paths'),
    buildCores: settings.get('cores') || undefined,
    timeout: settings.get('timeout'),
    logLines: settings.get('log-lines'),
    systems: [settings.get('system'), ...settings.get('extra-platforms')],
    systemFeatures: settings.get('system-features'),
    callerEnv: env,
  };
}

/** Everything the daemon server needs besides the socket path. */
export function daemonOptions(
  store: Store,
  settings: Settings,
  env: NodeJS.ProcessEnv,
): Omit<DaemonServerOptions, 'log'> {
  return {
    store,
    builder: isLocalBuildStore(store)
      ? localWorkerBuilder(store, localBuildOptions(settings, env))
      : undefined,
    trust: {
      trustedUsers: settings.get('trusted-users'),
      allowedUsers: settings.get('allowed-users'),
      buildUsersGroup: settings.get('build-users-group'),
    },
    daemonSettings: (name) => settings.text(name),
  };
}

/** `<stateDir>/daemon-socket/socket` of a local store; undefined for other stores. */
export function defaultSocketFor(store: Store): string | undefined {
  const stateDir = (store as { stateDir?: unknown }).stateDir;
  return typeof stateDir === 'string' ? join(stateDir, 'daemon-socket', 'socket') : undefined;
}

/** Serves one trusted client on this process's stdin/stdout until it hangs up. */
export async function serveStdio(store: Store, settings: Settings, env: NodeJS.ProcessEnv): Promise<void> {
  const opts = daemonOptions(store, settings, env);
  const input = new StreamInput(process.stdin);
  const output = new StreamOutput(process.stdout);
  try {
    await serveWorkerConnection(
      store,
      { pull: input.pull, write: (c) => output.write(c), onEnd: (f) => input.onEnd(f) },
      { trusted: true, builder: opts.builder, daemonSettings: opts.daemonSettings },
    );
  } finally {
    await output.end();
  }
}
