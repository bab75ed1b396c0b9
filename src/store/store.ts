// The Store interface: what every backend (local, memory, serve over ssh, daemon, binary cache)
// implements. Paths are full store paths ("/nix/store/<hash>-<name>") in the store's logical
// store dir. Backends live one per file beside this one; `openStore(uri)` in open.ts picks one.

import type { BasicDerivation } from '../formats/derivation.js';
import type { Hash, HashAlgo } from '../formats/hash.js';
import type { NarSink } from '../formats/nar-types.js';
import type { BufferPool } from './buffer-pool.js';

/** What Nix calls ValidPathInfo: everything recorded about a valid store path. */
export interface ValidPathInfo {
  path: string;
  /** Full `.drv` path or undefined. */
  deriver?: string;
  /** "sha256:<base16>" exactly as the SQLite `hash` column stores it. */
  narHash: string;
  narSize: number;
  /** Full store paths, sorted byte-wise; may include `path` itself. */
  references: string[];
  /** Unix seconds. */
  registrationTime: number;
  /** True when built on this machine. */
  ultimate: boolean;
  /** "keyname:base64sig" strings. */
  sigs: string[];
  /** Content-address string ("text:sha256:<nix32>", "fixed:r:sha256:<nix32>", …) or undefined. */
  ca?: string;
}

/** Nix's BuildResult status codes (numeric values are on the wire). */
export const BuildStatus = {
  Built: 0,
  Substituted: 1,
  AlreadyValid: 2,
  PermanentFailure: 3,
  InputRejected: 4,
  OutputRejected: 5,
  TransientFailure: 6,
  CachedFailure: 7,
  TimedOut: 8,
  MiscFailure: 9,
  DependencyFailed: 10,
  LogLimitExceeded: 11,
  NotDeterministic: 12,
  ResolvesToAlreadyValid: 13,
  NoSubstituters: 14,
} as const;
export type BuildStatus = (typeof BuildStatus)[keyof typeof BuildStatus];

export interface BuildResult {
  status: BuildStatus;
  errorMsg: string;
  timesBuilt: number;
  isNonDeterministic: boolean;
  startTime: number;
  stopTime: number;
  /** Output name -> output store path, for outputs that were built or already valid. */
  builtOutputs: Map<string, string>;
}

/** A result decided without building anything (start and stop time now). */
export function immediateResult(
  status: BuildStatus,
  errorMsg = '',
  builtOutputs: Map<string, string> = new Map(),
): BuildResult {
  const now = Math.floor(Date.now() / 1000);
  return {
    status,
    errorMsg,
    timesBuilt: 0,
    isNonDeterministic: false,
    startTime: now,
    stopTime: now,
    builtOutputs,
  };
}

/** Nix's BuildMode (wire values). */
export const BuildMode = { Normal: 0, Repair: 1, Check: 2 } as const;
export type BuildMode = (typeof BuildMode)[keyof typeof BuildMode];

/** A path to realise: an opaque store path, or outputs of a derivation ("*" = all). */
export type DerivedPath =
  | { kind: 'opaque'; path: string }
  | { kind: 'built'; drvPath: string; outputs: string[] };

export interface AddToStoreOptions {
  /** Verify signatures against trusted keys (a remote/untrusted source). */
  checkSigs?: boolean;
  /** Re-write the path even if valid. */
  repair?: boolean;
  /**
   * The pool the NAR's chunks were read into (narFromPath's `pool`): the store may give each chunk
   * back once it no longer needs it, so that the next reads reuse that memory.
   */
  pool?: BufferPool;
}

/** What addToStoreFromDump adds: a content-addressed object named from its content hash. */
export interface AddFromDumpOptions {
  name: string;
  /** 'recursive': the dump is a NAR; 'flat': it is a regular file's bytes. */
  method: 'flat' | 'recursive';
  algo: HashAlgo;
  references: string[];
  repair?: boolean;
}

/** Options a client sends with a remote build (serve BuildOptions; worker SetOptions). */
export interface BuildOptions {
  /** Seconds without output before the build is killed; 0 = none. */
  maxSilentTime: number;
  /** Seconds the build may take; 0 = none. */
  buildTimeout: number;
  /** Bytes of log allowed; 0 = none. */
  maxLogSize: number;
  keepFailed: boolean;
}

