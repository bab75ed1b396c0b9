import { sortedUniqueUtf8 } from './byte-order.js';
import type { ContentAddress } from './content-address.js';
import { makeContentAddressedPath } from './content-address.js';
import {
  type BasicDerivation,
  type Derivation,
  type DerivationOutput,
  printDerivation,
} from './derivation.js';
import { FormatError } from './errors.js';
import { type Hash, hashBase16, hashBytes, parseHashUnprefixed, printHash } from './hash.js';
import { makeOutputPathBase16, makeTextPath, outputPathName } from './store-path.js';

export type OutputKind = 'inputAddressed' | 'deferred' | 'fixed' | 'floating' | 'impure';
export type DerivationKind = 'inputAddressed' | 'deferred' | 'fixed' | 'floating' | 'impure';

const DEFAULT_STORE_DIR = '/nix/store';

export function outputKind(o: DerivationOutput): OutputKind {
  if (o.hashAlgo === '') return o.path === '' ? 'deferred' : 'inputAddressed';
  if (o.hash === 'impure') return 'impure';
  return o.hash === '' ? 'floating' : 'fixed';
}

/** The content address a fixed output declares ("r:sha256" + hex → recursive sha256). */
export function fixedOutputContentAddress(o: DerivationOutput): ContentAddress {
  let algo = o.hashAlgo;
  let method: ContentAddress['method'] = 'flat';
  if (algo.startsWith('r:')) {
    method = 'recursive';
    algo = algo.slice(2);
  } else if (algo.startsWith('text:')) {
    method = 'text';
    algo = algo.slice(5);
  } else if (algo.includes(':')) {
    throw new FormatError('BAD_DRV', `unsupported output hash method in '${o.hashAlgo}'`);
  }
  if (algo !== 'md5' && algo !== 'sha1' && algo !== 'sha256' && algo !== 'sha512') {
    throw new FormatError('BAD_DRV', `unknown output hash algorithm '${algo}'`);
  }
  return { method, hash: parseHashUnprefixed(o.hash, algo) };
}

/** Nix's DerivationType: all outputs must be of one kind; a fixed-output drv has exactly "out". */
export function derivationKind(drv: BasicDerivation): DerivationKind {
  // One kind throughout (the usual case) is found without building the set of kinds.
  let single: OutputKind | undefined;
  let mixed = false;
  for (const o of drv.outputs.values()) {
    const k = outputKind(o);
    if (single === undefined) single = k;
    else if (k !== single) mixed = true;
  }
  if (single === undefined)
    throw new FormatError('BAD_DRV', `derivation '${drv.name}' must have at least one output`);
  if (mixed) {
    const kinds = new Set<OutputKind>();
    for (const o of drv.outputs.values()) kinds.add(outputKind(o));
    throw new FormatError(
      'BAD_DRV',
      `derivation '${drv.name}' mixes output types (${[...kinds].join(', ')})`,
    );
  }
  const kind = single;
  if (kind === 'fixed' && (drv.outputs.size !== 1 || !drv.outputs.has('out'))) {
    throw new FormatError(
      'BAD_DRV',
      `fixed-output derivation '${drv.name}' must have exactly one output named 'out'`,
    );
  }
  return kind;
}

/** Where a fixed output must live, recomputed from its content address (not the stated path). */
export function fixedOutputPath(drv: BasicDerivation, outputName: string, storeDir: string): string {
  const ca = fixedOutputContentAddress(drv.outputs.get(outputName)!);
  return makeContentAddressedPath(outputPathName(drv.name, outputName), ca, { storeDir });
}

/**
 * hashDerivationModulo(input, { maskOutputs: false }) of an input `.drv` path, as a Hash
 * (`inputHash`) or as the hex of its sha256 digest (`inputHashBase16`, which wins when both are
 * given); callers memoise.
 */
export type InputHasher =
  | { inputHash: (drvPath: string) => Hash; inputHashBase16?: undefined }
  | { inputHash?: (drvPath: string) => Hash; inputHashBase16: (drvPath: string) => string };

export type HashModuloOptions = InputHasher & {
  /** Blank outputs and output env entries (true for a drv's own output paths). */
  maskOutputs: boolean;
  storeDir?: string;
};

function inputBase16(opts: InputHasher): (drvPath: string) => string {
  if (opts.inputHashBase16 !== undefined) return opts.inputHashBase16;
  const h = opts.inputHash;
  return (p) => printHash(h(p), 'base16');
}

/**
 * Nix's hashDerivationModulo. Fixed-output: sha256("fixed:out:<algo>:<hex>:<path>"). Otherwise
 * sha256 of the ATerm with each input `.drv` replaced by the hex of its hash (inputs with equal
 * hashes merge their output names), outputs masked if asked.
 */
export function hashDerivationModulo(drv: Derivation, opts: HashModuloOptions): Hash {
  return hashBytes('sha256', moduloText(drv, opts));
}

/** hashDerivationModulo's sha256 digest as hex. */
export function hashDerivationModuloBase16(drv: Derivation, opts: HashModuloOptions): string {
  return hashBase16('sha256', moduloText(drv, opts));
}

/** The text whose sha256 is hashDerivationModulo. */
function moduloText(drv: Derivation, opts: HashModuloOptions): string {
  const fixed = fixedModuloText(drv, opts.storeDir);
  if (fixed !== undefined) return fixed;
  return printDerivation(drv, { maskOutputs: opts.maskOutputs, inputDrvs: moduloInputs(drv, opts) });
}

