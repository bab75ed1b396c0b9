// Opening a protocol session to a remote store or builder: `ssh://` and `exec://` through the serve
// client (openServeStore), anything else through openStore's backend registry (that is where the
// worker-protocol client registers `ssh-ng://`, `unix://` and `daemon`). A machines-file entry adds
// its SSH key (field 3) and pinned host key (field 8) as store parameters, as Nix's
// Machine::openStore does. `connect-timeout` becomes ssh's ConnectTimeout, as in Nix, and also
// bounds the protocol handshake (a remote program that never answers), which Nix does not.
import type { Machine } from '../formats/machines.js';
import { StoreError } from '../store/errors.js';
import { openStore, parseStoreUri } from '../store/open.js';
import { openServeStore } from '../store/serve.js';
import type { BuildingStore, Store } from '../store/store.js';
import { prewarmSsh, splitWords, sshTargetOf } from './ssh.js';

export interface ConnectOptions {
  /** Environment for ssh and for $NIX_SSHOPTS; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Seconds allowed for the ssh connection (`connect-timeout`); 0 = ssh's default. */
  connectTimeout?: number;
  /** Remote stderr outside builds (ssh diagnostics, remote warnings). */
  onStderr?: (chunk: Uint8Array) => void;
}

/** The URI to open for a machine: its store URI plus `ssh-key` / host key parameters. */
export function machineStoreUri(m: Machine): string {
  if (!/^ssh(-ng)?:\/\//.test(m.storeUri)) return m.storeUri;
  const q = m.storeUri.indexOf('?');
  const given = new URLSearchParams(q < 0 ? '' : m.storeUri.slice(q + 1));
  const extra = new URLSearchParams();
  if (m.sshKey && !given.has('ssh-key')) extra.set('ssh-key', m.sshKey);
  if (m.sshPublicHostKey && !given.has('base64-ssh-public-host-key'))
    extra.set('base64-ssh-public-host-key', m.sshPublicHostKey);
  if (extra.size === 0) return m.storeUri;
  return `${m.storeUri}${q < 0 ? '?' : '&'}${extra}`;
}

/** ssh arguments: the words of $NIX_SSHOPTS, then ConnectTimeout when set. */
export function sshOptions(opts: ConnectOptions): string[] {
  const env = opts.env ?? process.env;
  const words = splitWords(env.NIX_SSHOPTS ?? '');
  if (opts.connectTimeout && opts.connectTimeout > 0)
    words.push('-o', `ConnectTimeout=${opts.connectTimeout}`);
  return words;
}

/** Opens any store URI, remote ones included. */
export async function openRemoteStore(uri: string, opts: ConnectOptions = {}): Promise<Store> {
  if (uri.startsWith('ssh://') || uri.startsWith('exec://')) {
    return openServeStore(uri, {
      env: opts.env,
      onStderr: opts.onStderr,
      sshOpts: sshOptions(opts),
      connectTimeout: opts.connectTimeout,
    });
  }
  if (uri.startsWith('ssh-ng://')) {
    // The worker-protocol client reads its ssh options from $NIX_SSHOPTS of the environment.
    const env = { ...(opts.env ?? process.env), NIX_SSHOPTS: sshOptions(opts).join(' ') };
    return openStore(uri, { env, connectTimeout: opts.connectTimeout });
  }
  return openStore(uri, { env: opts.env });
}

/** Opens one build session to a machine; the store must be able to build what it is sent. */
export async function connectMachine(m: Machine, opts: ConnectOptions = {}): Promise<BuildingStore> {
  let store: Store;
  try {
    store = await openRemoteStore(machineStoreUri(m), opts);
  } catch (e) {
    if (e instanceof StoreError && e.code === 'BAD_URI') {
      throw new StoreError('UNSUPPORTED', `cannot build on '${m.storeUri}': ${e.message}`);
    }
    throw e;
  }
  if (typeof (store as Partial<BuildingStore>).buildDerivation !== 'function') {
    await store.close();
    throw new StoreError(
      'UNSUPPORTED',
      `cannot build on '${m.storeUri}': store '${store.uri}' cannot build derivations`,
    );
  }
  return store as BuildingStore;
}

/**
 * Starts the SSH connection to an `ssh://` or `ssh-ng://` machine ahead of its first build, so the
 * handshake overlaps evaluation and planning (other kinds: nothing to do). Never rejects.
 */
export function prewarmMachine(m: Machine, opts: ConnectOptions = {}): Promise<void> {
  let uri: ReturnType<typeof parseStoreUri>;
  try {
    uri = parseStoreUri(machineStoreUri(m));
  } catch {
    return Promise.resolve(); // reported when the machine is really opened
  }
  if (uri.scheme !== 'ssh' && uri.scheme !== 'ssh-ng') return Promise.resolve();
  const target = sshTargetOf(uri.rest, uri.params);
  return prewarmSsh(target, { env: opts.env, sshOpts: sshOptions(opts) }).catch(() => {});
}
