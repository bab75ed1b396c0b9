import { sortedUniqueUtf8 } from './byte-order.js';
import { FormatError } from './errors.js';
import { type Hash, type HashAlgo, hashBase16, hashBytes, printHash } from './hash.js';
import { isNix32Char, toNix32 } from './nix32.js';

/** A store path split into its two parts; the store dir is kept outside. */
export interface StorePath {
  /** 32 nix32 characters. */
  hashPart: string;
  name: string;
}

export const HASH_PART_LENGTH = 32;
export const MAX_NAME_LENGTH = 211;

const NAME_CHAR = /^[0-9a-zA-Z+\-._?=]*$/;

type NameProblem = { kind: 'empty' } | { kind: 'long' } | { kind: 'char'; bad: string };

/** What breaks Nix 2.8's name rules (1..211 characters from [0-9a-zA-Z+-._?=]), if anything. */
function nameProblem(name: string): NameProblem | undefined {
  if (name.length === 0) return { kind: 'empty' };
  if (name.length > MAX_NAME_LENGTH) return { kind: 'long' };
  if (!NAME_CHAR.test(name)) return { kind: 'char', bad: [...name].find((c) => !NAME_CHAR.test(c))! };
  return undefined;
}

/** Nix 2.8 name rules: 1..211 characters from [0-9a-zA-Z+-._?=]. */
export function validateStorePathName(name: string): void {
  const problem = nameProblem(name);
  if (problem === undefined) return;
  const why =
    problem.kind === 'empty'
      ? 'invalid store path name: the name is empty'
      : problem.kind === 'long'
        ? `invalid store path name '${name}': longer than ${MAX_NAME_LENGTH} characters`
        : `invalid store path name '${name}': illegal character '${problem.bad}'`;
  throw new FormatError('BAD_STORE_PATH', why);
}

/** Parses "<32 nix32 chars>-<name>". */
export function parseStorePathBase(base: string): StorePath {
  if (base.length < HASH_PART_LENGTH + 2) {
    throw new FormatError('BAD_STORE_PATH', `invalid store path '${base}': too short to be a store path`);
  }
  for (let i = 0; i < HASH_PART_LENGTH; i++) {
    if (!isNix32Char(base[i]!)) {
      throw new FormatError(
        'BAD_STORE_PATH',
        `invalid store path '${base}': illegal base-32 character '${base[i]}' in the hash part`,
      );
    }
  }
  if (base[HASH_PART_LENGTH] !== '-') {
    throw new FormatError('BAD_STORE_PATH', `invalid store path '${base}': expected '-' after the hash part`);
  }
  const name = base.slice(HASH_PART_LENGTH + 1);
  try {
    validateStorePathName(name);
  } catch (e) {
    throw new FormatError('BAD_STORE_PATH', `invalid store path '${base}': ${(e as Error).message}`);
  }
  return { hashPart: base.slice(0, HASH_PART_LENGTH), name };
}

