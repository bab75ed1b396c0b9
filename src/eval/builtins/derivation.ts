// derivationStrict (and the `derivation` wrapper, derivation-wrapper.ts), placeholder. Gathers a
// derivation's fields from the attributes as Nix 2.8's prim_derivationStrict does, computes its
// output paths, ATerm and hashDerivationModulo (formats/derivation-instantiate.ts), and writes the
// .drv through EvalIO.addTextToStore.

import { compareUtf8 } from '../../formats/byte-order.js';
import { type Derivation, parseDerivation } from '../../formats/derivation.js';
import { hashDerivationModuloBase16 } from '../../formats/derivation-hash.js';
import {
  type InstantiateOptions,
  instantiateDerivation,
  type NewDerivation,
} from '../../formats/derivation-instantiate.js';
import { FormatError } from '../../formats/errors.js';
import { hashBytes } from '../../formats/hash.js';
import { toNix32 } from '../../formats/nix32.js';
import { MAX_NAME_LENGTH } from '../../formats/store-path.js';
import { missingAttrFor } from '../attr-errors.js';
import { coerceToString } from '../coerce.js';
import { NixEvalError } from '../errors.js';
import { toJSON } from '../json.js';
import { explicitElement, isLazyOutput, type LazyDrv, lazyOutput } from '../lazy-drv.js';
import { forceAttrs, forceBool, forceList, forceStringCtx, forceStringNoCtx } from '../ops.js';
import { fromBytes, type Pos, toBytes } from '../source.js';
import type { BuiltinDef, ConstDef, EvalState } from '../state.js';
import { toJsonString } from '../text/strings.js';
import { force, forceSlot, type Thunk, type Value } from '../value.js';
import { derivationLambda, type StrictResult, strictAttrs } from './derivation-wrapper.js';
import { hashAllowEmpty } from './hash-arg.js';
import { byteMessage } from './util.js';

export function registerDerivation(state: EvalState, defs: BuiltinDef[], consts: ConstDef[]): void {
  const hasher = hasherOf(state);
  defs.push({
    name: 'derivationStrict',
    arity: 1,
    fn: ([a], pos) => strictAttrs(derivationStrict(state, hasher, a!, pos, undefined)),
    global: true,
  });
  defs.push({
    name: 'placeholder',
    arity: 1,
    fn: ([a], pos) => `/${toNix32(hashBytes('sha256', `nix-output:${forceStringNoCtx(a!, pos)}`).digest)}`,
    global: true,
  });
  consts.push({
    name: 'derivation',
    global: true,
    value: derivationLambda(state, (a, pos, lazy) => derivationStrict(state, hasher, a, pos, lazy)),
  });
}

/** The Derivation behind a .drv path, read through EvalIO once per session. */
function readDrv(state: EvalState, drvPath: string): Derivation {
  const known = state.derivations.get(drvPath) as Derivation | undefined;
  if (known) return known;
  const base = drvPath.slice(drvPath.lastIndexOf('/') + 1);
  const name = base.slice(33, -4);
  const drv = parseDerivation(state.io.readFile(fromBytes(drvPath)), {
    name: fromBytes(name),
    path: fromBytes(drvPath),
    storeDir: state.storeDir,
  });
  state.derivations.set(drvPath, drv);
  return drv;
}

/** hashDerivationModulo (unmasked) of a .drv, as hex; memoised per .drv path (byte string). */
function inputHashBase16(state: EvalState, drvPath: string): string {
  let h = state.drvHashes.get(drvPath);
  if (h === undefined) {
    h = hashDerivationModuloBase16(readDrv(state, drvPath), { ...hasherOf(state), maskOutputs: false });
    state.drvHashes.set(drvPath, h);
  }
  return h;
}

/** The inputs' hashes for hashDerivationModulo, one object per session. */
interface Hasher {
  inputHashBase16: (drvPath: string) => string;
  storeDir: string;
  /** Store paths are their own byte strings (ASCII): the store dir is ASCII. */
  asciiStoreDir: boolean;
  /** For a lazy derivation, whose inputs are given by their hashes: no text, hashes as they are. */
  byHash: InstantiateOptions;
}
const hashers = new WeakMap<EvalState, Hasher>();

