// The serve protocol (`nix-store --serve`, `ssh://` stores) as Nix 2.8.0 speaks it: version 2.7.
// Encoders and decoders for the structured values; the client (serve.ts) and the server
// (src/server/serve.ts) share them. Layouts: reference/distributed-builds.md §5.
import { sortedUniqueUtf8 } from '../formats/byte-order.js';
import type { BasicDerivation } from '../formats/derivation.js';
import { hashDerivationModulo } from '../formats/derivation-hash.js';
import { parseHash, printHash } from '../formats/hash.js';
import type { WireReader, WireWriter } from '../formats/wire.js';
import { StoreError } from './errors.js';
import type { BuildOptions, BuildResult, BuildStatus, ValidPathInfo } from './store.js';

export { readBasicDerivation, writeBasicDerivation } from './basic-derivation-wire.js';

export const SERVE_MAGIC_1 = 0x390c9deb;
export const SERVE_MAGIC_2 = 0x5452eecb;
/** What Nix 2.8.0 speaks and what tix speaks: 2.7. */
export const SERVE_PROTOCOL_VERSION = 0x207;

export const ServeOp = {
  QueryValidPaths: 1,
  QueryPathInfos: 2,
  DumpStorePath: 3,
  ImportPaths: 4,
  ExportPaths: 5,
  BuildPaths: 6,
  QueryClosure: 7,
  BuildDerivation: 8,
  AddToStoreNar: 9,
} as const;

/** "nix-store --export" marker after each NAR ("NIXE"). */
export const EXPORT_MAGIC = 0x4558494e;

export function minor(version: number): number {
  return version & 0xff;
}

/** BuildOptions as they travel: the store-level options plus the two legacy repeat fields. */
export interface ServeBuildOptions extends BuildOptions {
  nrRepeats: number;
  enforceDeterminism: boolean;
}

export const DEFAULT_BUILD_OPTIONS: ServeBuildOptions = {
  maxSilentTime: 0,
  buildTimeout: 0,
  maxLogSize: 0,
  keepFailed: false,
  nrRepeats: 0,
  enforceDeterminism: true,
};

export function writeBuildOptions(out: WireWriter, o: ServeBuildOptions, version: number): void {
  out.u64(o.maxSilentTime).u64(o.buildTimeout);
  if (minor(version) >= 2) out.u64(o.maxLogSize);
  if (minor(version) >= 3) out.u64(o.nrRepeats).bool(o.enforceDeterminism);
  if (minor(version) >= 7) out.bool(o.keepFailed);
}

export async function readBuildOptions(inp: WireReader, version: number): Promise<ServeBuildOptions> {
  const o = { ...DEFAULT_BUILD_OPTIONS, enforceDeterminism: false };
  o.maxSilentTime = await inp.u64();
  o.buildTimeout = await inp.u64();
  if (minor(version) >= 2) o.maxLogSize = await inp.u64();
  if (minor(version) >= 3) {
    o.nrRepeats = await inp.u64();
    o.enforceDeterminism = await inp.bool();
  }
  if (minor(version) >= 7) o.keepFailed = await inp.bool();
  return o;
}

/** Serve-flavour UnkeyedValidPathInfo (QueryPathInfos reply); narHash as `sha256:<nix32>`. */
export function writeServePathInfo(out: WireWriter, info: ValidPathInfo, version: number): void {
  out.string(info.deriver ?? '').strings(sortedUniqueUtf8(info.references));
  out.u64(info.narSize).u64(info.narSize);
  if (minor(version) >= 4) {
    out.string(printHash(parseHash(info.narHash), 'nix32', { prefix: true }));
    out.string(info.ca ?? '').strings(sortedUniqueUtf8(info.sigs));
  }
}

export async function readServePathInfo(
  inp: WireReader,
  path: string,
  version: number,
): Promise<ValidPathInfo> {
  const deriver = await inp.string();
  const references = sortedUniqueUtf8(await inp.strings());
  await inp.u64(); // downloadSize
  const narSize = await inp.u64();
  let narHash = '';
  let ca: string | undefined;
  let sigs: string[] = [];
  if (minor(version) >= 4) {
    const h = await inp.string();
    if (h !== '') narHash = canonicalNarHash(h);
    ca = (await inp.string()) || undefined;
    sigs = sortedUniqueUtf8(await inp.strings());
  }
  return {
    path,
    deriver: deriver || undefined,
    narHash,
    narSize,
    references,
    registrationTime: 0,
    ultimate: false,
    sigs,
    ca,
  };
}

/** Any hash syntax (default sha256) → "sha256:<base16>", the form ValidPathInfo keeps. */
export function canonicalNarHash(text: string): string {
  const h = parseHash(text, text.includes(':') || text.includes('-') ? {} : { algo: 'sha256' });
  return printHash(h, 'base16', { prefix: true });
}

