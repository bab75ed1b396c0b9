// derivationStrict (and the `derivation` wrapper, derivation-wrapper.ts), placeholder. Builds the
// Derivation from the attributes as Nix 2.8's prim_derivationStrict does, computes output paths
// with hashDerivationModulo, and writes the .drv through EvalIO.addTextToStore.

import { type Derivation, type DerivationOutput, parseDerivation } from '../../formats/derivation.js';
import {
  fillOutputPathsInPlace,
  hashDerivationModuloBase16,
  textAndModuloBase16,
} from '../../formats/derivation-hash.js';
import { type Hash, hashBytes, parseHash, printHash } from '../../formats/hash.js';
import { toNix32 } from '../../formats/nix32.js';
import { validateStorePathName } from '../../formats/store-path.js';
import { Bindings } from '../bindings.js';
import { coerceToString } from '../coerce.js';
import { NixEvalError } from '../errors.js';
import { toJSON } from '../json.js';
import { forceAttrs, forceBool, forceList, forceString, forceStringNoCtx } from '../ops.js';
import { fromBytes, type Pos, toBytes } from '../source.js';
import type { BuiltinDef, ConstDef, EvalState } from '../state.js';
import { toJsonString } from '../text/strings.js';
import { Attrs, force, NixStr, type Thunk, type Value } from '../value.js';
import { derivationLambda } from './derivation-wrapper.js';

function parseOutputHash(text: string, algo: string, pos?: Pos): Hash {
  const a = algo === '' ? undefined : algo;
  if (a !== undefined && a !== 'md5' && a !== 'sha1' && a !== 'sha256' && a !== 'sha512') {
    throw new NixEvalError('DERIVATION', `unknown hash algorithm '${algo}'`, pos);
  }
  if (text === '') {
    if (a === undefined) throw new NixEvalError('DERIVATION', 'empty hash requires explicit hash type', pos);
    return { algo: a, digest: new Uint8Array(hashBytes(a, '').digest.length) };
  }
  try {
    return parseHash(text, { algo: a });
  } catch (e) {
    throw new NixEvalError('DERIVATION', (e as Error).message, pos);
  }
}

