// After a successful builder run: check, canonicalise, scan and hash each output, move it from the
// sandbox's scratch store into the real store, run output checks and register all outputs in one
// transaction (Nix 2.8's registerOutputs, for input-addressed and fixed-output derivations).
import { closeSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync } from 'node:fs';
import { compareUtf8 } from '../formats/byte-order.js';
import { printContentAddress } from '../formats/content-address.js';
import {
  type Hash,
  type HashAlgo,
  HashSink,
  hashEquals,
  parseHashAlgo,
  parseHashUnprefixed,
  printHash,
} from '../formats/hash.js';
import { RefScanner } from '../formats/references.js';
import { makeFixedOutputPath, outputPathName } from '../formats/store-path.js';
import { canonicaliseTreeSync, fsyncDirSync, removeTreeSync } from '../store/fs-util.js';
import { dumpPathSync, fileHashSync, narHashSync } from '../store/nar-dump-disk.js';
import type { ValidPathInfo } from '../store/store.js';
import { checkOutputs } from './check-outputs.js';
import { BuildError } from './errors.js';
import type { LocalBuildStore } from './local-store-view.js';
import type { ParsedDerivation } from './parsed-derivation.js';

export interface RegisterOutputsOptions {
  /** Output name -> where the builder left it on the host. */
  actualPaths: Map<string, string>;
  /** Input closure; its hash parts and the outputs' are what references can point to. */
  inputPaths: ReadonlySet<string>;
  /** Outputs that were already valid before the build: their new copies are discarded. */
  alreadyValid?: ReadonlySet<string>;
}

export interface RegisteredOutputs {
  builtOutputs: Map<string, string>;
  /** Set when a fixed-output hash did not match (the output was registered under its real hash). */
  hashMismatch?: BuildError;
}

interface Scanned {
  name: string;
  path: string;
  actual: string;
  narHash: Hash;
  narSize: number;
  references: string[];
  ca?: string;
}

export async function registerOutputs(
  store: LocalBuildStore,
  p: ParsedDerivation,
  opts: RegisterOutputsOptions,
): Promise<RegisteredOutputs> {
  const { drv, drvPath } = p;
  const hashPartOf = (path: string) => path.slice(store.storeDir.length + 1, store.storeDir.length + 33);
  const candidates = new Map<string, string>();
  for (const q of opts.inputPaths) candidates.set(hashPartOf(q), q);
  for (const out of drv.outputs.values()) candidates.set(hashPartOf(out.path), out.path);

  const scanned: Scanned[] = [];
  let hashMismatch: BuildError | undefined;
  for (const [name, out] of drv.outputs) {
    const actual = opts.actualPaths.get(name)!;
    if (opts.alreadyValid?.has(name)) {
      if (actual !== store.toRealPath(out.path)) removeTreeSync(actual);
      continue;
    }
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(actual);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      throw rejected(
        `builder for '${drvPath}' failed to produce output path for output '${name}' at '${actual}'`,
      );
    }
    if (!st.isSymbolicLink() && st.mode & 0o022) {
      throw rejected(
        `suspicious ownership or permission on '${actual}' for output '${name}'; rejecting this build output`,
      );
    }
    canonicaliseTreeSync(actual);

    const nar = new HashSink('sha256');
    const scanner = new RefScanner(candidates.keys());
    for (const chunk of dumpPathSync(actual)) {
      nar.update(chunk);
      scanner.update(chunk);
    }
    const references = [...scanner.found()].map((h) => candidates.get(h)!).sort(compareUtf8);
    const entry: Scanned = {
      name,
      path: out.path,
      actual,
      narHash: nar.finish(),
      narSize: nar.bytesSeen,
      references,
    };

    if (p.isFixedOutput) {
      const { method, algo } = parseOutputHashAlgo(out.hashAlgo, drvPath);
      const wanted = parseHashUnprefixed(out.hash, algo);
      if (method === 'flat' && (!st.isFile() || st.mode & 0o100)) {
        throw rejected(
          `output path '${actual}' should be a non-executable regular file since recursive hashing is not enabled (outputHashMode=flat)`,
        );
      }
      if (references.length > 0) {
        throw rejected(
          `fixed-output derivation '${drvPath}' produced output '${out.path}' with references, which is not allowed:${references.map((r) => `\n  ${r}`).join('')}`,
        );
      }
      const got = contentHash(actual, method, algo);
      entry.ca = printContentAddress({ method, hash: got });
      if (!hashEquals(wanted, got)) {
        hashMismatch = new BuildError(
          'HASH_MISMATCH',
          `hash mismatch in fixed-output derivation '${drvPath}':\n  specified: ${printHash(wanted, 'sri')}\n     got:    ${printHash(got, 'sri')}`,
          { exitCode: 102 },
        );
        entry.path = makeFixedOutputPath(
          outputPathName(drv.name, name),
          { method, hash: got },
          { storeDir: store.storeDir },
        );
      }
    }
    scanned.push(entry);
  }
  sortOutputs(drvPath, scanned);

  // A mismatching fixed output goes to the path of the hash it really has, which nobody locked yet.
  const extraLock = hashMismatch ? await store.lockPaths([scanned[0]!.path]) : undefined;
  try {
    for (const s of scanned) {
      const dest = store.toRealPath(s.path);
      if (store.fsync) fsyncTree(s.actual);
      if (dest === s.actual) continue;
      if (s.path !== drv.outputs.get(s.name)!.path && store.isValidPathSync(s.path)) {
        removeTreeSync(s.actual);
        continue;
      }
      removeTreeSync(dest);
      renameSync(s.actual, dest);
    }
    if (store.fsync) fsyncDirSync(store.realStoreDir);
    const now = Math.floor(Date.now() / 1000);
    const infos = new Map<string, ValidPathInfo>();
    for (const s of scanned) {
      const info: ValidPathInfo = {
        path: s.path,
        deriver: drvPath,
        narHash: printHash(s.narHash, 'base16', { prefix: true }),
        narSize: s.narSize,
        references: s.references,
        registrationTime: now,
        ultimate: true,
        sigs: [],
      };
      if (s.ca !== undefined) info.ca = s.ca;
      infos.set(s.name, info);
    }
    if (!hashMismatch) {
      checkOutputs(p, infos, { storeDir: store.storeDir, pathInfo: (q) => mustInfo(store, q) });
    }
    const toRegister = [...infos.values()].filter((i) => !(hashMismatch && store.isValidPathSync(i.path)));
    if (toRegister.length > 0) store.registerValidPaths(toRegister);
    const builtOutputs = new Map([...infos].map(([n, i]) => [n, i.path]));
    for (const name of opts.alreadyValid ?? []) builtOutputs.set(name, drv.outputs.get(name)!.path);
    return hashMismatch ? { builtOutputs, hashMismatch } : { builtOutputs };
  } finally {
    extraLock?.release();
  }
}

