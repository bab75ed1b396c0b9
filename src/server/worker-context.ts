// What every worker-protocol operation handler gets: the store, the connection's reader, reply
// writer and logger, the negotiated protocol minor, whether the client is trusted, its SetOptions
// settings, and the build layer. Also the optional store capabilities beyond the Store interface.
import type { BasicDerivation, Derivation } from '../formats/derivation.js';
import { derivationName, parseDerivation } from '../formats/derivation.js';
import { collectBytes, narTreeSink } from '../formats/nar.js';
import { parseNar } from '../formats/nar-parse.js';
import type { WireReader, WireWriter } from '../formats/wire.js';
import { StoreError } from '../store/errors.js';
import type { OptimiseStats } from '../store/optimise.js';
import type { BuildMode, BuildResult, DerivedPath, Store } from '../store/store.js';
import type { SubstitutableInfo } from '../store/substitute.js';
import type { TunnelLogger } from './worker-logger.js';

/** Store operations beyond the Store interface that some backends (LocalStore) have. */
export interface StoreExtras {
  queryAllValidPaths(): Promise<string[]>;
  queryPathFromHashPart(hashPart: string): Promise<string | undefined>;
  queryValidDerivers(path: string): Promise<string[]>;
  addSignatures(path: string, sigs: string[]): Promise<void>;
  addIndirectRoot(linkPath: string): Promise<void>;
  findRoots(): Promise<Map<string, string>>;
  collectGarbage(opts: {
    action: 'deleteDead' | 'returnLive' | 'returnDead' | 'deleteSpecific';
    paths?: string[];
    maxFreed?: number;
    ignoreLiveness?: boolean;
    /** Progress lines, from a store that collects garbage itself (a daemon sends its own). */
    log?: (line: string) => void;
  }): Promise<{ paths: string[]; bytesFreed: number }>;
  verifyStore(opts: {
    checkContents: boolean;
    repair: boolean;
    log?: (line: string, level: 'info' | 'error') => void;
  }): Promise<{ errors: string[] }>;
  buildLogPath(drvPath: string): string;
  /** Hard-links identical files (`nix-store --optimise`). */
  optimiseStore(): Promise<OptimiseStats | undefined>;
  readDerivation(drvPath: string): Derivation;
}

export type DaemonStore = Store & Partial<StoreExtras>;

/** The client's SetOptions, applied to the builds of its connection. */
export interface ClientSettings {
  keepFailed: boolean;
  keepGoing: boolean;
  tryFallback: boolean;
  verbosity: number;
  maxBuildJobs: number;
  maxSilentTime: number;
  verboseBuild: boolean;
  buildCores: number;
  useSubstitutes: boolean;
  /** Accepted `name = value` overrides (trusted clients, or the few settings anybody may set). */
  overrides: Map<string, string>;
}

export interface WorkerBuildContext {
  mode: BuildMode;
  settings: ClientSettings;
  logger: TunnelLogger;
  /** Aborted when the client hangs up. */
  signal: AbortSignal;
}

export interface KeyedBuildResult {
  path: DerivedPath;
  result: BuildResult;
  /** The DrvOutput id (`sha256:<hash modulo>!<output>`) of an output of this path's derivation. */
  outputId: (outputName: string) => string;
}

/** How the daemon builds; src/server/worker-build.ts wires it to src/build. */
export interface WorkerBuilder {
  /** Builds `paths`; never throws for build failures (they are in the results and `failure`). */
  buildPaths(
    paths: DerivedPath[],
    ctx: WorkerBuildContext,
  ): Promise<{ results: KeyedBuildResult[]; failure?: { message: string; exitStatus: number } }>;
  buildDerivation(drvPath: string, drv: BasicDerivation, ctx: WorkerBuildContext): Promise<BuildResult>;
}

/** The daemon's substituters, for the queries that consult them (src/store/substitute.ts). */
export interface WorkerSubstituters {
  /**
   * What the substituters offer for those of `paths` that are not valid; a mass query asks only
   * those that want one (WantMassQuery).
   */
  query(paths: string[], opts?: { massQuery?: boolean }): Promise<Map<string, SubstitutableInfo>>;
  /** Fetches what it can of `paths` (derivations excepted); failures are only logged. */
  prefetch(paths: string[]): Promise<void>;
  close(): Promise<void>;
}

export interface WorkerConn {
  readonly store: DaemonStore;
  readonly inp: WireReader;
  readonly reply: WireWriter;
  readonly logger: TunnelLogger;
  readonly minor: number;
  readonly trusted: boolean;
  readonly settings: ClientSettings;
  readonly builder?: WorkerBuilder;
  readonly substituters?: () => WorkerSubstituters | undefined;
  readonly signal: AbortSignal;
  /** `nix.conf` settings of the daemon, for the restricted-substituter rule. */
  readonly daemonSettings: (name: string) => string | undefined;
}

export function defaultClientSettings(): ClientSettings {
  return {
    keepFailed: false,
    keepGoing: false,
    tryFallback: false,
    verbosity: 3,
    maxBuildJobs: 1,
    maxSilentTime: 0,
    verboseBuild: true,
    buildCores: 0,
    useSubstitutes: true,
    overrides: new Map(),
  };
}

/** The store's `name` operation, or an UNSUPPORTED error naming the store. */
export function need<K extends keyof StoreExtras>(store: DaemonStore, name: K): StoreExtras[K] {
  const f = store[name];
  if (typeof f !== 'function') {
    throw new StoreError('UNSUPPORTED', `operation '${name}' is not supported by store '${store.uri}'`);
  }
  return (f as (...a: unknown[]) => unknown).bind(store) as StoreExtras[K];
}

/** Parses a valid `.drv` of the store (its file, or its NAR for stores without files). */
export async function readStoreDerivation(store: DaemonStore, drvPath: string): Promise<Derivation> {
  if (typeof store.readDerivation === 'function') return store.readDerivation(drvPath);
  if (!(await store.isValidPath(drvPath)))
    throw new StoreError('INVALID_PATH', `path '${drvPath}' is not valid`);
  const sink = narTreeSink();
  await parseNar([await collectBytes(store.narFromPath(drvPath))], sink);
  const tree = sink.root();
  if (tree.type !== 'regular') throw new StoreError('BAD_PATH', `path '${drvPath}' is not a derivation`);
  return parseDerivation(tree.contents, {
    name: derivationName(drvPath),
    path: drvPath,
    storeDir: store.storeDir,
  });
}
