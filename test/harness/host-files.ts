// Files one builder host needs: its sshd_config, its nix.conf, and the shell script that builds its
// mount namespace and execs sshd. Pure text generation; hosts.ts does the I/O.

/** Where the host's own files appear inside its namespace (a private tmpfs /run). */
export const HOST_CONF_DIR = '/run/tix-host';

export type HostFlavour = 'nix' | 'tix';

export interface HostLayout {
  /** Host directory outside the namespace: conf/, nix/, tmp/, home/. */
  base: string;
  port: number;
  flavour: HostFlavour;
  /** When set, /nix is a tmpfs of this many bytes instead of a bind mount of base/nix. */
  nixSizeBytes?: number;
}

export function sshdConfig(layout: HostLayout): string {
  const env = [
    `NIX_CONF_DIR=${HOST_CONF_DIR}/etc/nix`,
    'TIX_STORE=local?root=/',
    `TIX_CONF_DIR=${HOST_CONF_DIR}/etc/tix`,
    'PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin',
    'HOME=/root',
  ];
  return [
    `Port ${layout.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${HOST_CONF_DIR}/ssh_host_ed25519_key`,
    `PidFile ${HOST_CONF_DIR}/sshd.pid`,
    `AuthorizedKeysFile ${HOST_CONF_DIR}/authorized_keys`,
    'AuthenticationMethods publickey',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'StrictModes no',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'AllowAgentForwarding no',
    'AllowTcpForwarding no',
    'PermitTunnel no',
    'MaxStartups 64',
    'MaxSessions 64',
    'LogLevel ERROR',
    `SetEnv ${env.join(' ')}`,
    '',
  ].join('\n');
}

/** The builder host's nix.conf: no sandbox, no build users, no substituters. */
export function hostNixConf(): string {
  return [
    'sandbox = false',
    'build-users-group =',
    'substituters =',
    'experimental-features = nix-command',
    'require-sigs = false',
    '',
  ].join('\n');
}

/**
 * The script run by `unshare --mount --pid --fork` (as pid 1 of the new namespaces): private /run
 * (holding the host's config and sshd's privilege-separation dir), private /tmp, /root and /nix,
 * then exec sshd in the foreground with its log on stderr.
 */
export function namespaceScript(layout: HostLayout): string {
  const q = shellQuote;
  const nixMount =
    layout.nixSizeBytes === undefined
      ? `mount --bind ${q(`${layout.base}/nix`)} /nix`
      : `mount -t tmpfs -o size=${layout.nixSizeBytes},mode=0755 tix-host-nix /nix`;
  return [
    'set -e',
    `base=${q(layout.base)}`,
    // The machine's build-user locks (/run/tix) stay shared: build users are uids of the one
    // kernel, so a host must not hand out a uid that a build outside (or on another host) holds.
    'mkdir -p /run/tix "$base/run-tix"',
    'mount --bind /run/tix "$base/run-tix"',
    // Bind the host dir before /tmp is covered: the base dir may live under /tmp.
    'mount -t tmpfs -o mode=0755 tix-host-run /run',
    `mkdir -p /run/sshd /run/tix ${HOST_CONF_DIR}`,
    'mount --bind "$base/run-tix" /run/tix',
    `mount --bind "$base/conf" ${HOST_CONF_DIR}`,
    nixMount,
    'mkdir -p /nix/store /nix/var',
    'chmod 1775 /nix/store',
    'mount --bind "$base/home" /root',
    'mount --bind "$base/tmp" /tmp',
    `exec /usr/sbin/sshd -D -e -f ${HOST_CONF_DIR}/sshd_config`,
    '',
  ].join('\n');
}

export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
