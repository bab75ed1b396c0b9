// What the `derivation` builtin computes for a new derivation, from its fields as sorted arrays:
// the output paths, the ATerm holding them, and its unmasked hashDerivationModulo. The results
// equal fillOutputPaths, printDerivation and hashDerivationModulo on the equivalent Derivation,
// without building that Derivation's maps; the three texts involved (masked, final, modulo)
// share their longest part (sources, builder, args, env), which is escaped and laid out once.

import { compareUtf8, sortedUniqueUtf8 } from './byte-order.js';
import { escapeATerm } from './derivation.js';
import { type Hash, hashBase16, printHash } from './hash.js';
import { makeFixedOutputPath, makeOutputPathBase16 } from './store-path.js';

export interface NewDerivation {
  /** The name without ".drv" (a valid store path name). */
  name: string;
  /** Output names in byte order, no duplicates; exactly ["out"] with `fixed`. */
  outputs: string[];
  /** A fixed output's content address; absent for an input-addressed derivation. */
  fixed?: { method: 'flat' | 'recursive'; hash: Hash };
  /** Input `.drv` paths in byte order, no duplicates. */
  inputDrvs: string[];
  /** The output names used from each input derivation (parallel to `inputDrvs`). */
  inputDrvOutputs: string[][];
  /** Input source paths in byte order, no duplicates. */
  inputSrcs: string[];
  system: string;
  builder: string;
  args: string[];
  /**
   * Environment names in byte order, no duplicates. An entry named after an output holds that
   * output's path (its value here is ignored); outputs without an entry get none.
   */
  envKeys: string[];
  envVals: string[];
}

export interface InstantiateOptions {
  storeDir: string;
  /** The unmasked hashDerivationModulo of an input `.drv`, as hex (the caller memoises). */
  inputHashBase16: (drvPath: string) => string;
  /**
   * Only the output paths and the modulo hash are wanted: `text` is left empty, and `inputDrvs`
   * need only be keys of inputHashBase16 (their hashes themselves, say), not paths in order.
   */
  noText?: boolean;
}

export interface InstantiatedDerivation {
  /** The path of each output (parallel to `outputs`). */
  outputPaths: string[];
  /** The ATerm, as printDerivation prints the derivation with its output paths ('' with noText). */
  text: string;
  /** hashDerivationModulo(drv, { maskOutputs: false }) as hex: the drv's hash as an input. */
  moduloBase16: string;
}

/**
 * `s`, flattened. A string built with `+=` is a tree of its pieces, which each hash of a text
 * holding it walks and copies again; reading a character joins the pieces once, in place.
 */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

/** True if the strings are in strictly increasing byte order. */
function sortedUniqueAlready(items: string[]): boolean {
  for (let i = 1; i < items.length; i++) if (compareUtf8(items[i - 1]!, items[i]!) >= 0) return false;
  return true;
}

/** `("<drv>",["o1","o2"])` entries, in order, for parallel keys and output lists. */
function inputsText(keys: string[], outs: string[][]): string {
  let s = '';
  for (let i = 0; i < keys.length; i++) {
    const given = outs[i]!;
    const names = sortedUniqueAlready(given) ? given : sortedUniqueUtf8(given);
    s += `${i === 0 ? '("' : ',("'}${keys[i]!}",["${names.length === 1 ? names[0]! : names.join('","')}"])`;
  }
  return s;
}

/** The input-derivations section of the modulo texts: keyed by input hash, merged and sorted. */
function moduloInputsText(drv: NewDerivation, inputHashBase16: (drvPath: string) => string): string {
  const n = drv.inputDrvs.length;
  if (n === 0) return '';
  const keys: string[] = new Array(n);
  for (let i = 0; i < n; i++) keys[i] = inputHashBase16(drv.inputDrvs[i]!);
  if (n === 1) return inputsText(keys, drv.inputDrvOutputs);
  // Sort by hash (hex, so code-unit order is byte order); equal hashes merge their outputs.
  const order = keys
    .map((_, i) => i)
    .sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const mk: string[] = [];
  const mo: string[][] = [];
  for (const i of order) {
    const k = keys[i]!;
    const outs = drv.inputDrvOutputs[i]!;
    if (mk.length > 0 && mk[mk.length - 1] === k)
      mo[mo.length - 1] = sortedUniqueUtf8([...mo[mo.length - 1]!, ...outs]);
    else {
      mk.push(k);
      mo.push(outs);
    }
  }
  return inputsText(mk, mo);
}

