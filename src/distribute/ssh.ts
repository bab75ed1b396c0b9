// The system `ssh` as a Transport: one long-lived session per protocol connection, running the
// remote program's command line. Sessions to the same destination share one SSH connection
// (ssh-master.ts: a ControlMaster owned by this process), so opening another session costs no
// handshake. A host key from the machines file is pinned through a known_hosts file of its own
// and `HostKeyAlias=<host>`, so it is checked whatever the port and whatever the user's own
// known_hosts says. As in Nix, the host name `localhost` runs the command locally without ssh.
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../store/errors.js';
import { openExecTransport } from './exec.js';
import { sshDefaults } from './ssh-defaults.js';
import { sshMaster, sshPrivateDir } from './ssh-master.js';
import { spawnTransport, type Transport, type TransportOptions } from './transport.js';

export interface SshTarget {
  /** `[user@]host[:port]`, `[user@][v6addr]:port`, or an alias from the ssh config. */
  authority: string;
  /** Identity file (`ssh-key=`, machines field 3). */
  sshKey?: string;
  /** Base64 of the host's public key line (machines field 8, `base64-ssh-public-host-key=`). */
  sshPublicHostKey?: string;
  /** `ssh -C` (`compress=true`). */
  compress?: boolean;
}

export interface SshTransportOptions extends TransportOptions {
  /** Extra ssh arguments; defaults to the words of $NIX_SSHOPTS (of `env` when given). */
  sshOpts?: string[];
  /** Share one SSH connection per destination (default true); false: a connection of its own. */
  multiplex?: boolean;
}

/** Splits `[user@]host[:port]` (IPv6 in brackets) into its parts. */
export function parseAuthority(authority: string): { user?: string; host: string; port?: number } {
  const at = authority.lastIndexOf('@');
  const user = at >= 0 ? authority.slice(0, at) : undefined;
  const rest = at >= 0 ? authority.slice(at + 1) : authority;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6) return { user, host: v6[1]!, port: v6[2] ? Number(v6[2]) : undefined };
  const hp = /^([^:]+):(\d+)$/.exec(rest);
  if (hp) return { user, host: hp[1]!, port: Number(hp[2]) };
  if (rest === '') throw new StoreError('BAD_URI', `cannot parse ssh authority '${authority}': empty host`);
  return { user, host: rest };
}

/** The public key line encoded in a machines-file host key field. */
export function decodeHostKey(base64: string, host: string): string {
  const line = Buffer.from(base64, 'base64').toString('utf8').trim();
  if (!/^[a-z0-9@.-]+ [A-Za-z0-9+/=]+( .*)?$/.test(line)) {
    throw new StoreError(
      'BAD_URI',
      `cannot use the host key of '${host}': '${base64}' is not a base64 public key line`,
    );
  }
  return line.split(' ').slice(0, 2).join(' ');
}

/** The SSH target of a store URI's authority and parameters (`ssh-key`, host key, `compress`). */
export function sshTargetOf(
  authority: string,
  params: { get(name: string): string | null | undefined },
): SshTarget {
  return {
    authority,
    sshKey: params.get('ssh-key') || undefined,
    sshPublicHostKey: params.get('base64-ssh-public-host-key') || undefined,
    compress: params.get('compress') === 'true',
  };
}

interface SshConnection {
  host: string;
  /** Connection arguments, shared by a master and its sessions. */
  conn: string[];
  destination: string;
  explain: (stderr: string) => StoreError;
}