function hasherOf(state: EvalState): Hasher {
  let h = hashers.get(state);
  if (h === undefined) {
    h = {
      inputHashBase16: (p) => inputHashBase16(state, toBytes(p)),
      storeDir: state.storeDir,
      asciiStoreDir: toBytes(state.storeDir) === state.storeDir,
      byHash: { storeDir: state.storeDir, inputHashBase16: (hash) => hash, noText: true },
    };
    hashers.set(state, h);
  }
  return h;
}

function hashMode(s: string, pos: Pos | undefined): 'flat' | 'recursive' {
  if (s === 'recursive' || s === 'flat') return s;
  throw new NixEvalError('DERIVATION', `invalid value '${s}' for 'outputHashMode' attribute`, pos);
}

/** The `outputs` attribute: duplicates, "drv" and an empty list are errors. */
function outputNames(list: string[], pos: Pos | undefined): string[] {
  const seen = new Set<string>();
  for (const o of list) {
    if (seen.has(o)) throw new NixEvalError('DERIVATION', `duplicate derivation output '${o}'`, pos);
    if (o === 'drv') throw new NixEvalError('DERIVATION', "invalid derivation output name 'drv'", pos);
    seen.add(o);
  }
  if (seen.size === 0)
    throw new NixEvalError('DERIVATION', 'derivation cannot have an empty set of outputs', pos);
  return [...seen];
}

const ENV_OPTS = { copyToStore: true, coerceMore: true };
/** `outputs` when not given (shared: never modified). */
const DEFAULT_OUTPUTS = ['out'];

/** Byte strings sort in byte order with the default comparison. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * derivationStrict. Given `lazy`, in read-only evaluation, the derivation's own ATerm and .drv path
 * are left for later (lazy-drv.ts): `lazy` is registered as the derivation, and its outputs'
 * contexts name it; the path is computed by calling this again without `lazy`.
 */
