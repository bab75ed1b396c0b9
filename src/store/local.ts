// LocalStore: a Nix store on this machine's file system — the store objects under `realStoreDir`
// (a chroot-style `<root>/nix/store` whose logical name stays `/nix/store`), Nix's SQLite schema in
// `<stateDir>/db`, roots under `<stateDir>/{gcroots,profiles,temproots}`. Adding is atomic:
// unpack to a temporary name beside the target, check, fsync, rename, then register in one
// transaction. The pieces live in the files imported below; this class holds the state.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Derivation, derivationName, isDerivationPath, parseDerivation } from '../formats/derivation.js';
import type { Hash } from '../formats/hash.js';
import type { NarSink } from '../formats/nar-types.js';
import { addDumpToStore } from './add-dump.js';
import { addNarThenInfo, addToStoreNar } from './add-nar.js';
import { type AddPathOptions, addPathSync, addTextSync } from './add-path.js';
import { type AutoGcSettings, autoGc } from './auto-gc.js';
import type { BufferPool } from './buffer-pool.js';
import { openStoreDb, type StoreDb } from './db.js';
import { StoreError } from './errors.js';
import { type CollectGarbageOptions, collectGarbage, type GcResult } from './gc.js';
import { lockFiles, type PathLock } from './locks.js';
import { dumpPath } from './nar-dump-disk.js';
import { linkedInodes, linksDir, type OptimiseStats, optimisePath } from './optimise.js';
import { registerValidPaths } from './register.js';
import { addIndirectRoot, addPermRoot, type GcRoot, listRoots, type RootsContext } from './roots.js';
import type { AddFromDumpOptions, AddToStoreOptions, Store, ValidPathInfo } from './store.js';
import { assertStorePath, buildLogFile } from './store-paths.js';
import { acquireTempRoots, releaseTempRoots, type TempRoots } from './temp-roots.js';
import { type VerifyOptions, type VerifyResult, verifyStore } from './verify.js';
import { NIX_VERSION_STRING } from './version.js';

export interface LocalStoreOptions {
  /** Chroot-style root: store objects in `<root><storeDir>`, state in `<root>/nix/var/tix`. */
  root: string;
  /** Logical store dir, default "/nix/store". */
  storeDir?: string;
  /** Overrides of the physical locations derived from `root`. */
  realStoreDir?: string;
  stateDir?: string;
  logDir?: string;
  /** The URI to report; default "local?root=<root>". */
  uri?: string;
  /** fsync files and directories before registering (default true). */
  fsync?: boolean;
  /** GC: a live output keeps its `.drv` (default true). */
  keepDerivations?: boolean;
  /** GC: a live `.drv` keeps its outputs (default false). */
  keepOutputs?: boolean;
  /** addToStoreNar with checkSigs: require a content address or a signature by one of these keys. */
  requireSigs?: boolean;
  trustedPublicKeys?: string[];
  /** GC: treat store paths used by running processes (/proc) as roots (default true). */
  runtimeRoots?: boolean;
  /** `min-free` / `max-free`: automatic GC before builds and when adding paths (auto-gc.ts). */
  autoGc?: AutoGcSettings;
  /** `auto-optimise-store`: hard-link identical files of every path as it is registered. */
  autoOptimise?: boolean;
}

export class LocalStore implements Store {
  readonly uri: string;
  readonly storeDir: string;
  readonly root: string;
  readonly realStoreDir: string;
  readonly stateDir: string;
  readonly logDir: string;
  readonly db: StoreDb;
  readonly tempRoots: TempRoots;
  readonly fsync: boolean;
  readonly keepDerivations: boolean;
  readonly keepOutputs: boolean;
  readonly requireSigs: boolean;
  readonly trustedPublicKeys: string[];
  readonly runtimeRoots: boolean;
  readonly autoOptimise: boolean;
  /** Auto-GC settings (may be set after opening); undefined = off. */
  autoGcSettings: AutoGcSettings | undefined;
  /** hashDerivationModulo of derivations read so far (derivations are immutable). */
  readonly drvHashes = new Map<string, Hash>();
  #closed = false;

