// The worker protocol (nix-daemon socket, `nix-daemon --stdio`, `ssh-ng://`) as Nix 2.8.0 speaks
// it: version 1.34. Opcodes and the encoders/decoders of structured values, shared by the client
// (daemon.ts) and the server (src/server/worker.ts). Layouts: reference/distributed-builds.md §6.
import { compareUtf8, sortedUniqueUtf8 } from '../formats/byte-order.js';
import { isDerivationPath } from '../formats/derivation.js';
import { parseHash, printHash } from '../formats/hash.js';
import type { WireReader, WireWriter } from '../formats/wire.js';
import { StoreError } from './errors.js';
import { canonicalNarHash, drvOutputId, readRealisationMap, realisationJson } from './serve-protocol.js';
import type { BuildResult, BuildStatus, DerivedPath, ValidPathInfo } from './store.js';
import { assertStorePath } from './store-paths.js';

export { STDERR, WORKER_MAGIC_1, WORKER_MAGIC_2 } from '../formats/wire.js';
export { readBasicDerivation, writeBasicDerivation } from './basic-derivation-wire.js';
export { drvOutputId, realisationJson };

/** What Nix 2.8.0 speaks and what tix speaks: 1.34. */
export const WORKER_PROTOCOL_VERSION = 0x122;
/** The oldest client a 2.8.0 daemon accepts (1.10). */
export const MIN_CLIENT_VERSION = 0x10a;

export const WorkerOp = {
  IsValidPath: 1,
  HasSubstitutes: 3,
  QueryPathHash: 4,
  QueryReferences: 5,
  QueryReferrers: 6,
  AddToStore: 7,
  AddTextToStore: 8,
  BuildPaths: 9,
  EnsurePath: 10,
  AddTempRoot: 11,
  AddIndirectRoot: 12,
  SyncWithGC: 13,
  FindRoots: 14,
  ExportPath: 16,
  QueryDeriver: 18,
  SetOptions: 19,
  CollectGarbage: 20,
  QuerySubstitutablePathInfo: 21,
  QueryDerivationOutputs: 22,
  QueryAllValidPaths: 23,
  QueryPathInfo: 26,
  ImportPaths: 27,
  QueryDerivationOutputNames: 28,
  QueryPathFromHashPart: 29,
  QuerySubstitutablePathInfos: 30,
  QueryValidPaths: 31,
  QuerySubstitutablePaths: 32,
  QueryValidDerivers: 33,
  OptimiseStore: 34,
  VerifyStore: 35,
  BuildDerivation: 36,
  AddSignatures: 37,
  NarFromPath: 38,
  AddToStoreNar: 39,
  QueryMissing: 40,
  QueryDerivationOutputMap: 41,
  RegisterDrvOutput: 42,
  QueryRealisation: 43,
  AddMultipleToStore: 44,
  AddBuildLog: 45,
  BuildPathsWithResults: 46,
} as const;

/** Logger activity types and result types (Nix's ActivityType / ResultType). */
export const ActivityType = {
  Unknown: 0,
  CopyPath: 100,
  Realise: 102,
  CopyPaths: 103,
  Builds: 104,
  Build: 105,
  VerifyPaths: 107,
} as const;
export const ResultType = { BuildLogLine: 101, SetPhase: 104, Progress: 105, SetExpected: 106 } as const;
export const Verbosity = {
  Error: 0,
  Warn: 1,
  Notice: 2,
  Info: 3,
  Talkative: 4,
  Chatty: 5,
  Debug: 6,
  Vomit: 7,
} as const;

export function protoMinor(version: number): number {
  return version & 0xff;
}

/** "1.34" */
export function printProtocolVersion(version: number): string {
  return `${version >> 8}.${version & 0xff}`;
}

/** A store path argument; a malformed one is a StoreError('BAD_PATH') like Nix's parseStorePath. */
export async function readStorePath(inp: WireReader, storeDir: string): Promise<string> {
  const p = await inp.string();
  assertStorePath(p, storeDir);
  return p;
}

export async function readStorePaths(inp: WireReader, storeDir: string): Promise<string[]> {
  const list = await inp.strings();
  for (const p of list) assertStorePath(p, storeDir);
  return list;
}

/** Optional store path: "" = none. */
export async function readOptStorePath(inp: WireReader, storeDir: string): Promise<string | undefined> {
  const p = await inp.string();
  if (p === '') return undefined;
  assertStorePath(p, storeDir);
  return p;
}

const CANONICAL_NAR_HASH = /^sha256:[0-9a-f]{64}$/;

/** A narHash as the worker protocol sends it: base16 without the algorithm prefix. */
export function narHashBase16(narHash: string): string {
  if (CANONICAL_NAR_HASH.test(narHash)) return narHash.slice(7);
  return printHash(parseHash(narHash, { algo: 'sha256' }), 'base16');
}

/** ValidPathInfo, worker flavour: [path], deriver, narHash base16 without prefix, refs, times, ≥1.16 extras. */
export function writeValidPathInfo(
  out: WireWriter,
  info: ValidPathInfo,
  minor: number,
  opts: { keyed: boolean },
): void {
  if (opts.keyed) out.string(info.path);
  out.string(info.deriver ?? '');
  out.string(narHashBase16(info.narHash));
  out.stringSet(info.references);
  out.u64(Math.max(0, Math.floor(info.registrationTime))).u64(info.narSize);
  if (minor >= 16) {
    out
      .bool(info.ultimate)
      .stringSet(info.sigs)
      .string(info.ca ?? '');
  }
}