/** Resolves "//", "." and ".." and drops a trailing "/" (no file-system access); `p` must be absolute. */
export function canonPath(p: string): string {
  if (!p.startsWith('/')) throw new FormatError('BAD_STORE_PATH', `invalid path '${p}': not absolute`);
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

/** Parses a full store path; its parent after canonicalisation must be exactly `storeDir`. */
export function parseStorePath(path: string, storeDir: string): StorePath {
  const p = canonPath(path);
  const slash = p.lastIndexOf('/');
  if (p.slice(0, slash) !== storeDir || slash === p.length - 1) {
    throw new FormatError(
      'BAD_STORE_PATH',
      `invalid store path '${path}': not in the Nix store '${storeDir}'`,
    );
  }
  return parseStorePathBase(p.slice(slash + 1));
}

/** Like parseStorePath but the text must already be exactly `storeDir/<base>` (as in .drv files). */
export function parseStorePathExact(path: string, storeDir: string): StorePath {
  if (!path.startsWith(`${storeDir}/`) || path.indexOf('/', storeDir.length + 1) >= 0) {
    throw new FormatError(
      'BAD_STORE_PATH',
      `invalid store path '${path}': not in the Nix store '${storeDir}'`,
    );
  }
  return parseStorePathBase(path.slice(storeDir.length + 1));
}

export function isStorePath(path: string, storeDir: string): boolean {
  try {
    parseStorePathExact(path, storeDir);
    return true;
  } catch {
    return false;
  }
}

export function printStorePath(sp: StorePath, storeDir: string): string {
  return `${storeDir}/${sp.hashPart}-${sp.name}`;
}

/** The base name ("<hash>-<name>") of a full store path, without validation. */
export function storePathBaseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The fingerprint Nix hashes to name a store path: "<type>:<algo>:<hex>:<storeDir>:<name>". */
export function storePathFingerprint(type: string, innerHash: Hash, name: string, storeDir: string): string {
  return `${type}:${printHash(innerHash, 'base16', { prefix: true })}:${storeDir}:${name}`;
}

export function makeStorePath(type: string, innerHash: Hash, name: string, storeDir: string): string {
  return makeStorePathBase16(type, innerHash.algo, printHash(innerHash, 'base16'), name, storeDir);
}

/** makeStorePath with the inner hash given as its algorithm and hex digest. */
export function makeStorePathBase16(
  type: string,
  algo: HashAlgo,
  base16: string,
  name: string,
  storeDir: string,
): string {
  const fp = `${type}:${algo}:${base16}:${storeDir}:${name}`;
  const hp = hashPart(fp);
  const problem = nameProblem(name);
  if (problem !== undefined) throw newNameError(`${hp}-${name}`, problem);
  // Joined rather than concatenated: one flat string, where a concatenation would be a tree of
  // its pieces, kept as long as the path (paths end up in many long-lived values and maps).
  return [storeDir, '/', hp, '-', name].join('');
}

/** Nix 2.8's refusal of a name for a path being made, which names the whole path (its checkName). */
function newNameError(base: string, problem: NameProblem): FormatError {
  const why =
    problem.kind === 'empty'
      ? 'has an empty name'
      : problem.kind === 'long'
        ? `has a name longer than ${MAX_NAME_LENGTH} characters`
        : `contains illegal character '${problem.bad}'`;
  return new FormatError('BAD_STORE_PATH', `store path '${base}' ${why}`);
}

const HEX_VALUE = new Uint8Array(128);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
/** Scratch for hashPart (never re-entered). */
const compressed = new Uint8Array(20);

/** Byte `i` of a hex digest. */
function hexByte(hex: string, i: number): number {
  return (HEX_VALUE[hex.charCodeAt(2 * i)]! << 4) | HEX_VALUE[hex.charCodeAt(2 * i + 1)]!;
}

/** nix32 of the sha256 of a fingerprint XOR-folded to 20 bytes (compressHash), from its hex. */
function hashPart(fingerprint: string): string {
  const hex = hashBase16('sha256', fingerprint);
  for (let i = 0; i < 20; i++) compressed[i] = hexByte(hex, i);
  for (let i = 20; i < 32; i++) compressed[i - 20]! ^= hexByte(hex, i);
  return toNix32(compressed);
}

function makeType(type: string, references: Iterable<string>, selfReference: boolean): string {
  let t = type;
  for (const r of sortedUniqueUtf8(references)) t += `:${r}`;
  if (selfReference) t += ':self';
  return t;
}

/** Path of a text object (builtins.toFile, .drv): `textHash` is the sha256 of the contents. */
export function makeTextPath(
  name: string,
  textHash: Hash,
  references: Iterable<string>,
  storeDir: string,
): string {
  if (textHash.algo !== 'sha256') {
    throw new FormatError(
      'BAD_HASH',
      `cannot make text path '${name}': text hashes must be sha256, not '${textHash.algo}'`,
    );
  }
  return makeStorePath(makeType('text', references, false), textHash, name, storeDir);
}

/** makeTextPath with the sha256 of the contents given as hex. */
export function makeTextPathBase16(
  name: string,
  sha256Base16: string,
  references: Iterable<string>,
  storeDir: string,
): string {
  return makeStorePathBase16(makeType('text', references, false), 'sha256', sha256Base16, name, storeDir);
}

export type FileIngestionMethod = 'flat' | 'recursive';

/**
 * Path of a fixed-output object. NAR/sha256 uses the "source" type (with references and
 * `selfReference`); every other method/algorithm hashes "fixed:out:<r:?><algo>:<hex>:" and allows
 * no references.
 */
export function makeFixedOutputPath(
  name: string,
  ca: { method: FileIngestionMethod; hash: Hash },
  opts: { references?: Iterable<string>; selfReference?: boolean; storeDir: string },
): string {
  const refs = [...(opts.references ?? [])];
  if (ca.method === 'recursive' && ca.hash.algo === 'sha256') {
    return makeStorePath(makeType('source', refs, opts.selfReference ?? false), ca.hash, name, opts.storeDir);
  }
  if (refs.length > 0 || opts.selfReference) {
    throw new FormatError(
      'BAD_STORE_PATH',
      `cannot make fixed-output path '${name}': only recursive sha256 objects may have references`,
    );
  }
  const prefix = ca.method === 'recursive' ? 'r:' : '';
  const inner = hashBytes('sha256', `fixed:out:${prefix}${printHash(ca.hash, 'base16', { prefix: true })}:`);
  return makeStorePath('output:out', inner, name, opts.storeDir);
}

/** "out" → drvName, any other output o → "drvName-o". */
export function outputPathName(drvName: string, outputName: string): string {
  return outputName === 'out' ? drvName : `${drvName}-${outputName}`;
}

/** Path of an input-addressed output; `drvHash` is the masked hashDerivationModulo. */
export function makeOutputPath(outputName: string, drvHash: Hash, drvName: string, storeDir: string): string {
  return makeStorePath(`output:${outputName}`, drvHash, outputPathName(drvName, outputName), storeDir);
}

/** makeOutputPath with the (sha256) masked hash given as hex. */
export function makeOutputPathBase16(
  outputName: string,
  drvHashBase16: string,
  drvName: string,
  storeDir: string,
): string {
  return makeStorePathBase16(
    `output:${outputName}`,
    'sha256',
    drvHashBase16,
    outputPathName(drvName, outputName),
    storeDir,
  );
}