  constructor(opts: LocalStoreOptions) {
    this.root = opts.root;
    this.storeDir = opts.storeDir ?? '/nix/store';
    this.realStoreDir =
      opts.realStoreDir ?? (opts.root === '/' ? this.storeDir : join(opts.root, this.storeDir));
    this.stateDir = opts.stateDir ?? join(opts.root, 'nix/var/tix');
    // Build logs where Nix keeps them, so that `nix log` (and nix-store -l) through a tix daemon
    // find them, and `tix log` those of Nix's builds.
    this.logDir = opts.logDir ?? join(opts.root, 'nix/var/log/nix');
    this.uri = opts.uri ?? `local?root=${opts.root}`;
    this.fsync = opts.fsync ?? true;
    this.keepDerivations = opts.keepDerivations ?? true;
    this.keepOutputs = opts.keepOutputs ?? false;
    this.requireSigs = opts.requireSigs ?? true;
    this.trustedPublicKeys = opts.trustedPublicKeys ?? [];
    this.runtimeRoots = opts.runtimeRoots ?? true;
    this.autoOptimise = opts.autoOptimise ?? false;
    this.autoGcSettings = opts.autoGc;
    // .links made at once, as Nix 2.8's LocalStore does (store optimisation's hard-link targets).
    mkdirSync(linksDir(this.realStoreDir), { recursive: true });
    for (const d of ['gcroots', 'profiles', 'temproots'])
      mkdirSync(join(this.stateDir, d), { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
    this.db = openStoreDb(join(this.stateDir, 'db'));
    this.tempRoots = acquireTempRoots(this.stateDir);
  }

  /** Where a logical store path lives on disk. */
  toRealPath(storePath: string): string {
    if (!storePath.startsWith(`${this.storeDir}/`)) {
      throw new StoreError('NOT_IN_STORE', `path '${storePath}' is not in the Nix store`);
    }
    return this.realStoreDir + storePath.slice(this.storeDir.length);
  }

  #checked(path: string): string {
    assertStorePath(path, this.storeDir);
    return path;
  }

  isValidPathSync(path: string): boolean {
    return this.db.isValid(this.#checked(path));
  }

  async isValidPath(path: string): Promise<boolean> {
    return this.isValidPathSync(path);
  }

  async queryValidPaths(paths: Iterable<string>): Promise<Set<string>> {
    return this.queryValidPathsSync(paths);
  }

  /** The valid ones among `paths`, looked up in one read transaction. */
  queryValidPathsSync(paths: Iterable<string>): Set<string> {
    return this.db.validPaths(paths, (p) => assertStorePath(p, this.storeDir));
  }

  queryPathInfoSync(path: string): ValidPathInfo | undefined {
    return this.db.queryPathInfo(this.#checked(path));
  }

  async queryPathInfo(path: string): Promise<ValidPathInfo | undefined> {
    return this.queryPathInfoSync(path);
  }

  async queryReferrers(path: string): Promise<string[]> {
    return this.db.queryReferrers(this.#checked(path));
  }

  /** Valid derivations that name `path` as an output. */
  async queryValidDerivers(path: string): Promise<string[]> {
    return this.db.queryValidDerivers(this.#checked(path));
  }

  async queryPathFromHashPart(hashPart: string): Promise<string | undefined> {
    return this.db.queryPathFromHashPart(this.storeDir, hashPart);
  }

  async queryAllValidPaths(): Promise<string[]> {
    return this.db.allValidPaths();
  }

  async queryDerivationOutputMap(drvPath: string): Promise<Map<string, string>> {
    if (!this.isValidPathSync(drvPath))
      throw new StoreError('INVALID_PATH', `path '${drvPath}' is not valid`);
    const fromDb = this.db.queryDerivationOutputs(drvPath);
    if (fromDb.size > 0) return fromDb;
    const out = new Map<string, string>();
    for (const [name, o] of this.readDerivation(drvPath).outputs) if (o.path) out.set(name, o.path);
    return out;
  }

  /** Parses a `.drv` file of this store (it need not be valid yet, only present on disk). */
  readDerivation(drvPath: string): Derivation {
    this.#checked(drvPath);
    if (!isDerivationPath(drvPath)) throw new StoreError('BAD_PATH', `path '${drvPath}' is not a derivation`);
    let text: Buffer;
    try {
      text = readFileSync(this.toRealPath(drvPath));
    } catch (e) {
      throw new StoreError('INVALID_PATH', `cannot read derivation '${drvPath}': ${(e as Error).message}`, {
        cause: e,
      });
    }
    return parseDerivation(text, { name: derivationName(drvPath), path: drvPath, storeDir: this.storeDir });
  }

  /** Where tix kept build logs before it kept them where Nix does (read only, by `tix log`). */
  oldBuildLogPath(drvPath: string): string {
    return buildLogFile(join(this.stateDir, 'log'), this.storeDir, this.#checked(drvPath));
  }

  /** Where the build log of `drvPath` goes (uncompressed); its directory exists. */
  buildLogPath(drvPath: string): string {
    const file = buildLogFile(this.logDir, this.storeDir, this.#checked(drvPath));
    mkdirSync(dirname(file), { recursive: true });
    return file;
  }

  async *narFromPath(path: string, opts: { pool?: BufferPool } = {}): AsyncIterable<Uint8Array> {
    if (!this.isValidPathSync(path)) throw new StoreError('INVALID_PATH', `path '${path}' is not valid`);
    yield* dumpPath(this.toRealPath(path), { pool: opts.pool });
  }

  async addToStoreNar(
    info: ValidPathInfo,
    nar: AsyncIterable<Uint8Array>,
    opts: AddToStoreOptions = {},
  ): Promise<void> {
    await this.autoGc();
    return addToStoreNar(this, info, nar, opts);
  }

  async addNarThenInfo(
    receive: (sink: NarSink) => Promise<{ narSize: number; narHash: Hash }>,
    readInfo: (nar: { narSize: number; narHash: Hash }) => Promise<ValidPathInfo>,
    opts: AddToStoreOptions = {},
  ): Promise<string> {
    await this.autoGc();
    return addNarThenInfo(this, receive, readInfo, opts);
  }

  async version(): Promise<string> {
    return NIX_VERSION_STRING;
  }

  async addToStoreFromDump(dump: AsyncIterable<Uint8Array>, opts: AddFromDumpOptions): Promise<string> {
    await this.autoGc();
    return addDumpToStore(this, dump, opts);
  }

  /** Collects garbage when free space is below `min-free` (see auto-gc.ts); checked before builds and adds. */
  autoGc(): Promise<void> {
    return this.autoGcSettings ? autoGc(this, this.autoGcSettings) : Promise.resolve();
  }

  addTextToStoreSync(
    name: string,
    text: Uint8Array | string,
    references: string[],
    opts: { repair?: boolean } = {},
  ): string {
    return addTextSync(this, name, text, references, opts);
  }

  async addTextToStore(name: string, text: Uint8Array | string, references: string[]): Promise<string> {
    return this.addTextToStoreSync(name, text, references);
  }

  /** Copies `srcPath` into the store, content-addressed (`nix-store --add[-fixed]`, `builtins.path`). */
  addPathToStoreSync(srcPath: string, opts: AddPathOptions): ValidPathInfo {
    return addPathSync(this, srcPath, opts);
  }

  /** As addPathToStoreSync (the copy itself runs synchronously). */
  async addPathToStore(srcPath: string, opts: AddPathOptions): Promise<ValidPathInfo> {
    await this.autoGc();
    return this.addPathToStoreSync(srcPath, opts);
  }

  /**
   * Registers paths whose files are already in place, in one transaction (references must be
   * valid or in the batch; `.drv` outputs are checked and recorded in DerivationOutputs).
   */
  registerValidPaths(infos: ValidPathInfo[]): void {
    registerValidPaths(this, infos);
    if (!this.autoOptimise) return;
    // Best effort, as the paths are valid already: a file that cannot be linked stays a copy.
    for (const i of infos) {
      try {
        optimisePath(this.realStoreDir, this.toRealPath(i.path), { filesLinked: 0, bytesFreed: 0 });
      } catch {
        // Left unoptimised; `tix store optimise` tries again.
      }
    }
  }

  /** `nix-store --optimise`: hard-links identical files across all valid paths. */
  async optimiseStore(): Promise<OptimiseStats> {
    const stats: OptimiseStats = { filesLinked: 0, bytesFreed: 0 };
    const linked = linkedInodes(this.realStoreDir);
    for (const p of this.db.allValidPaths()) {
      await this.addTempRoot(p);
      if (!this.db.isValid(p)) continue;
      optimisePath(this.realStoreDir, this.toRealPath(p), stats, linked);
    }
    return stats;
  }

  /** Adds signatures to a valid path. */
  async addSignatures(path: string, sigs: string[]): Promise<void> {
    const info = this.queryPathInfoSync(path);
    if (!info) throw new StoreError('INVALID_PATH', `path '${path}' is not valid`);
    this.db.setSignatures(path, [...new Set([...info.sigs, ...sigs])]);
  }

  /** Per-path locks (`<real path>.lock`), across processes. */
  lockPaths(paths: string[], opts: { wait?: boolean } = {}): Promise<PathLock | undefined> {
    return lockFiles(
      paths.map((p) => `${this.toRealPath(this.#checked(p))}.lock`),
      opts,
    );
  }

  async addTempRoot(path: string): Promise<void> {
    await this.tempRoots.add(this.#checked(path));
  }

  addTempRootSync(path: string): void {
    this.tempRoots.addSync(this.#checked(path));
  }

  async addIndirectRoot(linkPath: string): Promise<void> {
    addIndirectRoot(this.stateDir, linkPath);
  }

  async addPermRoot(storePath: string, linkPath: string): Promise<string> {
    await this.addTempRoot(storePath);
    return addPermRoot(this.rootsContext(), storePath, linkPath);
  }

  rootsContext(): RootsContext {
    return {
      storeDir: this.storeDir,
      realStoreDir: this.realStoreDir,
      stateDir: this.stateDir,
      isValid: (p) => this.db.isValid(p),
    };
  }

  /** Every root with where it was found (links, "{temp:<pid>}", /proc entries). */
  async listRoots(): Promise<GcRoot[]> {
    return listRoots(this.rootsContext(), { runtime: this.runtimeRoots });
  }

  /**
   * Root link -> store path. Temp roots are keyed "{temp:<pid>}"; a process's second and later
   * temp roots get "{temp:<pid>}#<n>" so that none is lost (listRoots keeps the plain keys).
   */
  async findRoots(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const r of await this.listRoots()) {
      let key = r.link;
      for (let n = 2; out.has(key) && out.get(key) !== r.path; n++) key = `${r.link}#${n}`;
      out.set(key, r.path);
    }
    return out;
  }

  collectGarbage(opts: CollectGarbageOptions): Promise<GcResult> {
    return collectGarbage(this, opts);
  }

  verifyStore(opts: VerifyOptions): Promise<VerifyResult> {
    return verifyStore(this, opts);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    releaseTempRoots(this.tempRoots);
    this.db.close();
  }
}