/** A fixed-output derivation's "fixed:out:…" text, or undefined for other kinds. */
function fixedModuloText(drv: Derivation, storeDir: string | undefined): string | undefined {
  if (derivationKind(drv) !== 'fixed') return undefined;
  const o = drv.outputs.get('out')!;
  const ca = fixedOutputContentAddress(o);
  const path = fixedOutputPath(drv, 'out', storeDir ?? DEFAULT_STORE_DIR);
  return `fixed:out:${o.hashAlgo}:${printHash(ca.hash, 'base16')}:${path}`;
}

/** Input derivations keyed by the hex of their hashes (equal hashes merge their outputs). */
function moduloInputs(drv: Derivation, opts: InputHasher): Map<string, string[]> {
  const inputHex = inputBase16(opts);
  const inputs = new Map<string, string[]>();
  for (const [drvPath, outs] of drv.inputDrvs) {
    const key = inputHex(drvPath);
    const prev = inputs.get(key);
    inputs.set(key, prev ? sortedUniqueUtf8([...prev, ...outs]) : outs);
  }
  return inputs;
}

/**
 * Returns a memoised `inputHash` for hashDerivationModulo: hashDerivationModulo(readDrv(p),
 * { maskOutputs: false }) computed recursively over the inputs.
 */
export function makeInputHasher(
  readDrv: (drvPath: string) => Derivation,
  opts: { storeDir?: string } = {},
): (drvPath: string) => Hash {
  const memo = new Map<string, Hash>();
  const inputHash = (drvPath: string): Hash => {
    let h = memo.get(drvPath);
    if (h === undefined) {
      h = hashDerivationModulo(readDrv(drvPath), { maskOutputs: false, inputHash, storeDir: opts.storeDir });
      memo.set(drvPath, h);
    }
    return h;
  };
  return inputHash;
}

function copyDerivation(drv: Derivation): Derivation {
  return {
    ...drv,
    outputs: new Map([...drv.outputs].map(([k, v]) => [k, { ...v }])),
    inputDrvs: new Map([...drv.inputDrvs].map(([k, v]) => [k, [...v]])),
    inputSrcs: [...drv.inputSrcs],
    args: [...drv.args],
    env: new Map(drv.env),
  };
}

/**
 * What the `derivation` builtin does once the ATerm fields are known: computes the output paths
 * (fixed: from the content address; input-addressed: from the masked hash) and writes them into
 * the outputs and into the env entries named after outputs — only where such an entry exists.
 * Floating/impure outputs keep "" paths. Returns a new Derivation.
 */
export function fillOutputPaths(drv: Derivation, opts: InputHasher & { storeDir: string }): Derivation {
  return fillOutputPathsInPlace(copyDerivation(drv), opts);
}

/** fillOutputPaths on a Derivation the caller owns (its outputs and env are updated); returns it. */
export function fillOutputPathsInPlace(
  drv: Derivation,
  opts: InputHasher & { storeDir: string },
): Derivation {
  const kind = derivationKind(drv);
  if (kind === 'floating' || kind === 'impure') return drv;
  const paths = expectedOutputPaths(drv, kind, opts);
  for (const [name, path] of paths) {
    drv.outputs.get(name)!.path = path;
    if (drv.env.has(name)) drv.env.set(name, path);
  }
  return drv;
}

function expectedOutputPaths(
  drv: Derivation,
  kind: DerivationKind,
  opts: InputHasher & { storeDir: string },
): Map<string, string> {
  const paths = new Map<string, string>();
  if (kind === 'fixed') {
    paths.set('out', fixedOutputPath(drv, 'out', opts.storeDir));
    return paths;
  }
  const h = hashDerivationModuloBase16(drv, { ...opts, maskOutputs: true });
  for (const name of drv.outputs.keys())
    paths.set(name, makeOutputPathBase16(name, h, drv.name, opts.storeDir));
  return paths;
}

/** The `.drv` store path: a text object named "<name>.drv", references = inputSrcs ∪ input drvs. */
export function derivationPath(drv: Derivation, storeDir: string): string {
  const text = printDerivation(drv);
  return makeTextPath(
    `${drv.name}.drv`,
    hashBytes('sha256', text),
    [...drv.inputSrcs, ...drv.inputDrvs.keys()],
    storeDir,
  );
}

/**
 * Nix's checkDerivationOutputs: each fixed or input-addressed output's stated path must equal the
 * recomputed one, and the env entry named after it must hold that path (required unless
 * `requireOutputEnv` is false). Throws FormatError('BAD_DRV').
 */
export function checkDerivationOutputs(
  drv: Derivation,
  opts: InputHasher & {
    storeDir: string;
    drvPath?: string;
    requireOutputEnv?: boolean;
  },
): void {
  const where = opts.drvPath ?? `${drv.name}.drv`;
  const kind = derivationKind(drv);
  if (kind !== 'fixed' && kind !== 'inputAddressed') return;
  for (const [name, path] of expectedOutputPaths(drv, kind, opts)) {
    const stated = drv.outputs.get(name)!.path;
    if (stated !== path) {
      throw new FormatError(
        'BAD_DRV',
        `derivation '${where}' has incorrect output '${stated}': should be '${path}'`,
      );
    }
    const env = drv.env.get(name);
    if (env === undefined ? opts.requireOutputEnv !== false : env !== path) {
      throw new FormatError(
        'BAD_DRV',
        `derivation '${where}' has incorrect environment variable '${name}': should be '${path}'`,
      );
    }
  }
}