/**
 * The output paths, ATerm and unmasked hashDerivationModulo of a new derivation. Input-addressed
 * outputs are named by the sha256 of the masked text (outputs and their env entries blanked, inputs
 * replaced by their hashes); a fixed output by its content address.
 */
export function instantiateDerivation(drv: NewDerivation, opts: InstantiateOptions): InstantiatedDerivation {
  const { outputs, fixed } = drv;
  const fixedAlgo =
    fixed === undefined ? '' : `${fixed.method === 'recursive' ? 'r:' : ''}${fixed.hash.algo}`;
  const fixedHex = fixed === undefined ? '' : printHash(fixed.hash, 'base16');

  // The texts differ only in the output paths (in the outputs and in the env entries named after
  // outputs) and the input derivations; the tail after the input derivations is kept as the
  // pieces between output env values.
  const srcs = sortedUniqueAlready(drv.inputSrcs) ? drv.inputSrcs : sortedUniqueUtf8(drv.inputSrcs);
  let seg = srcs.length === 0 ? '' : `"${srcs.length === 1 ? srcs[0]! : srcs.join('","')}"`;
  seg += `],"${drv.system}","${escapeATerm(drv.builder)}",[`;
  const args = drv.args;
  for (let i = 0; i < args.length; i++) seg += `${i === 0 ? '"' : ',"'}${escapeATerm(args[i]!)}"`;
  seg += '],[';
  const tailSegs: string[] = [];
  const envOutput: number[] = [];
  const { envKeys, envVals } = drv;
  for (let i = 0; i < envKeys.length; i++) {
    const k = envKeys[i]!;
    seg += `${i === 0 ? '("' : ',("'}${escapeATerm(k)}","`;
    const o = outputs.length === 1 ? (outputs[0] === k ? 0 : -1) : outputs.indexOf(k);
    if (o >= 0) {
      tailSegs.push(flat(seg));
      envOutput.push(o);
      seg = '")';
    } else seg += `${escapeATerm(envVals[i]!)}")`;
  }
  tailSegs.push(flat(`${seg}])`));

  const hasInputs = drv.inputDrvs.length > 0;
  const moduloInputs = hasInputs ? flat(moduloInputsText(drv, opts.inputHashBase16)) : '';

  const outputPaths: string[] = new Array(outputs.length);
  if (fixed !== undefined) {
    outputPaths[0] = makeFixedOutputPath(drv.name, fixed, { storeDir: opts.storeDir });
  } else {
    // Masked: every output path and output env value blank.
    let maskedOuts = '';
    for (let i = 0; i < outputs.length; i++)
      maskedOuts += `${i === 0 ? '("' : ',("'}${outputs[i]!}","","","")`;
    let maskedTail = tailSegs[0]!;
    for (let i = 1; i < tailSegs.length; i++) maskedTail += tailSegs[i]!;
    const masked = hashBase16('sha256', `Derive([${maskedOuts}],[${moduloInputs}],[${maskedTail}`);
    for (let i = 0; i < outputs.length; i++) {
      outputPaths[i] = makeOutputPathBase16(outputs[i]!, masked, drv.name, opts.storeDir);
    }
  }
  const tupleEnd = fixed === undefined ? '","","")' : `","${fixedAlgo}","${fixedHex}")`;
  let outs = '';
  for (let i = 0; i < outputs.length; i++) {
    outs += `${i === 0 ? '("' : ',("'}${outputs[i]!}","${outputPaths[i]!}${tupleEnd}`;
  }
  let tail = tailSegs[0]!;
  for (let i = 1; i < tailSegs.length; i++) tail += outputPaths[envOutput[i - 1]!]! + tailSegs[i]!;

  const moduloBase16 =
    fixed !== undefined
      ? hashBase16('sha256', `fixed:out:${fixedAlgo}:${fixedHex}:${outputPaths[0]!}`)
      : hashBase16('sha256', `Derive([${outs}],[${moduloInputs}],[${tail}`);
  if (opts.noText) return { outputPaths, text: '', moduloBase16 };
  const inputs = hasInputs ? inputsText(drv.inputDrvs, drv.inputDrvOutputs) : '';
  return { outputPaths, text: `Derive([${outs}],[${inputs}],[${tail}`, moduloBase16 };
}
