// Shared pieces of the distributed-build tests: a client side tix store in a temp dir, `tix build`
// run in-process against harness builders, and the facts tests read back from a run (which machine
// built which derivation, retry notices).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { addTestDerivation, openTixStore, type TestDrvSpec } from '../../src/build/test-support.js';
import { type CliResult, runCli } from '../../src/cli/run-cli.test-util.js';
import type { LocalStore } from '../../src/store/local.js';
import { type Harness, type Host, type MachinesLineOptions, TIX_STORE_BIN } from '../harness/hosts.js';

export class Client {
  readonly dir: string;
  readonly storeUri: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(harness: Harness) {
    this.dir = mkdtempSync(join(tmpdir(), 'tix-dist-client-'));
    mkdirSync(join(this.dir, 'cwd'));
    this.storeUri = `local?root=${join(this.dir, 'tix')}`;
    this.env = {
      HOME: this.dir,
      TIX_CONF_DIR: join(this.dir, 'etc'),
      TIX_USER_CONF_FILES: '',
      PATH: process.env.PATH,
      ...harness.env(),
    };
  }

  /** Opens the client store for a moment (the CLI opens it again for each command). */
  withStore<T>(f: (store: LocalStore) => T): T {
    const store = openTixStore(this.dir);
    try {
      return f(store);
    } finally {
      void store.close();
    }
  }

  /** Adds derivations; returns their `.drv` paths in order. */
  addDerivations(specs: TestDrvSpec[]): string[] {
    return this.withStore((s) => specs.map((spec) => addTestDerivation(s, spec).drvPath));
  }

  /** `tix build --no-out-link ARGS…` against this client's store. */
  build(args: string[]): Promise<CliResult> {
    return runCli(['build', '--store', this.storeUri, '--no-out-link', ...args], {
      cwd: join(this.dir, 'cwd'),
      env: this.env,
    });
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** drvPath → machine name, from the "building '…' on '…'" lines of a run. */
export function placements(stderr: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const [, drv, machine] of stderr.matchAll(/^building '([^']+)' on '([^']+)'$/gm))
    m.set(drv!, machine!);
  return m;
}

/** The retry notices of a run (one per machine lost during a build). */
export function lostNotices(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('tix: lost '));
}

/** The host name in a machine URI (`ssh://NAME?…`). */
export function hostOf(machine: string): string {
  return machine.replace(/^ssh:\/\//, '').replace(/\?.*$/, '');
}

/** Where `tix-daemon` lives; tix hosts run it as the remote program of ssh-ng://. */
export const TIX_DAEMON_BIN = join(dirname(TIX_STORE_BIN), 'tix-daemon');
export const TIX_BIN = join(dirname(TIX_STORE_BIN), 'tix');

/** The host's ssh-ng:// store URI: `nix-daemon --stdio` on nix hosts, `tix-daemon --stdio` on tix hosts. */
export function sshNgUri(host: Host): string {
  return host.flavour === 'tix'
    ? `ssh-ng://${host.name}?remote-program=${TIX_DAEMON_BIN}`
    : `ssh-ng://${host.name}`;
}

/** A machines line for the host with its ssh-ng:// URI. */
export function sshNgLine(host: Host, opts: MachinesLineOptions = {}): string {
  const line = host.machinesLine(opts);
  return `${sshNgUri(host)}${line.slice(line.indexOf(' '))}`;
}