function derivationStrict(
  state: EvalState,
  hasher: Hasher,
  arg: Value | Thunk,
  pos: Pos | undefined,
  lazy: LazyDrv | undefined,
): StrictResult {
  const attrs = forceAttrs(arg, pos);
  const nameV = attrs.m.get('name');
  if (nameV === undefined) throw missingAttrFor('name', 'derivationStrict', attrs, pos);
  // Nix 2.8 reports most errors about the attributes at the position of `name` (posDrvName), and
  // an env entry's coercion at the entry.
  const namePos = attrs.pos?.get('name');
  let drvName: string;
  try {
    drvName = forceStringNoCtx(nameV, pos);
  } catch (e) {
    if (e instanceof NixEvalError) e.addTrace(namePos, "while evaluating the derivation attribute 'name'");
    throw e;
  }
  const structured = attrs.m.get('__structuredAttrs');
  const json: Map<string, string> | undefined =
    structured !== undefined && forceBool(structured, pos) ? new Map() : undefined;
  const ignoreNullsV = attrs.m.get('__ignoreNulls');
  const ignoreNulls = ignoreNullsV !== undefined && forceBool(ignoreNullsV, pos);
  // Left lazy only when its .drv path cannot fail later: the path's name is the output paths'
  // name with ".drv", checked with them, except for its length.
  const lazyAs =
    lazy !== undefined && state.writeMode.readOnly === true && drvName.length + 4 <= MAX_NAME_LENGTH
      ? lazy
      : undefined;

  const ctx = new Set<string>();
  // Environment entries from the attributes, in the attributes' (byte) order.
  const envKeys: string[] = [];
  const envVals: string[] = [];
  const args: string[] = [];
  let builder = '';
  let system = '';
  let outputHash: string | undefined;
  let outputHashAlgo = '';
  let method: 'flat' | 'recursive' | undefined;
  let outputs = DEFAULT_OUTPUTS;

  const { names: attrNames, vals: attrVals } = attrs.m;
  for (let ai = 0; ai < attrNames.length; ai++) {
    const key = attrNames[ai]!;
    if (key === '__ignoreNulls') continue;
    const t = attrVals[ai]!;
    try {
      if (ignoreNulls && force(t) === null) continue;
      if (key === '__contentAddressed' || key === '__impure') {
        if (forceBool(t, pos)) {
          // As Nix 2.8 says when the feature is off; with it on, tix still cannot build these.
          const xp = key === '__impure' ? 'impure-derivations' : 'ca-derivations';
          state.requireFeature(xp);
          throw new NixEvalError('DERIVATION', `'${key}' derivations (${xp}) are not supported by tix`, pos);
        }
      } else if (key === 'args') {
        const list = forceList(t, pos);
        for (let k = 0; k < list.length; k++)
          args.push(coerceToString(state, forceSlot(list, k, namePos), ctx, ENV_OPTS, namePos));
      } else if (json) {
        if (key === '__structuredAttrs') continue;
        json.set(key, toJSON(state, t, ctx, pos));
        // 2.8 takes these as strings here, not coercing paths or attribute sets as in the env.
        if (key === 'builder') builder = forceStringCtx(t, ctx, namePos);
        else if (key === 'system') system = forceStringNoCtx(t, namePos);
        else if (key === 'outputHash') outputHash = forceStringNoCtx(t, namePos);
        else if (key === 'outputHashAlgo') outputHashAlgo = forceStringNoCtx(t, namePos);
        else if (key === 'outputHashMode') method = hashMode(forceStringNoCtx(t, namePos), namePos);
        else if (key === 'outputs')
          outputs = outputNames(
            forceList(t, namePos).map((x) => forceStringNoCtx(x, namePos)),
            namePos,
          );
      } else {
        const s = coerceToString(state, t, ctx, ENV_OPTS, attrs.pos?.get(key));
        envKeys.push(key);
        envVals.push(s);
        if (key === 'builder') builder = s;
        else if (key === 'system') system = s;
        else if (key === 'outputHash') outputHash = s;
        else if (key === 'outputHashAlgo') outputHashAlgo = s;
        else if (key === 'outputHashMode') method = hashMode(s, namePos);
        else if (key === 'outputs')
          outputs = outputNames(
            s.split(/[ \t\n\r]+/).filter((x) => x !== ''),
            namePos,
          );
      }
    } catch (e) {
      if (e instanceof NixEvalError) {
        e.addTrace(namePos, `while evaluating the attribute '${key}' of the derivation '${drvName}'`);
      }
      throw e;
    }
  }
  if (json) {
    const body = [...json].map(([k, v]) => `${toJsonString(k)}:${v}`).join(',');
    envKeys.push('__json');
    envVals.push(`{${body}}`);
  }

  // Input sources, and input derivations with the outputs used, from the context.
  const srcs: string[] = [];
  const drvs: string[] = [];
  const drvOuts: string[] = [];
  // Lazy inputs of a lazy derivation: their modulo hashes and outputs (parallel).
  const lazyHashes: string[] = [];
  const lazyOuts: string[] = [];
  for (let c of ctx) {
    let c0 = c.charCodeAt(0);
    if (isLazyOutput(c)) {
      if (lazyAs !== undefined) {
        const { drv, output } = lazyOutput(c);
        lazyHashes.push(drv.moduloBase16);
        lazyOuts.push(output);
        continue;
      }
      c = explicitElement(c);
      c0 = 33;
    }
    if (c0 === 33 /* ! */) {
      const i = c.indexOf('!', 1);
      drvs.push(c.slice(i + 1));
      drvOuts.push(c.slice(1, i));
    } else if (c0 === 61 /* = */) {
      for (const p of closure(state, c.slice(1))) {
        srcs.push(p);
        if (p.endsWith('.drv')) {
          for (const o of readDrv(state, p).outputs.keys()) {
            drvs.push(p);
            drvOuts.push(o);
          }
        }
      }
    } else srcs.push(c);
  }

  if (builder === '') throw new NixEvalError('DERIVATION', "required attribute 'builder' missing", namePos);
  if (system === '') throw new NixEvalError('DERIVATION', "required attribute 'system' missing", namePos);
  if (drvName.endsWith('.drv'))
    throw new NixEvalError('DERIVATION', "derivation names are not allowed to end in '.drv'", namePos);
  // The name is checked when the first path is made from it (2.8's message names that path).
  const name = fromBytes(drvName);

  // Outputs in byte order, each with an env entry (which holds its path).
  const outNames = outputHash !== undefined ? DEFAULT_OUTPUTS : sortedOutputs(outputs);
  let fixed: NewDerivation['fixed'];
  if (outputHash !== undefined) {
    if (outputs.length !== 1 || outputs[0] !== 'out') {
      throw new NixEvalError(
        'DERIVATION',
        'multiple outputs are not supported in fixed-output derivations',
        namePos,
      );
    }
    // A bad hash fails with no position, as in Nix 2.8.
    fixed = { method: method ?? 'flat', hash: hashAllowEmpty(state, outputHash, outputHashAlgo) };
  }

  // The env: the attributes' entries and the outputs' (which win), merged in byte order.
  if (json) sortEntries(envKeys, envVals);
  let keys: string[] = [];
  let vals: string[] = [];
  let asciiKeys = true;
  let i = 0;
  let j = 0;
  while (i < envKeys.length || j < outNames.length) {
    const k = i < envKeys.length ? envKeys[i]! : undefined;
    const o = j < outNames.length ? outNames[j]! : undefined;
    let kb: string;
    if (o === undefined || (k !== undefined && k < o)) {
      kb = k!;
      vals.push(fromBytes(envVals[i++]!));
    } else {
      if (k === o) i++;
      kb = o;
      vals.push('');
      j++;
    }
    const key = fromBytes(kb);
    // fromBytes returns an ASCII string itself.
    if (key !== kb) asciiKeys = false;
    keys.push(key);
  }
  if (!asciiKeys) [keys, vals] = decodedEnv(keys, vals);

  const inputSrcs = srcs.length < 2 ? srcs : sortedUniqueBytes(srcs);
  for (let k = 0; k < inputSrcs.length; k++) inputSrcs[k] = fromBytes(inputSrcs[k]!);
  for (let k = 0; k < args.length; k++) args[k] = fromBytes(args[k]!);
  const newDrv: NewDerivation = {
    name,
    outputs: outNames === DEFAULT_OUTPUTS ? outNames : outNames.map(fromBytes),
    fixed,
    inputDrvs: drvs,
    inputDrvOutputs: groupInputs(drvs, drvOuts),
    inputSrcs,
    system: fromBytes(system),
    builder: fromBytes(builder),
    args,
    envKeys: keys,
    envVals: vals,
  };
  if (lazyAs !== undefined && (lazyHashes.length > 0 || drvs.length > 0)) {
    // The inputs as the modulo texts have them: by their hashes.
    const hashes = drvs.map(hasher.inputHashBase16);
    for (let k = 0; k < lazyHashes.length; k++) {
      hashes.push(lazyHashes[k]!);
      newDrv.inputDrvOutputs.push([fromBytes(lazyOuts[k]!)]);
    }
    newDrv.inputDrvs = hashes;
  }
  let made: ReturnType<typeof instantiateDerivation>;
  try {
    made = instantiateDerivation(newDrv, lazyAs !== undefined ? hasher.byHash : hasher);
  } catch (e) {
    // As in 2.8, a bad name or hash has no position (the call's frame is added above this).
    if (e instanceof FormatError) throw new NixEvalError('DERIVATION', byteMessage(e.message));
    throw e;
  }
  const { outputPaths, text, moduloBase16 } = made;
  // Store paths made here are valid (ASCII names), so with an ASCII store dir they are byte strings.
  const ascii = hasher.asciiStoreDir;
  if (!ascii) for (let o = 0; o < outputPaths.length; o++) outputPaths[o] = toBytes(outputPaths[o]!);
  const outPaths = outputPaths.length === 1 ? outputPaths[0]! : outputPaths;
  if (lazyAs !== undefined) {
    return { drvPath: '', outNames, outPaths, lazyKey: state.lazyDrvs.add(lazyAs), moduloBase16 };
  }
  // The .drv is a text object whose references are its input sources and input derivations.
  // Its hash as an input of other derivations is kept, so that the derivation itself need not
  // be: the rarer readers of its outputs and references (drvPath contexts) parse the .drv back.
  const refs = newDrv.inputSrcs.concat(newDrv.inputDrvs);
  const added = state.io.addTextToStore(`${name}.drv`, text, refs, state.writeMode);
  const drvPath = ascii ? added : toBytes(added);
  state.drvHashes.set(drvPath, moduloBase16);
  return { drvPath, outNames, outPaths };
}