/**
 * A store that can build a BasicDerivation it is sent (serve BuildDerivation, worker
 * BuildDerivation). `onLog` receives the builder's output as it arrives.
 */
export interface BuildingStore extends Store {
  buildDerivation(
    drvPath: string,
    drv: BasicDerivation,
    opts: BuildOptions & { onLog?: (chunk: Uint8Array) => void },
  ): Promise<BuildResult>;
}

/** Options that every backend understands; anything else is backend-specific. */
export interface Store {
  /** The URI this store was opened with, canonicalised (e.g. "local?root=/x", "ssh://host"). */
  readonly uri: string;
  /** Logical store dir, "/nix/store" by default. */
  readonly storeDir: string;

  isValidPath(path: string): Promise<boolean>;
  /**
   * The subset of `paths` that is valid. With `substitute`, the store may first try to fetch
   * missing paths from its own substituters (serve protocol's flag, builders-use-substitutes).
   */
  queryValidPaths(paths: Iterable<string>, opts?: { substitute?: boolean }): Promise<Set<string>>;
  queryPathInfo(path: string): Promise<ValidPathInfo | undefined>;
  queryReferrers(path: string): Promise<string[]>;
  /** Output name -> path for a valid `.drv` (from DerivationOutputs or the parsed drv). */
  queryDerivationOutputMap(drvPath: string): Promise<Map<string, string>>;
  /**
   * The NAR serialisation of a valid path, streamed. With `pool`, a backend may read into the
   * pool's buffers; the consumer then gives every chunk back (pool.give) once done with it.
   */
  narFromPath(path: string, opts?: { pool?: BufferPool }): AsyncIterable<Uint8Array>;
  /**
   * Register a path from its NAR. Atomic: the path becomes valid only after the NAR was unpacked,
   * its hash and size checked against `info`, and its references recorded.
   */
  addToStoreNar(info: ValidPathInfo, nar: AsyncIterable<Uint8Array>, opts?: AddToStoreOptions): Promise<void>;
  /**
   * Optional: adds a path whose NAR comes before its info (the nix-store --export format) without
   * holding the NAR in memory. `receive` parses the NAR into `sink` and returns its size and
   * sha256; `readInfo` then reads what follows it. Same atomicity as addToStoreNar. Returns the
   * path. Stores without it are given the NAR buffered, through addToStoreNar.
   */
  addNarThenInfo?(
    receive: (sink: NarSink) => Promise<{ narSize: number; narHash: Hash }>,
    readInfo: (nar: { narSize: number; narHash: Hash }) => Promise<ValidPathInfo>,
    opts?: AddToStoreOptions,
  ): Promise<string>;
  /**
   * Optional: the version of the software behind the store (a local store: tix's; a daemon: what
   * its handshake said), connecting if needed (`tix store ping`).
   */
  version?(): Promise<string | undefined>;
  /**
   * Optional: a content-addressed object from its serialisation (Nix's addToStoreFromDump, the
   * daemon's AddToStore), streamed: it never needs the whole dump in memory. Returns the path.
   * Stores without it are given the dump buffered (server/worker-add-ca.ts).
   */
  addToStoreFromDump?(dump: AsyncIterable<Uint8Array>, opts: AddFromDumpOptions): Promise<string>;
  /**
   * Optional batched form of addToStoreNar: paths arrive in the given order (references first)
   * in one stream (worker AddMultipleToStore, serve pipelining). Same atomicity per path.
   */
  addMultipleToStore?(
    items: Iterable<{ info: ValidPathInfo; nar: () => AsyncIterable<Uint8Array> }>,
    opts?: AddToStoreOptions,
  ): Promise<void>;
  /** Add a text file (a `.drv` or `builtins.toFile`); returns its store path. Idempotent. */
  addTextToStore(name: string, text: Uint8Array | string, references: string[]): Promise<string>;
  /** Protect a path from GC for the lifetime of this store handle. */
  addTempRoot(path: string): Promise<void>;
  close(): Promise<void>;
}
