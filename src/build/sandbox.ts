// The bubblewrap (bwrap) command line for one build. With the sandbox on, the builder sees only
// its input closure under the logical store dir, a private /build, /tmp, /proc and a minimal /dev,
// runs as uid 1000 / gid 100 ("nixbld", as Nix 2.8's sandbox) and has no network unless it is a
// fixed-output derivation. With it off, the host file system and network are visible, and only
// the logical store dir is mapped onto the physical one when they differ (chroot-style stores).
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 100;
export const SANDBOX_BUILD_DIR = '/build';

/** The `sandbox` setting. */
export type SandboxMode = 'true' | 'false' | 'relaxed';

/** One `sandbox-paths` entry: `target[=source][?]` (`?` = skip when the source is missing). */
export interface SandboxPath {
  target: string;
  source: string;
  optional: boolean;
}

export function parseSandboxPaths(entries: Iterable<string>): SandboxPath[] {
  const out: SandboxPath[] = [];
  for (let e of entries) {
    if (e === '') continue;
    let optional = false;
    if (e.endsWith('?')) {
      optional = true;
      e = e.slice(0, -1);
    }
    const eq = e.indexOf('=');
    out.push(
      eq < 0
        ? { target: e, source: e, optional }
        : { target: e.slice(0, eq), source: e.slice(eq + 1), optional },
    );
  }
  return out;
}

/**
 * Whether a build uses the isolated sandbox, as 2.8 decides: `true` always, `false` never,
 * `relaxed` unless the derivation is fixed-output or sets `__noChroot`.
 */
export function useSandbox(mode: SandboxMode, opts: { fixedOutput: boolean; noChroot: boolean }): boolean {
  if (mode === 'true') return true;
  if (mode === 'false') return false;
  return !opts.fixedOutput && !opts.noChroot;
}

/**
 * tix's default `sandbox-paths`: `/bin/sh` backed by a statically linked busybox when one is
 * installed (Debian's busybox-static puts it at /bin/busybox; Nix's own default is
 * `/bin/sh=<busybox>`), otherwise the host's /bin/sh plus the ELF interpreter and libraries it needs.
 */
export function defaultSandboxPaths(): string[] {
  // Decided once per process: reading the ELF headers of a 2 MB busybox per build is measurable.
  cachedDefault ??= computeDefaultSandboxPaths();
  return [...cachedDefault];
}

let cachedDefault: string[] | undefined;

function computeDefaultSandboxPaths(): string[] {
  for (const bb of ['/bin/busybox', '/usr/bin/busybox']) {
    if (existsSync(bb) && isStaticElf(bb)) return [`/bin/sh=${bb}`];
  }
  return ['/bin/sh', ...hostShellLibraries()];
}