/** Output names in byte order (one shared array per list of names). */
function sortedOutputs(outputs: string[]): string[] {
  if (outputs.length === 1 && outputs[0] === 'out') return DEFAULT_OUTPUTS;
  const key = outputs.join('\0');
  let sorted = sortedOutputLists.get(key);
  if (sorted === undefined) {
    sorted = outputs.slice().sort(byteOrder);
    sortedOutputLists.set(key, sorted);
  }
  return sorted;
}
const sortedOutputLists = new Map<string, string[]>();

/** A sorted copy without duplicates. */
function sortedUniqueBytes(items: string[]): string[] {
  const out = items.slice().sort(byteOrder);
  let w = 0;
  for (let r = 0; r < out.length; r++) if (r === 0 || out[r] !== out[w - 1]) out[w++] = out[r]!;
  out.length = w;
  return out;
}

/**
 * Input derivations from parallel (drv, output) pairs: `drvs` becomes the distinct drv paths in
 * byte order (decoded); returns the outputs of each, in byte order without duplicates.
 */
function groupInputs(drvs: string[], outs: string[]): string[][] {
  const n = drvs.length;
  if (n === 0) return [];
  if (n === 1) {
    drvs[0] = fromBytes(drvs[0]!);
    return [[fromBytes(outs[0]!)]];
  }
  const order = drvs.map((_, i) => i);
  order.sort((a, b) => byteOrder(drvs[a]!, drvs[b]!) || byteOrder(outs[a]!, outs[b]!));
  const paths: string[] = [];
  const groups: string[][] = [];
  for (const i of order) {
    const p = drvs[i]!;
    const o = fromBytes(outs[i]!);
    if (paths.length > 0 && paths[paths.length - 1] === p) {
      const g = groups[groups.length - 1]!;
      if (g[g.length - 1] !== o) g.push(o);
    } else {
      paths.push(p);
      groups.push([o]);
    }
  }
  drvs.length = paths.length;
  for (let k = 0; k < paths.length; k++) drvs[k] = fromBytes(paths[k]!);
  return groups;
}

