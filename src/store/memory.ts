// MemoryStore: a Store held in memory (NARs and path infos in maps), for tests and as the second
// backend of the conformance suite. It checks what the local store checks: NAR syntax, hash and
// size, content addresses, references, derivation outputs, signatures when asked.
import { sortUtf8 } from '../formats/byte-order.js';
import { type Derivation, derivationName, isDerivationPath, parseDerivation } from '../formats/derivation.js';
import { checkDerivationOutputs, makeInputHasher } from '../formats/derivation-hash.js';
import { FormatError } from '../formats/errors.js';
import { type Hash, HashSink, hashBytes, hashEquals } from '../formats/hash.js';
import { collectBytes, type NarTree, narTreeSink } from '../formats/nar.js';
import { parseNar } from '../formats/nar-parse.js';
import { addTextAsNar } from './add-text-nar.js';
import { caReproducesPath, HashModuloSink, hashPartOf, parseCa } from './ca-hash.js';
import { StoreError } from './errors.js';
import { normaliseInfo } from './register.js';
import { checkSignatures } from './signatures.js';
import type { AddToStoreOptions, Store, ValidPathInfo } from './store.js';
import { assertStorePath, importMismatch, invalidReference, parseNarHash } from './store-paths.js';

interface Entry {
  info: ValidPathInfo;
  nar: Uint8Array;
  drv?: Derivation;
}

export interface MemoryStoreOptions {
  storeDir?: string;
  /** addToStoreNar with checkSigs requires a CA or a trusted signature (default true). */
  requireSigs?: boolean;
  trustedPublicKeys?: string[];
}

function caHashOf(
  nar: Uint8Array,
  tree: NarTree,
  info: ValidPathInfo,
  method: string,
  algo: Hash['algo'],
): Hash | undefined {
  if (method === 'recursive') {
    const h = new HashModuloSink(
      algo,
      info.references.includes(info.path) ? hashPartOf(info.path) : undefined,
    );
    h.update(nar);
    return h.finish();
  }
  if (tree.type !== 'regular') return undefined;
  return hashBytes(algo, typeof tree.contents === 'string' ? Buffer.from(tree.contents) : tree.contents);
}

export class MemoryStore implements Store {
  readonly uri = 'memory';
  readonly storeDir: string;
  readonly requireSigs: boolean;
  readonly trustedPublicKeys: string[];
  readonly tempRoots = new Set<string>();
  readonly #paths = new Map<string, Entry>();

  constructor(opts: MemoryStoreOptions = {}) {
    this.storeDir = opts.storeDir ?? '/nix/store';
    this.requireSigs = opts.requireSigs ?? true;
    this.trustedPublicKeys = opts.trustedPublicKeys ?? [];
  }