export function registerDerivation(state: EvalState, defs: BuiltinDef[], consts: ConstDef[]): void {
  defs.push({
    name: 'derivationStrict',
    arity: 1,
    fn: ([a], pos) => derivationStrict(state, a!, pos),
    global: true,
  });
  defs.push({
    name: 'placeholder',
    arity: 1,
    fn: ([a], pos) => `/${toNix32(hashBytes('sha256', `nix-output:${forceString(a!, pos)}`).digest)}`,
    global: true,
  });
  consts.push({
    name: 'derivation',
    global: true,
    value: derivationLambda(state, (a, pos) => derivationStrict(state, a, pos)),
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
}
const hashers = new WeakMap<EvalState, Hasher>();

function hasherOf(state: EvalState): Hasher {
  let h = hashers.get(state);
  if (h === undefined) {
    h = { inputHashBase16: (p) => inputHashBase16(state, toBytes(p)), storeDir: state.storeDir };
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

function addInputDrv(inputDrvs: Map<string, Set<string>>, p: string, outs: Iterable<string>): void {
  let s = inputDrvs.get(p);
  if (!s) {
    s = new Set();
    inputDrvs.set(p, s);
  }
  for (const o of outs) s.add(o);
}

const ENV_OPTS = { copyToStore: true, coerceMore: true };

/** Byte strings sort in byte order with the default comparison. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function derivationStrict(state: EvalState, arg: Value | Thunk, pos?: Pos): Value {
  const attrs = forceAttrs(arg, pos);
  const nameV = attrs.m.get('name');
  if (nameV === undefined) throw new NixEvalError('DERIVATION', "required attribute 'name' missing", pos);
  const drvName = forceStringNoCtx(nameV, pos);
  const structured = attrs.m.get('__structuredAttrs');
  const json: Map<string, string> | undefined =
    structured !== undefined && forceBool(structured, pos) ? new Map() : undefined;
  const ignoreNullsV = attrs.m.get('__ignoreNulls');
  const ignoreNulls = ignoreNullsV !== undefined && forceBool(ignoreNullsV, pos);

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
  let outputs = ['out'];

  const { names: attrNames, vals: attrVals } = attrs.m;
  for (let ai = 0; ai < attrNames.length; ai++) {
    const key = attrNames[ai]!;
    if (key === '__ignoreNulls') continue;
    const t = attrVals[ai]!;
    try {
      if (ignoreNulls && force(t) === null) continue;
      if (key === '__contentAddressed' || key === '__impure') {
        if (forceBool(t, pos)) {
          const xp = key === '__impure' ? 'impure-derivations' : 'ca-derivations';
          throw new NixEvalError(
            'DERIVATION',
            `experimental Nix feature '${xp}' is disabled; use '--extra-experimental-features ${xp}' to override`,
            pos,
          );
        }
      } else if (key === 'args') {
        for (const e of forceList(t, pos)) args.push(coerceToString(state, e, ctx, ENV_OPTS, pos));
      } else if (json) {
        if (key === '__structuredAttrs') continue;
        json.set(key, toJSON(state, t, ctx, pos));
        if (key === 'builder') builder = coerceToString(state, t, ctx, { copyToStore: true }, pos);
        else if (key === 'system') system = forceStringNoCtx(t, pos);
        else if (key === 'outputHash') outputHash = forceStringNoCtx(t, pos);
        else if (key === 'outputHashAlgo') outputHashAlgo = forceStringNoCtx(t, pos);
        else if (key === 'outputHashMode') method = hashMode(forceStringNoCtx(t, pos), pos);
        else if (key === 'outputs')
          outputs = outputNames(
            forceList(t, pos).map((x) => forceStringNoCtx(x, pos)),
            pos,
          );
      } else {
        const s = coerceToString(state, t, ctx, ENV_OPTS, pos);
        envKeys.push(key);
        envVals.push(s);
        if (key === 'builder') builder = s;
        else if (key === 'system') system = s;
        else if (key === 'outputHash') outputHash = s;
        else if (key === 'outputHashAlgo') outputHashAlgo = s;
        else if (key === 'outputHashMode') method = hashMode(s, pos);
        else if (key === 'outputs')
          outputs = outputNames(
            s.split(/[ \t\n\r]+/).filter((x) => x !== ''),
            pos,
          );
      }
    } catch (e) {
      if (e instanceof NixEvalError) {
        e.addTrace(pos, `while evaluating the attribute '${key}' of the derivation '${drvName}'`);
      }
      throw e;
    }
  }
  if (json) {
    const body = [...json].map(([k, v]) => `${toJsonString(k)}:${v}`).join(',');
    envKeys.push('__json');
    envVals.push(`{${body}}`);
  }

  const inputSrcs = new Set<string>();
  const inputDrvs = new Map<string, Set<string>>();
  for (const c of ctx) {
    if (c.startsWith('=')) {
      for (const p of closure(state, c.slice(1))) {
        inputSrcs.add(p);
        if (p.endsWith('.drv')) addInputDrv(inputDrvs, p, readDrv(state, p).outputs.keys());
      }
    } else if (c.startsWith('!')) {
      const i = c.indexOf('!', 1);
      addInputDrv(inputDrvs, c.slice(i + 1), [c.slice(1, i)]);
    } else inputSrcs.add(c);
  }

  if (builder === '') throw new NixEvalError('DERIVATION', "required attribute 'builder' missing", pos);
  if (system === '') throw new NixEvalError('DERIVATION', "required attribute 'system' missing", pos);
  if (drvName.endsWith('.drv'))
    throw new NixEvalError('DERIVATION', "derivation names are not allowed to end in '.drv'", pos);
  try {
    validateStorePathName(fromBytes(drvName));
  } catch (e) {
    throw new NixEvalError('DERIVATION', (e as Error).message, pos);
  }

  // Outputs in byte order, each with an env entry (its path, "" until computed).
  const outNames = outputHash !== undefined ? ['out'] : outputs.slice().sort(byteOrder);
  const outMap = new Map<string, DerivationOutput>();
  if (outputHash !== undefined) {
    if (outputs.length !== 1 || outputs[0] !== 'out') {
      throw new NixEvalError(
        'DERIVATION',
        'multiple outputs are not supported in fixed-output derivations',
        pos,
      );
    }
    const h = parseOutputHash(outputHash, outputHashAlgo, pos);
    const m = method ?? 'flat';
    outMap.set('out', {
      path: '',
      hashAlgo: `${m === 'recursive' ? 'r:' : ''}${h.algo}`,
      hash: printHash(h, 'base16'),
    });
  } else for (const o of outNames) outMap.set(fromBytes(o), { path: '', hashAlgo: '', hash: '' });

  // The env: the attributes' entries and the outputs' (which win), merged in byte order.
  if (json) sortEntries(envKeys, envVals);
  const env = new Map<string, string>();
  let i = 0;
  let j = 0;
  while (i < envKeys.length || j < outNames.length) {
    const k = i < envKeys.length ? envKeys[i]! : undefined;
    const o = j < outNames.length ? outNames[j]! : undefined;
    if (o === undefined || (k !== undefined && k < o)) {
      env.set(fromBytes(k!), fromBytes(envVals[i++]!));
    } else {
      if (k === o) i++;
      env.set(fromBytes(o), '');
      j++;
    }
  }

  const inputDrvPaths = [...inputDrvs.keys()].sort(byteOrder);
  const drv: Derivation = {
    name: fromBytes(drvName),
    outputs: outMap,
    inputSrcs: [...inputSrcs].sort(byteOrder).map(fromBytes),
    system: fromBytes(system),
    builder: fromBytes(builder),
    args: args.map(fromBytes),
    env,
    inputDrvs: new Map(
      inputDrvPaths.map((k) => [fromBytes(k), [...inputDrvs.get(k)!].sort(byteOrder).map(fromBytes)]),
    ),
  };
  // drv and its maps are fresh here, so the output paths are filled in without a copy.
  const hasher = hasherOf(state);
  fillOutputPathsInPlace(drv, hasher);
  // The .drv is a text object whose references are its input sources and input derivations.
  // Its hash as an input of other derivations is computed now, so that drv need not be kept:
  // the rarer readers of its outputs and references (drvPath contexts) parse the .drv back.
  const { text, moduloBase16 } = textAndModuloBase16(drv, hasher);
  const refs = drv.inputSrcs.concat([...drv.inputDrvs.keys()]);
  const drvPath = toBytes(
    state.io.addTextToStore(`${drv.name}.drv`, text, refs, { readOnly: state.opts.readOnly }),
  );
  if (!state.drvHashes.has(drvPath)) state.drvHashes.set(drvPath, moduloBase16);

  // drvPath and the outputs, in byte order ("drv" is not an output name).
  const names: string[] = [];
  const vals: Value[] = [];
  let drvPathDone = false;
  for (const [o, d] of outMap) {
    const ob = toBytes(o);
    if (!drvPathDone && ob >= 'drvPath') {
      // An output named "drvPath" takes the place of the attribute.
      if (ob !== 'drvPath') {
        names.push('drvPath');
        vals.push(new NixStr(drvPath, new Set([`=${drvPath}`])));
      }
      drvPathDone = true;
    }
    names.push(ob);
    vals.push(new NixStr(toBytes(d.path), new Set([`!${ob}!${drvPath}`])));
  }
  if (!drvPathDone) {
    names.push('drvPath');
    vals.push(new NixStr(drvPath, new Set([`=${drvPath}`])));
  }
  return new Attrs(new Bindings(names, vals));
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

/** Store paths reachable from a .drv through its references (inputSrcs and inputDrvs), itself included. */
function closure(state: EvalState, start: string): string[] {
  const seen = new Set<string>([start]);
  const work = [start];
  while (work.length > 0) {
    const p = work.pop()!;
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
