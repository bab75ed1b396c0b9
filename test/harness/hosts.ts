// Multi-host test harness: each builder "host" is a real OpenSSH sshd on its own 127.0.0.1 port,
// running as pid 1 of its own pid + mount namespace (`unshare --mount --pid --fork --kill-child`)
// with a private /nix (bind-mounted temp dir, or a small tmpfs for "disk full"), /tmp, /root and
// /run. Killing the unshare process kills everything inside the host, so teardown never leaks.
//
// Client side: one ed25519 client key per harness, a generated ssh_config with one `Host <name>`
// block per host (HostName 127.0.0.1, Port, HostKeyAlias <name>), and a known_hosts pinning every
// host key under its alias. Nix 2.8 clients use it through `NIX_SSHOPTS=-F <config>` (harness.env).
import { type ChildProcess, spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HostFlavour, hostNixConf, namespaceScript, sshdConfig } from './host-files.js';
import { generateEd25519, machinesHostKey, type SshKeyPair } from './ssh-keys.js';

export type { HostFlavour } from './host-files.js';

/** Where `tix-store` lives; tix hosts run it as their remote program. */
export const TIX_STORE_BIN = join(
  new URL('.', import.meta.url).pathname.replace(/\/(dist\/)?test\/harness\/$/, ''),
  'bin',
  'tix-store',
);

export interface StartHostOptions {
  flavour?: HostFlavour;
  /** Host alias used in ssh_config, known_hosts and store URIs; default "tix-host-<n>". */
  name?: string;
  /** Make /nix a tmpfs of this size (simulates a builder whose disk fills up). */
  nixSizeBytes?: number;
  /** Bound on the wait for sshd to accept connections; default 15 s. */
  readyTimeoutMs?: number;
}