/** Whether `file` is a 64-bit ELF without an interpreter; reads only its headers (busybox is ~2 MB). */
export function isStaticElf(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const read = (length: number, position: number): Buffer | undefined => {
      const b = Buffer.alloc(length);
      return readSync(fd, b, 0, length, position) === length ? b : undefined;
    };
    const h = read(64, 0);
    if (h?.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2) return false;
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const ph = read(phentsize * phnum, Number(h.readBigUInt64LE(32)));
    if (!ph) return false;
    for (let i = 0; i < phnum; i++) {
      if (ph.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

/** The shared objects /bin/sh links against (Debian: libc and the dynamic loader). */
function hostShellLibraries(): string[] {
  const libs: string[] = [];
  for (const dir of ['/lib64', '/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/lib']) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (/^(ld-linux.*\.so\.\d|libc\.so\.6)$/.test(name)) libs.push(`${join(dir, name)}?`);
    }
  }
  return libs;
}

export interface SandboxSpec {
  /** Isolated sandbox (true) or host file system (false). */
  isolated: boolean;
  /** Fixed-output: network, /etc/resolv.conf and friends. */
  fixedOutput: boolean;
  storeDir: string;
  realStoreDir: string;
  /** Isolated: host directory bound read-write at storeDir; outputs land here. */
  scratchStoreDir: string;
  /** Isolated: host directory holding passwd, group, hosts, nsswitch.conf (see writeSandboxEtc). */
  etcDir: string;
  /** Isolated: logical store paths to bind read-only (the input closure + store sandbox-paths). */
  inputPaths: Iterable<string>;
  buildDirHost: string;
  buildDirInSandbox: string;
  sandboxPaths: SandboxPath[];
  /** Bind /dev/kvm (system feature `kvm`). */
  kvm?: boolean;
}

/** Writes the sandbox's /etc files, with the same contents as Nix 2.8. */
export function writeSandboxEtc(
  etcDir: string,
  opts: { fixedOutput: boolean; buildDirInSandbox: string },
): void {
  mkdirSync(etcDir, { recursive: true });
  writeFileSync(
    join(etcDir, 'passwd'),
    `root:x:0:0:Nix build user:${opts.buildDirInSandbox}:/noshell\n` +
      `nixbld:x:${SANDBOX_UID}:${SANDBOX_GID}:Nix build user:${opts.buildDirInSandbox}:/noshell\n` +
      'nobody:x:65534:65534:Nobody:/:/noshell\n',
  );
  writeFileSync(join(etcDir, 'group'), `root:x:0:\nnixbld:!:${SANDBOX_GID}:\nnogroup:x:65534:\n`);
  if (opts.fixedOutput) writeFileSync(join(etcDir, 'nsswitch.conf'), 'hosts: files dns\nservices: files\n');
  else writeFileSync(join(etcDir, 'hosts'), '127.0.0.1 localhost\n::1 localhost\n');
}

/** The bwrap arguments (without the program or the `--` before the builder). */
export function bwrapArgs(spec: SandboxSpec): string[] {
  return spec.isolated ? isolatedArgs(spec) : hostArgs(spec);
}

function isolatedArgs(spec: SandboxSpec): string[] {
  const a: string[] = [
    '--unshare-user',
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-uts',
    '--unshare-cgroup-try',
  ];
  if (!spec.fixedOutput) a.push('--unshare-net');
  a.push('--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_GID), '--hostname', 'localhost');
  a.push('--die-with-parent', '--new-session');
  a.push('--bind', spec.scratchStoreDir, spec.storeDir);
  for (const p of spec.inputPaths) {
    a.push('--ro-bind', join(spec.realStoreDir, p.slice(spec.storeDir.length + 1)), p);
  }
  a.push('--bind', spec.buildDirHost, spec.buildDirInSandbox);
  for (const f of ['passwd', 'group', spec.fixedOutput ? 'nsswitch.conf' : 'hosts']) {
    a.push('--ro-bind', join(spec.etcDir, f), `/etc/${f}`);
  }
  if (spec.fixedOutput) {
    for (const f of ['/etc/resolv.conf', '/etc/services', '/etc/hosts']) a.push('--ro-bind-try', f, f);
  }
  a.push('--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--tmpfs', '/dev/shm');
  if (spec.kvm) a.push('--dev-bind-try', '/dev/kvm', '/dev/kvm');
  a.push('--perms', '1777', '--tmpfs', '/tmp');
  for (const p of spec.sandboxPaths) {
    const source = p.source.startsWith(`${spec.storeDir}/`)
      ? join(spec.realStoreDir, p.source.slice(spec.storeDir.length + 1))
      : p.source;
    const kind = p.target.startsWith('/dev/') ? '--dev-bind' : '--ro-bind';
    a.push(p.optional ? `${kind}-try` : kind, source, p.target);
  }
  a.push('--chdir', spec.buildDirInSandbox);
  return a;
}

/**
 * Host file system, host network. Only the pid namespace is private (so the whole process tree
 * dies with the build). When the physical store dir differs from the logical one, the host's
 * root is rebuilt from binds so that the logical store dir can be mapped without creating
 * anything on the host.
 */
function hostArgs(spec: SandboxSpec): string[] {
  const a: string[] = ['--unshare-pid', '--die-with-parent', '--new-session'];
  if (spec.storeDir === spec.realStoreDir) {
    a.push('--dev-bind', '/', '/', '--proc', '/proc');
  } else {
    mirrorExcept('/', spec.storeDir, a);
    a.push('--bind', spec.realStoreDir, spec.storeDir, '--proc', '/proc');
  }
  a.push('--chdir', spec.buildDirHost);
  return a;
}

/** Bind every entry of host dir `dir` except the branch leading to `hole`, recursing into it. */
function mirrorExcept(dir: string, hole: string, a: string[]): void {
  const names = existsSync(dir) ? readdirSync(dir) : [];
  for (const name of names) {
    const p = join(dir, name);
    if (p === '/proc') continue;
    if (hole === p) continue;
    if (hole.startsWith(`${p}/`)) {
      if (lstatSync(p).isDirectory()) {
        a.push('--dir', p);
        mirrorExcept(p, hole, a);
      }
      continue;
    }
    const st = lstatSync(p);
    if (st.isSymbolicLink()) a.push('--symlink', readlinkSync(p), p);
    else a.push('--dev-bind', p, p);
  }
}

let bwrapFound: string | undefined;

/** Absolute path of `bwrap` on the caller's PATH (the builder's own PATH is "/path-not-set"). */
export function bwrapPath(): string {
  if (bwrapFound) return bwrapFound;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = join(dir || '.', 'bwrap');
    if (existsSync(p)) {
      bwrapFound = p;
      return p;
    }
  }
  return 'bwrap';
}

/**
 * Running the sandbox as a build user. The inner bwrap runs unprivileged (as the build user, which
 * its user namespace shows as uid 1000 / gid 100), so it can only bind what that user can reach;
 * the store or the build directory may sit below directories only root can enter (a chroot store
 * in a 0700 temporary directory, say). An outer, privileged bwrap therefore first binds them
 * into a fresh tmpfs at `stage` (mode 0755, visible only in its own mount namespace), then drops
 * to the build user with setpriv and starts the inner bwrap, whose paths refer to the stage. When
 * the build user can reach both where they are (searchableBy), there is no stage and no outer
 * bwrap: setpriv starts the sandbox's bwrap directly, or, when nothing has to run as root first
 * (joining a cgroup), the builder's whole process chain is started as the build user.
 */
export interface BuildUserStage {
  /** An empty directory on the host, the tmpfs mount point. */
  stage: string;
  /** Host directory -> name under the stage. */
  binds: Array<[string, string]>;
}

/** Where host path `p` appears for the inner bwrap, given the stage's binds. */
export function stagedPath(s: BuildUserStage, p: string): string {
  for (const [host, name] of s.binds) {
    if (p === host || p.startsWith(`${host}/`)) return join(s.stage, name) + p.slice(host.length);
  }
  return p;
}

/**
 * The command line up to (and including) the `bwrap` that runs as the build user: setpriv, after
 * an outer bwrap that sets up the stage when there is one.
 */
export function buildUserWrapper(user: { uid: number; gid: number }, s?: BuildUserStage): string[] {
  const a: string[] = [];
  if (s) {
    a.push(bwrapPath(), '--dev-bind', '/', '/', '--perms', '0755', '--tmpfs', s.stage);
    for (const [host, name] of s.binds) a.push('--bind', host, join(s.stage, name));
    a.push('--die-with-parent', '--');
  }
  a.push(setprivPath(), `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', bwrapPath());
  return a;
}

/**
 * Whether `uid`/`gid` (no supplementary groups) may search `dir` and every directory above it, by
 * the permission bits the kernel checks: the owner's for the owner, else the group's for the
 * group, else the others'. ACLs are not read; a directory that cannot be read counts as closed.
 */
export function searchableBy(
  dir: string,
  uid: number,
  gid: number,
  stat: (p: string) => { mode: number; uid: number; gid: number } = statSync,
): boolean {
  let p = resolve(dir);
  for (;;) {
    let st: { mode: number; uid: number; gid: number };
    try {
      st = stat(p);
    } catch {
      return false;
    }
    const bit = st.uid === uid ? 0o100 : st.gid === gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return false;
    if (p === '/') return true;
    p = dirname(p);
  }
}

function setprivPath(): string {
  for (const p of ['/usr/bin/setpriv', '/bin/setpriv']) if (existsSync(p)) return p;
  return 'setpriv';
}
