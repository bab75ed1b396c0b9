// Helpers for the build tests: temporary tix stores, a Nix 2.8 oracle in a chroot store, and
// copying `.drv` closures from the oracle into tix. Not used outside tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Derivation, printDerivation } from '../formats/derivation.js';
import { derivationPath, fillOutputPaths, makeInputHasher } from '../formats/derivation-hash.js';
import { LocalStore } from '../store/local.js';
import { hostSystem } from './build-one.js';

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Why the sandbox tests cannot run here, or undefined when they can. */
export function sandboxSkipReason(): string | undefined {
  if (!have('bwrap')) return 'bwrap (bubblewrap) is not installed';
  const r = spawnSync('bwrap', ['--unshare-all', '--uid', '1000', '--dev-bind', '/', '/', 'true'], {
    stdio: 'ignore',
  });
  if (r.status !== 0) return 'bwrap cannot create user namespaces here';
  return undefined;
}

export function nixSkipReason(): string | undefined {
  return have('nix-instantiate') && have('nix-build') ? undefined : 'Nix 2.8 (nix-bin) is not installed';
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tix-${prefix}-`));
}

export function openTixStore(dir: string): LocalStore {
  return new LocalStore({ root: join(dir, 'tix'), fsync: false });
}

/** A Nix 2.8 chroot store under `dir`, never touching the machine's /nix. */
export class NixOracle {
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(dir: string, opts: { extraConf?: string } = {}) {
    this.root = join(dir, 'nixroot');
    const etc = join(dir, 'nixetc');
    mkdirSync(etc, { recursive: true });
    writeFileSync(
      join(etc, 'nix.conf'),
      'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n' +
        'extra-sandbox-paths = /bin /lib /lib64 /usr\ncores = 2\n' +
        (opts.extraConf ?? ''),
    );
    this.env = { ...process.env, NIX_CONF_DIR: etc, NIX_REMOTE: `local?root=${this.root}`, NIX_PATH: '' };
  }

  /** nix-instantiate of `expr` (a Nix expression text); returns the `.drv` paths in order. */
  instantiate(expr: string, attrs: string[] = []): string[] {
    const args = ['--expr', expr, ...attrs.flatMap((a) => ['-A', a])];
    const out = execFileSync('nix-instantiate', args, {
      env: this.env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out
      .trim()
      .split('\n')
      .map((l) => l.replace(/!.*$/, ''));
  }

  /** nix-build of `.drv` paths; returns the output paths. */
  build(drvPaths: string[]): string[] {
    // 2.8 kills the builder's process group as soon as its output pipe closes, which now and then
    // turns a finished builder into "failed due to signal 9 (Killed)"; retry that oracle flake.
    for (let attempt = 1; ; attempt++) {
      const r = spawnSync('nix-store', ['--realise', ...drvPaths], { env: this.env, encoding: 'utf8' });
      if (r.status === 0) return r.stdout.trim().split('\n');
      if (attempt >= 8 || !r.stderr.includes('failed due to signal 9')) {
        throw new Error(`nix-store --realise failed: ${r.stderr}`);
      }
    }
  }

  query(args: string[]): string[] {
    const out = execFileSync('nix-store', args, {
      env: this.env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out
      .trim()
      .split('\n')
      .filter((l) => l !== '');
  }

  dump(path: string): Buffer {
    return execFileSync('nix-store', ['--dump', this.realPath(path)], {
      env: this.env,
      maxBuffer: 1 << 30,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  realPath(path: string): string {
    return join(this.root, path);
  }
}

/**
 * Copies the closure of `drvPaths` (`.drv` files and `builtins.toFile` sources, i.e. text paths)
 * from the oracle's store into `store`, asserting that tix computes the same store paths.
 */
export function copyDrvClosure(nix: NixOracle, store: LocalStore, drvPaths: string[]): void {
  const closure = nix.query(['--query', '--requisites', ...drvPaths]); // dependencies first
  for (const path of closure) {
    if (store.isValidPathSync(path)) continue;
    const refs = nix.query(['--query', '--references', path]);
    const name = path.slice(store.storeDir.length + 34);
    const got = store.addTextToStoreSync(name, readFileSync(nix.realPath(path)), refs);
    if (got !== path) throw new Error(`copyDrvClosure: tix made '${got}' for '${path}'`);
  }
}

export function removeDir(dir: string): void {
  spawnSync('chmod', ['-R', 'u+w', dir]);
  rmSync(dir, { recursive: true, force: true });
}

export interface TestDrvSpec {
  name: string;
  /** Shell script run by /bin/sh -c. */
  script: string;
  env?: Record<string, string>;
  inputSrcs?: string[];
  inputDrvs?: Record<string, string[]>;
  outputs?: string[];
  /** Fixed output: hashAlgo as in the ATerm ("sha256", "r:sha256") and base16 hash. */
  fixed?: { hashAlgo: string; hash: string };
  builder?: string;
}

/** Writes a derivation into `store` as `nix-instantiate` would; returns its path and contents. */
export function addTestDerivation(
  store: LocalStore,
  spec: TestDrvSpec,
): { drvPath: string; drv: Derivation } {
  const outputs = spec.outputs ?? ['out'];
  const env = new Map<string, string>([
    ['builder', spec.builder ?? '/bin/sh'],
    ['name', spec.name],
    ['system', hostSystem()],
    ...Object.entries(spec.env ?? {}),
  ]);
  for (const o of outputs) env.set(o, '');
  if (outputs.length > 1) env.set('outputs', outputs.join(' '));
  const drv0: Derivation = {
    name: spec.name,
    outputs: new Map(
      outputs.map((o) => [
        o,
        spec.fixed
          ? { path: '', hashAlgo: spec.fixed.hashAlgo, hash: spec.fixed.hash }
          : { path: '', hashAlgo: '', hash: '' },
      ]),
    ),
    inputSrcs: [...(spec.inputSrcs ?? [])].sort(),
    inputDrvs: new Map(Object.entries(spec.inputDrvs ?? {}).sort()),
    system: hostSystem(),
    builder: spec.builder ?? '/bin/sh',
    args: ['-c', spec.script],
    env: new Map([...env].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))),
  };
  const drv = fillOutputPaths(drv0, {
    inputHash: makeInputHasher((p) => store.readDerivation(p)),
    storeDir: store.storeDir,
  });
  const drvPath = store.addTextToStoreSync(`${spec.name}.drv`, printDerivation(drv), [
    ...drv.inputSrcs,
    ...drv.inputDrvs.keys(),
  ]);
  if (drvPath !== derivationPath(drv, store.storeDir)) throw new Error('addTestDerivation: path mismatch');
  return { drvPath, drv };
}