/** The AddToStoreNar request after the opcode. */
export function writeAddToStoreNarHeader(out: WireWriter, info: ValidPathInfo): void {
  out.string(info.path).string(info.deriver ?? '');
  out.string(printHash(parseHash(info.narHash), 'base16'));
  out.strings(sortedUniqueUtf8(info.references));
  out.u64(info.registrationTime).u64(info.narSize).bool(info.ultimate);
  out.strings(sortedUniqueUtf8(info.sigs)).string(info.ca ?? '');
}

export async function readAddToStoreNarHeader(inp: WireReader): Promise<ValidPathInfo> {
  const path = await inp.string();
  const deriver = await inp.string();
  const narHash = canonicalNarHash(await inp.string());
  const references = sortedUniqueUtf8(await inp.strings());
  const registrationTime = await inp.u64();
  const narSize = await inp.u64();
  const ultimate = await inp.bool();
  const sigs = sortedUniqueUtf8(await inp.strings());
  const ca = (await inp.string()) || undefined;
  return {
    path,
    deriver: deriver || undefined,
    narHash,
    references,
    registrationTime,
    narSize,
    ultimate,
    sigs,
    ca,
  };
}

/** The DrvOutput id Nix 2.8 keys builtOutputs by: `sha256:<hash modulo, base16>!<output>`. */
export function drvOutputId(drv: BasicDerivation, outputName: string, storeDir: string): string {
  const h = hashDerivationModulo(
    { ...drv, inputDrvs: new Map() },
    {
      maskOutputs: true,
      storeDir,
      inputHash: () => {
        throw new Error('a BasicDerivation has no input derivations');
      },
    },
  );
  return `${printHash(h, 'base16', { prefix: true })}!${outputName}`;
}

/** Realisation JSON as Nix 2.8 writes it (compact, keys sorted, outPath as a base name). */
export function realisationJson(id: string, outPath: string): string {
  const base = outPath.slice(outPath.lastIndexOf('/') + 1);
  return JSON.stringify({ dependentRealisations: {}, id, outPath: base, signatures: [] });
}

/**
 * BuildResult as a 2.8.0 server writes it: status, errorMsg, times (≥ 2.3), then the DrvOutput →
 * Realisation JSON map, which 2.8.0 sends to every client version (its version check is broken).
 */
export function writeBuildResult(
  out: WireWriter,
  r: BuildResult,
  opts: { version: number; drv: BasicDerivation; storeDir: string },
): void {
  out.u64(r.status).string(r.errorMsg);
  if (minor(opts.version) >= 3) {
    out.u64(r.timesBuilt).bool(r.isNonDeterministic).u64(r.startTime).u64(r.stopTime);
  }
  const entries = [...r.builtOutputs].map(([name, path]) => {
    const id = drvOutputId(opts.drv, name, opts.storeDir);
    return [id, realisationJson(id, path)] as [string, string];
  });
  out.stringMap(new Map(entries));
}

/** Reads a BuildResult (serve < 2.8 shapes); builtOutputs become output name → full path. */
export async function readBuildResult(
  inp: WireReader,
  version: number,
  storeDir: string,
): Promise<BuildResult> {
  const status = (await inp.u64()) as BuildStatus;
  const errorMsg = await inp.string();
  const r: BuildResult = {
    status,
    errorMsg,
    timesBuilt: 0,
    isNonDeterministic: false,
    startTime: 0,
    stopTime: 0,
    builtOutputs: new Map(),
  };
  if (minor(version) >= 3) {
    r.timesBuilt = await inp.u64();
    r.isNonDeterministic = await inp.bool();
    r.startTime = await inp.u64();
    r.stopTime = await inp.u64();
  }
  if (minor(version) >= 6) {
    await readRealisationMap(inp, r.builtOutputs, storeDir);
  }
  return r;
}

/**
 * BuildResult's builtOutputs as both protocols carry them in Nix 2.8: DrvOutput id
 * (`sha256:<hex>!<output>`) → Realisation JSON, of which only the output name and `outPath` are used.
 */
export async function readRealisationMap(
  inp: WireReader,
  into: Map<string, string>,
  storeDir: string,
): Promise<void> {
  for (const [id, json] of await inp.stringMap()) {
    const bang = id.lastIndexOf('!');
    let outPath: unknown;
    try {
      outPath = (JSON.parse(json) as { outPath?: unknown }).outPath;
    } catch {
      outPath = undefined;
    }
    if (bang < 0 || typeof outPath !== 'string') {
      throw new StoreError('BAD_INFO', `cannot read build result: bad realisation '${id}' → '${json}'`);
    }
    into.set(id.slice(bang + 1), outPath.startsWith('/') ? outPath : `${storeDir}/${outPath}`);
  }
}