/**
 * The env with non-ASCII names: decoded names that coincide keep the later value, and names are
 * ordered by their UTF-8 bytes.
 */
function decodedEnv(keys: string[], vals: string[]): [string[], string[]] {
  const m = new Map<string, string>();
  for (let i = 0; i < keys.length; i++) m.set(keys[i]!, vals[i]!);
  const k2 = [...m.keys()].sort(compareUtf8);
  return [k2, k2.map((k) => m.get(k)!)];
}

/** Sorts parallel key/value arrays by key (byte order). */
function sortEntries(keys: string[], vals: string[]): void {
  const order = keys.map((_, i) => i).sort((a, b) => byteOrder(keys[a]!, keys[b]!));
  const k2 = order.map((i) => keys[i]!);
  const v2 = order.map((i) => vals[i]!);
  for (let i = 0; i < keys.length; i++) {
    keys[i] = k2[i]!;
    vals[i] = v2[i]!;
  }
}

/**
 * Store paths reachable from a .drv through its references (inputSrcs and inputDrvs), itself
 * included. Each must be valid, as for 2.8's computeFSClosure: in read-only evaluation a .drv made
 * by this evaluation is not (it was never written).
 */
function closure(state: EvalState, start: string): string[] {
  const seen = new Set<string>([start]);
  const work = [start];
  while (work.length > 0) {
    const p = work.pop()!;
    if (!state.io.isValidPath(fromBytes(p))) throw new NixEvalError('IO', `path '${p}' is not valid`);
    if (!p.endsWith('.drv')) continue;
    const drv = readDrv(state, p);
    for (const r of [...drv.inputSrcs, ...drv.inputDrvs.keys()]) {
      const rb = toBytes(r);
      if (!seen.has(rb)) {
        seen.add(rb);
        work.push(rb);
      }
    }
  }
  return [...seen];
}