export interface MachinesLineOptions {
  systems?: string[];
  maxJobs?: number;
  speedFactor?: number;
  supportedFeatures?: string[];
  mandatoryFeatures?: string[];
  /** Omit the pinned host key (field 8 becomes "-"). */
  noHostKey?: boolean;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class Host {
  readonly uri: string;
  readonly remoteProgram: string;
  private exited: Promise<void>;
  private logText = '';

  constructor(
    readonly harness: Harness,
    readonly name: string,
    readonly port: number,
    readonly flavour: HostFlavour,
    readonly hostKey: SshKeyPair,
    readonly base: string,
    private readonly child: ChildProcess,
    /** Pid (in our namespace) of the host's pid 1, i.e. its sshd. */
    readonly initPid: number,
    /** The host's pid namespace, as `readlink /proc/PID/ns/pid` prints it. */
    readonly pidNamespace: string,
    exited: Promise<void>,
  ) {
    this.exited = exited;
    this.remoteProgram = flavour === 'tix' ? TIX_STORE_BIN : 'nix-store';
    this.uri = flavour === 'tix' ? `ssh://${name}?remote-program=${TIX_STORE_BIN}` : `ssh://${name}`;
    child.stderr?.on('data', (d: Buffer) => {
      this.logText += d.toString();
    });
  }

  /** Base64 host key as the machines file's 8th field wants it. */
  get hostKeyBase64(): string {
    return machinesHostKey(this.hostKey.publicKey);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** sshd's stderr (errors only). */
  get log(): string {
    return this.logText;
  }

  /** A machines-file line for this host (Nix 2.8 syntax, all 8 fields). */
  machinesLine(opts: MachinesLineOptions = {}): string {
    const list = (xs: string[] | undefined) => (xs && xs.length > 0 ? xs.join(',') : '-');
    return [
      this.uri,
      list(opts.systems ?? ['x86_64-linux']),
      this.harness.clientKey.privateKeyFile,
      String(opts.maxJobs ?? 1),
      String(opts.speedFactor ?? 1),
      list(opts.supportedFeatures),
      list(opts.mandatoryFeatures),
      opts.noHostKey ? '-' : this.hostKeyBase64,
    ].join(' ');
  }

  /** Explicit ssh arguments (no config file) reaching this host as root, host key pinned. */
  sshArgs(): string[] {
    return [
      '-F',
      '/dev/null',
      '-i',
      this.harness.clientKey.privateKeyFile,
      '-p',
      String(this.port),
      '-o',
      `UserKnownHostsFile=${this.harness.knownHostsFile}`,
      '-o',
      `HostKeyAlias=${this.name}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'LogLevel=ERROR',
      '-x',
      '-a',
      'root@127.0.0.1',
    ];
  }

  /** Runs a shell command on the host (through ssh, so inside its namespaces). */
  run(command: string, opts: { input?: string | Uint8Array; timeoutMs?: number } = {}): Promise<RunResult> {
    return runProcess('ssh', [...this.sshArgs(), command], opts);
  }

  /** A path inside the host's mount namespace, reachable from outside while the host is alive. */
  realPath(path: string): string {
    return `/proc/${this.initPid}/root${path}`;
  }

  /** Pids (ours) of every process still inside the host's pid namespace. */
  processes(): number[] {
    return processesInNamespace(this.pidNamespace);
  }

  /** Graceful stop: SIGTERM to sshd (pid 1), which takes every session down with it. */
  async stop(): Promise<void> {
    if (this.alive) {
      try {
        process.kill(this.initPid, 'SIGTERM');
      } catch {
        // Already gone; the SIGKILL fallback below covers a stuck unshare.
      }
    }
    await this.waitExit(5000);
  }

  /** A builder dying: SIGKILL the whole host at once. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.waitExit(5000);
  }

  private async waitExit(ms: number): Promise<void> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(timer);
    live.delete(this.child);
    // pid 1 gone means the kernel is killing the rest; wait (bounded) until it is done.
    const deadline = Date.now() + 5000;
    while (this.processes().length > 0 && Date.now() < deadline) await sleep(20);
    this.harness.forget(this);
  }
}

export class Harness {
  readonly clientKey: SshKeyPair;
  readonly sshConfigFile: string;
  readonly knownHostsFile: string;
  private readonly hosts: Host[] = [];
  private counter = 0;

  private constructor(readonly dir: string) {
    this.clientKey = generateEd25519(join(dir, 'client_ed25519'), 'tix-harness-client');
    this.sshConfigFile = join(dir, 'ssh_config');
    this.knownHostsFile = join(dir, 'known_hosts');
    this.writeClientFiles();
  }

  static create(): Harness {
    return new Harness(mkdtempSync(join(tmpdir(), 'tix-harness-')));
  }

  /** Environment for ssh clients that only take the host alias (Nix 2.8, tix): `NIX_SSHOPTS`. */
  env(): Record<string, string> {
    return { NIX_SSHOPTS: `-F ${this.sshConfigFile}` };
  }

  get running(): readonly Host[] {
    return this.hosts;
  }

  async startHost(opts: StartHostOptions = {}): Promise<Host> {
    const flavour = opts.flavour ?? 'nix';
    const name = opts.name ?? `tix-host-${++this.counter}`;
    const base = mkdtempSync(join(this.dir, `${name}-`));
    for (const d of ['conf/etc/nix', 'conf/etc/tix', 'nix', 'tmp', 'home'])
      mkdirSync(join(base, d), { recursive: true });
    const hostKey = generateEd25519(join(base, 'conf', 'ssh_host_ed25519_key'), name);
    writeFileSync(join(base, 'conf', 'authorized_keys'), `${this.clientKey.publicKey} tix-harness\n`);
    writeFileSync(join(base, 'conf', 'etc', 'nix', 'nix.conf'), hostNixConf());
    writeFileSync(join(base, 'conf', 'etc', 'tix', 'tix.conf'), hostNixConf());
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const layout = { base, port, flavour, nixSizeBytes: opts.nixSizeBytes };
      writeFileSync(join(base, 'conf', 'sshd_config'), sshdConfig(layout));
      try {
        const host = await launch(this, name, layout, hostKey, opts.readyTimeoutMs ?? 15000);
        this.hosts.push(host);
        this.writeClientFiles();
        return host;
      } catch (e) {
        lastError = e as Error;
      }
    }
    throw lastError!;
  }

  /** Stops every host (SIGKILL) and removes the harness directory. */
  async close(): Promise<void> {
    await Promise.all([...this.hosts].map((h) => h.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Called by Host when it has exited. */
  forget(host: Host): void {
    const i = this.hosts.indexOf(host);
    if (i >= 0) this.hosts.splice(i, 1);
  }

  private writeClientFiles(): void {
    const blocks = this.hosts.map((h) =>
      [
        `Host ${h.name}`,
        '  HostName 127.0.0.1',
        `  Port ${h.port}`,
        '  User root',
        `  HostKeyAlias ${h.name}`,
        `  IdentityFile ${this.clientKey.privateKeyFile}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${this.knownHostsFile}`,
        '  StrictHostKeyChecking yes',
        '  BatchMode yes',
        '  ConnectTimeout 10',
        '  LogLevel ERROR',
        '',
      ].join('\n'),
    );
    writeFileSync(this.sshConfigFile, blocks.join('\n'));
    writeFileSync(this.knownHostsFile, this.hosts.map((h) => `${h.name} ${h.hostKey.publicKey}\n`).join(''));
  }
}

async function launch(
  harness: Harness,
  name: string,
  layout: { base: string; port: number; flavour: HostFlavour; nixSizeBytes?: number },
  hostKey: SshKeyPair,
  readyTimeoutMs: number,
): Promise<Host> {
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--pid',
      '--fork',
      '--kill-child',
      '--mount-proc',
      '/bin/sh',
      '-c',
      namespaceScript(layout),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  live.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + readyTimeoutMs;
  try {
    while (true) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`cannot start host '${name}': sshd exited: ${stderr.trim()}`);
      }
      if (await canConnect(layout.port)) break;
      if (Date.now() > deadline)
        throw new Error(`cannot start host '${name}': no listener after ${readyTimeoutMs} ms`);
      await sleep(25);
    }
    const initPid = childPid(child.pid!);
    const pidNamespace = readlinkSync(`/proc/${initPid}/ns/pid`);
    return new Host(
      harness,
      name,
      layout.port,
      layout.flavour,
      hostKey,
      layout.base,
      child,
      initPid,
      pidNamespace,
      exited,
    );
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    live.delete(child);
    throw e;
  }
}

function childPid(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  if (children.length !== 1 || children[0] === '')
    throw new Error(`unshare ${pid} has children '${children}'`);
  return Number(children[0]);
}

export function processesInNamespace(ns: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) === ns) pids.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return pids;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function runProcess(
  cmd: string,
  args: string[],
  opts: { input?: string | Uint8Array; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