export async function readValidPathInfo(
  inp: WireReader,
  minor: number,
  opts: { storeDir: string; path?: string },
): Promise<ValidPathInfo> {
  const path = opts.path ?? (await readStorePath(inp, opts.storeDir));
  const deriver = await readOptStorePath(inp, opts.storeDir);
  const hashText = await inp.string();
  let narHash: string;
  try {
    narHash = canonicalNarHash(hashText);
  } catch (e) {
    throw new StoreError(
      'BAD_INFO',
      `invalid NAR hash '${hashText}' for path '${path}': ${(e as Error).message}`,
      { cause: e },
    );
  }
  const references = sortedUniqueUtf8(await readStorePaths(inp, opts.storeDir));
  const registrationTime = await inp.u64();
  const narSize = await inp.u64();
  let ultimate = false;
  let sigs: string[] = [];
  let ca: string | undefined;
  if (minor >= 16) {
    ultimate = await inp.bool();
    sigs = sortedUniqueUtf8(await inp.strings());
    ca = (await inp.string()) || undefined;
  }
  const info: ValidPathInfo = { path, narHash, references, registrationTime, narSize, ultimate, sigs };
  if (deriver !== undefined) info.deriver = deriver;
  if (ca !== undefined) info.ca = ca;
  return info;
}

/**
 * DerivedPath strings: ≥ 1.30 `/nix/store/x` (opaque, even a .drv) or `/nix/store/x.drv!out,dev`
 * (`!*` = all); older clients send StorePathWithOutputs, where a bare `.drv` means "build it".
 */
export function parseDerivedPath(s: string, minor: number, storeDir: string): DerivedPath {
  const bang = s.indexOf('!');
  const path = bang < 0 ? s : s.slice(0, bang);
  assertStorePath(path, storeDir);
  if (bang < 0) {
    if (minor < 30 && isDerivationPath(path)) return { kind: 'built', drvPath: path, outputs: ['*'] };
    return { kind: 'opaque', path };
  }
  if (!isDerivationPath(path)) {
    throw new StoreError('BAD_PATH', `cannot parse derived path '${s}': '${path}' is not a derivation`);
  }
  const spec = s.slice(bang + 1);
  const outputs = spec === '*' ? ['*'] : spec.split(',').filter((o) => o !== '');
  return { kind: 'built', drvPath: path, outputs: outputs.length === 0 ? ['*'] : outputs };
}

/** Whether a derivation's wanted outputs are all of them: none named, or `*`. */
export function wantsAllOutputs(outputs: string[]): boolean {
  return outputs.length === 0 || outputs.includes('*');
}

export function printDerivedPath(p: DerivedPath, minor: number): string {
  if (p.kind === 'opaque') return p.path;
  const all = wantsAllOutputs(p.outputs);
  if (minor < 30 && all) return p.drvPath;
  return `${p.drvPath}!${all ? '*' : sortedUniqueUtf8(p.outputs).join(',')}`;
}

export async function readDerivedPaths(
  inp: WireReader,
  minor: number,
  storeDir: string,
): Promise<DerivedPath[]> {
  return (await inp.strings()).map((s) => parseDerivedPath(s, minor, storeDir));
}

/**
 * BuildResult, worker flavour: status, errorMsg, ≥1.29 times, ≥1.28 the DrvOutput → Realisation
 * JSON map. `outputId(name)` gives the DrvOutput id of an output (hash modulo of the derivation).
 */
export function writeBuildResult(
  out: WireWriter,
  r: BuildResult,
  minor: number,
  outputId: (name: string) => string,
): void {
  out.u64(r.status).string(r.errorMsg);
  if (minor >= 29) out.u64(r.timesBuilt).bool(r.isNonDeterministic).i64(r.startTime).i64(r.stopTime);
  if (minor >= 28) {
    const m = new Map<string, string>();
    for (const [name, path] of r.builtOutputs) {
      const id = outputId(name);
      m.set(id, realisationJson(id, path));
    }
    out.stringMap(m);
  }
}

export async function readBuildResult(
  inp: WireReader,
  minor: number,
  storeDir: string,
): Promise<BuildResult> {
  const r: BuildResult = {
    status: (await inp.u64()) as BuildStatus,
    errorMsg: await inp.string(),
    timesBuilt: 0,
    isNonDeterministic: false,
    startTime: 0,
    stopTime: 0,
    builtOutputs: new Map(),
  };
  if (minor >= 29) {
    r.timesBuilt = await inp.u64();
    r.isNonDeterministic = await inp.bool();
    r.startTime = await inp.i64();
    r.stopTime = await inp.i64();
  }
  if (minor >= 28) await readRealisationMap(inp, r.builtOutputs, storeDir);
  return r;
}

/** Output names in Nix's order (std::set: byte-wise). */
export function sortedOutputs<T>(m: Map<string, T>): [string, T][] {
  return [...m].sort(([a], [b]) => compareUtf8(a, b));
}