function mustInfo(store: LocalBuildStore, path: string): ValidPathInfo {
  const info = store.queryPathInfoSync(path);
  if (!info) throw new BuildError('MISSING_INPUT', `path '${path}' is not valid`);
  return info;
}

/** "r:sha256" -> recursive sha256; "sha1" -> flat sha1. */
export function parseOutputHashAlgo(
  hashAlgo: string,
  drvPath: string,
): { method: 'flat' | 'recursive'; algo: ReturnType<typeof parseHashAlgo> } {
  if (hashAlgo.startsWith('text:') || hashAlgo.startsWith('git:')) {
    throw new BuildError('BAD_DRV', `unsupported output hash method '${hashAlgo}' in '${drvPath}'`);
  }
  const recursive = hashAlgo.startsWith('r:');
  return {
    method: recursive ? 'recursive' : 'flat',
    algo: parseHashAlgo(recursive ? hashAlgo.slice(2) : hashAlgo),
  };
}

/** The hash a fixed output of `method` has: of the file's contents, or of the tree's NAR. */
export function contentHash(actual: string, method: 'flat' | 'recursive', algo: HashAlgo): Hash {
  return method === 'flat' ? fileHashSync(actual, algo) : narHashSync(actual, algo).hash;
}

/** Dependency order between outputs (referenced outputs first); a cycle is an error as in 2.8. */
function sortOutputs(drvPath: string, outs: Scanned[]): void {
  const byPath = new Map(outs.map((o) => [o.path, o]));
  const order: Scanned[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (o: Scanned, parent: string | undefined) => {
    const s = state.get(o.name);
    if (s === 'done') return;
    if (s === 'visiting') {
      throw rejected(
        `cycle detected in build of '${drvPath}' in the references of output '${o.name}' from output '${parent}'`,
      );
    }
    state.set(o.name, 'visiting');
    for (const r of o.references) {
      const dep = byPath.get(r);
      if (dep && dep !== o) visit(dep, o.name);
    }
    state.set(o.name, 'done');
    order.push(o);
  };
  for (const o of outs) visit(o, undefined);
  outs.splice(0, outs.length, ...order);
}

function rejected(msg: string): BuildError {
  return new BuildError('OUTPUT_REJECTED', msg);
}

/** fsync every regular file and directory of a tree (symlinks need nothing). */
function fsyncTree(path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) for (const name of readdirSync(path)) fsyncTree(`${path}/${name}`);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