  #entry(path: string): Entry | undefined {
    assertStorePath(path, this.storeDir);
    return this.#paths.get(path);
  }

  async isValidPath(path: string): Promise<boolean> {
    return this.#entry(path) !== undefined;
  }

  async queryValidPaths(paths: Iterable<string>): Promise<Set<string>> {
    const out = new Set<string>();
    for (const p of paths) if (this.#entry(p)) out.add(p);
    return out;
  }

  async queryPathInfo(path: string): Promise<ValidPathInfo | undefined> {
    const e = this.#entry(path);
    return e ? { ...e.info, references: [...e.info.references], sigs: [...e.info.sigs] } : undefined;
  }

  async queryReferrers(path: string): Promise<string[]> {
    this.#entry(path);
    const out: string[] = [];
    for (const [p, e] of this.#paths) if (e.info.references.includes(path)) out.push(p);
    return sortUtf8(out);
  }

  async queryDerivationOutputMap(drvPath: string): Promise<Map<string, string>> {
    const e = this.#entry(drvPath);
    if (!e?.drv) throw new StoreError('INVALID_PATH', `path '${drvPath}' is not a valid derivation`);
    const out = new Map<string, string>();
    for (const [name, o] of e.drv.outputs) if (o.path) out.set(name, o.path);
    return out;
  }

  async *narFromPath(path: string): AsyncIterable<Uint8Array> {
    const e = this.#entry(path);
    if (!e) throw new StoreError('INVALID_PATH', `path '${path}' is not valid`);
    yield e.nar.slice();
  }

  async addToStoreNar(
    rawInfo: ValidPathInfo,
    nar: AsyncIterable<Uint8Array>,
    opts: AddToStoreOptions = {},
  ): Promise<void> {
    const info = normaliseInfo(rawInfo, this.storeDir);
    if (opts.checkSigs) checkSignatures(info, this);
    if (!opts.repair && this.#paths.has(info.path)) {
      for await (const _ of nar);
      return;
    }
    const bytes = await collectBytes(nar);
    const sink = narTreeSink();
    try {
      await parseNar([bytes], sink);
    } catch (e) {
      if (e instanceof FormatError)
        throw new StoreError('BAD_NAR', `cannot add path '${info.path}': ${e.message}`, { cause: e });
      throw e;
    }
    const h = new HashSink('sha256');
    h.update(bytes);
    const got = h.finish();
    const expected = parseNarHash(info.narHash, info.path);
    if (!hashEquals(got, expected)) throw importMismatch('hash', info.path, expected, got);
    if (info.narSize !== 0 && info.narSize !== bytes.length)
      throw importMismatch('size', info.path, info.narSize, bytes.length);
    if (info.ca) {
      const ca = parseCa(info.ca);
      const actual = caHashOf(bytes, sink.root(), info, ca.method, ca.hash.algo);
      if (
        !caReproducesPath(info.path, ca, info.references, this.storeDir) ||
        !actual ||
        !hashEquals(actual, ca.hash)
      ) {
        throw new StoreError(
          'HASH_MISMATCH',
          `cannot add path '${info.path}': content address '${info.ca}' does not match`,
        );
      }
    }
    this.#put({ ...info, narSize: bytes.length }, bytes, sink.root());
  }

  #put(info: ValidPathInfo, nar: Uint8Array, tree: NarTree): void {
    for (const r of info.references) {
      if (r !== info.path && !this.#paths.has(r)) throw invalidReference(r);
    }
    let drv: Derivation | undefined;
    if (isDerivationPath(info.path)) {
      try {
        if (tree.type !== 'regular') throw new FormatError('BAD_DRV', 'not a regular file');
        drv = parseDerivation(tree.contents, {
          name: derivationName(info.path),
          path: info.path,
          storeDir: this.storeDir,
        });
        const inputHash = makeInputHasher(
          (p) => {
            const d = this.#paths.get(p)?.drv;
            if (!d) throw new StoreError('INVALID_PATH', `derivation '${p}' is not valid`);
            return d;
          },
          { storeDir: this.storeDir },
        );
        checkDerivationOutputs(drv, { inputHash, storeDir: this.storeDir, drvPath: info.path });
      } catch (e) {
        if (e instanceof FormatError)
          throw new StoreError('BAD_INFO', `cannot register derivation '${info.path}': ${e.message}`, {
            cause: e,
          });
        throw e;
      }
    }
    const old = this.#paths.get(info.path);
    const stored = old ? { ...info, registrationTime: old.info.registrationTime } : info;
    this.#paths.set(info.path, { info: stored, nar, drv });
  }

  async addTextToStore(name: string, text: Uint8Array | string, references: string[]): Promise<string> {
    return addTextAsNar(this, name, text, references);
  }

  async addTempRoot(path: string): Promise<void> {
    assertStorePath(path, this.storeDir);
    this.tempRoots.add(path);
  }

  /** Removes a path nothing else refers to (tests). */
  deletePath(path: string): void {
    for (const [p, e] of this.#paths) {
      if (p !== path && e.info.references.includes(path)) {
        throw new StoreError('GC', `cannot delete path '${path}' since '${p}' refers to it`);
      }
    }
    this.#paths.delete(path);
  }

  async close(): Promise<void> {}
}