/** How to reach `target`; undefined for the plain host name `localhost` (run locally, as Nix). */
function sshConnection(target: SshTarget, opts: SshTransportOptions): SshConnection | undefined {
  const { user, host, port } = parseAuthority(target.authority);
  if (host === 'localhost' && port === undefined && user === undefined) return undefined;
  // Ours come first: ssh keeps the first value it is given for an option, so $NIX_SSHOPTS cannot
  // switch host-key pinning off.
  const conn: string[] = [];
  if (target.sshPublicHostKey) {
    const key = decodeHostKey(target.sshPublicHostKey, host);
    const file = pinnedKnownHosts(host, key);
    conn.push('-o', `UserKnownHostsFile=${file}`, '-o', 'GlobalKnownHostsFile=/dev/null');
    conn.push('-o', `HostKeyAlias=${host}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'CheckHostIP=no');
  }
  conn.push('-x', '-a', '-o', 'BatchMode=yes');
  conn.push(...(opts.sshOpts ?? splitWords((opts.env ?? process.env).NIX_SSHOPTS ?? '')));
  if (target.sshKey) conn.push('-i', target.sshKey);
  if (target.compress) conn.push('-C');
  if (port !== undefined) conn.push('-p', String(port));
  const destination = user ? `${user}@${host}` : host;
  const explain = (stderr: string): StoreError => {
    if (
      target.sshPublicHostKey &&
      /Host key verification failed|HOST IDENTIFICATION HAS CHANGED/.test(stderr)
    ) {
      return new StoreError('HOST_KEY', `host key of '${host}' does not match the pinned key`);
    }
    const detail = stderr.trim().split('\n').filter(Boolean).slice(-3).join('; ');
    return new StoreError('CONNECTION', `cannot connect to '${host}'${detail ? `: ${detail}` : ''}`);
  };
  return { host, conn, destination, explain };
}

function masterSpec(c: SshConnection, opts: SshTransportOptions) {
  return {
    identity: JSON.stringify([c.conn, c.destination]),
    args: c.conn,
    destination: c.destination,
    env: opts.env,
    explain: c.explain,
  };
}

export function openSshTransport(
  target: SshTarget,
  command: string,
  opts: SshTransportOptions = {},
): Transport {
  const c = sshConnection(target, opts);
  if (!c) return openExecTransport(command, opts);
  const { host, conn, destination, explain } = c;
  const session = (control: string[]) => [...control, ...conn, '--', destination, command];
  if (opts.multiplex === false) {
    const args = sshDefaults(conn, destination, opts.env).then((defaults) =>
      session(['-o', 'ControlMaster=no', '-o', 'ControlPath=none', ...defaults]),
    );
    return spawnTransport(host, 'ssh', args, { ...opts, explain });
  }
  const slot = sshMaster(masterSpec(c, opts));
  const args = slot.then((s) => session(['-o', 'ControlMaster=no', '-o', `ControlPath=${s.controlPath}`]));
  const transport = spawnTransport(host, 'ssh', args, { ...opts, explain });
  void transport.exited.then(() =>
    slot.then(
      (s) => s.release(),
      () => {},
    ),
  );
  return transport;
}

/**
 * Starts the shared connection to `target` ahead of its first session (the handshake then overlaps
 * whatever the caller does meanwhile). Resolves once it is up; a failure is left for the first real
 * session to report.
 */
export async function prewarmSsh(target: SshTarget, opts: SshTransportOptions = {}): Promise<void> {
  try {
    const c = sshConnection(target, opts);
    if (!c || opts.multiplex === false) return;
    (await sshMaster(masterSpec(c, opts))).release();
  } catch {
    // Reported by the session that needs the connection.
  }
}

/** A known_hosts file (in the private ssh directory) holding just the pinned key of `host`. */
function pinnedKnownHosts(host: string, key: string): string {
  const line = `${host} ${key}\n`;
  const file = join(sshPrivateDir(), `known-${createHash('sha256').update(line).digest('hex').slice(0, 16)}`);
  if (!existsSync(file)) writeFileSync(file, line, { mode: 0o600 });
  return file;
}

/** Whitespace-separated words, as Nix 2.8 splits NIX_SSHOPTS (no quoting). */
export function splitWords(s: string): string[] {
  return s.split(/\s+/).filter((w) => w !== '');
}
