// derivationStrict (and the `derivation` wrapper, written in Nix), placeholder. Builds the
// Derivation from the attributes as Nix 2.8's prim_derivationStrict does, computes output paths
// with hashDerivationModulo, and writes the .drv through EvalIO.addTextToStore.

import { type Derivation, parseDerivation, printDerivation } from '../../formats/derivation.js';
import { fillOutputPathsInPlace, hashDerivationModulo } from '../../formats/derivation-hash.js';
import { type Hash, hashBytes, parseHash, printHash } from '../../formats/hash.js';
import { toNix32 } from '../../formats/nix32.js';
import { validateStorePathName } from '../../formats/store-path.js';
import { Bindings } from '../bindings.js';
import { coerceToString } from '../coerce.js';
import { compileExpr } from '../compile.js';
import { NixEvalError } from '../errors.js';
import { toJSON } from '../json.js';
import { forceAttrs, forceBool, forceList, forceString, forceStringNoCtx } from '../ops.js';
import { parse } from '../parser.js';
import { fromBytes, type Pos, Source, toBytes } from '../source.js';
import type { BuiltinDef, ConstDef, EvalState } from '../state.js';
import { toJsonString } from '../text/strings.js';
import { Attrs, force, NixStr, Thunk, type Value } from '../value.js';

// The `derivation` function: derivationStrict plus one attribute set per output. It is laid out
// so that its attributes sit at the line:column where Nix 2.8 reports them (unsafeGetAttrPos,
// --xml), under the file name Nix uses.
const DERIVATION_FILE = '//builtin/derivation.nix';
const DERIVATION_NIX = `/* tix's derivation wrapper: derivationStrict plus one set per output.
   Attribute positions match those Nix 2.8 reports. */
drvAttrs @ { outputs ? [ "out" ], ... }:

let

  strict = derivationStrict drvAttrs;

  commonAttrs = drvAttrs // (builtins.listToAttrs outputsList) //

    {
      all = map (x: x.value) outputsList;
     inherit drvAttrs;
    };

  outputToAttrListElement = outputName:
    { name = outputName;
      value = commonAttrs // {
        outPath = builtins.getAttr outputName strict;
        drvPath = strict.drvPath;
        type = "derivation";
       inherit outputName;
      };
    };

  outputsList = map outputToAttrListElement outputs;

in (builtins.head outputsList).value
`;

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
  const src = new Source(DERIVATION_FILE, DERIVATION_NIX);
  consts.push({
    name: 'derivation',
    global: true,
    value: new Thunk(() => {
      const ast = parse(src, { basePath: '/' });
      return compileExpr(state, src, ast, state.baseScope)(state.baseEnv);
    }, null),
  });
}

/** The Derivation behind a .drv path: one we made in this session, or read through EvalIO. */
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

function inputHash(state: EvalState, drvPath: string): Hash {
  let h = state.drvHashes.get(drvPath) as Hash | undefined;
  if (h === undefined) {
    h = hashDerivationModulo(readDrv(state, drvPath), {
      maskOutputs: false,
      inputHash: (p) => inputHash(state, p),
      storeDir: state.storeDir,
    });
    state.drvHashes.set(drvPath, h);
  }
  return h;
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
  const env = new Map<string, string>();
  const args: string[] = [];
  let builder = '';
  let system = '';
  let outputHash: string | undefined;
  let outputHashAlgo = '';
  let method: 'flat' | 'recursive' | undefined;
  let outputs = ['out'];

  const handleHashMode = (s: string) => {
    if (s === 'recursive') method = 'recursive';
    else if (s === 'flat') method = 'flat';
    else throw new NixEvalError('DERIVATION', `invalid value '${s}' for 'outputHashMode' attribute`, pos);
  };
  const handleOutputs = (list: string[]) => {
    const seen = new Set<string>();
    for (const o of list) {
      if (seen.has(o)) throw new NixEvalError('DERIVATION', `duplicate derivation output '${o}'`, pos);
      if (o === 'drv') throw new NixEvalError('DERIVATION', "invalid derivation output name 'drv'", pos);
      seen.add(o);
    }
    if (seen.size === 0)
      throw new NixEvalError('DERIVATION', 'derivation cannot have an empty set of outputs', pos);
    outputs = [...seen];
  };

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
        for (const e of forceList(t, pos))
          args.push(coerceToString(state, e, ctx, { copyToStore: true, coerceMore: true }, pos));
      } else if (json) {
        if (key === '__structuredAttrs') continue;
        json.set(key, toJSON(state, t, ctx, pos));
        if (key === 'builder') builder = coerceToString(state, t, ctx, { copyToStore: true }, pos);
        else if (key === 'system') system = forceStringNoCtx(t, pos);
        else if (key === 'outputHash') outputHash = forceStringNoCtx(t, pos);
        else if (key === 'outputHashAlgo') outputHashAlgo = forceStringNoCtx(t, pos);
        else if (key === 'outputHashMode') handleHashMode(forceStringNoCtx(t, pos));
        else if (key === 'outputs') handleOutputs(forceList(t, pos).map((x) => forceStringNoCtx(x, pos)));
      } else {
        const s = coerceToString(state, t, ctx, { copyToStore: true, coerceMore: true }, pos);
        env.set(key, s);
        if (key === 'builder') builder = s;
        else if (key === 'system') system = s;
        else if (key === 'outputHash') outputHash = s;
        else if (key === 'outputHashAlgo') outputHashAlgo = s;
        else if (key === 'outputHashMode') handleHashMode(s);
        else if (key === 'outputs') handleOutputs(s.split(/[ \t\n\r]+/).filter((x) => x !== ''));
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
    env.set('__json', `{${body}}`);
  }

  const inputSrcs = new Set<string>();
  const inputDrvs = new Map<string, Set<string>>();
  const addInputDrv = (p: string, outs: Iterable<string>) => {
    let s = inputDrvs.get(p);
    if (!s) {
      s = new Set();
      inputDrvs.set(p, s);
    }
    for (const o of outs) s.add(o);
  };
  for (const c of ctx) {
    if (c.startsWith('=')) {
      for (const p of closure(state, c.slice(1))) {
        inputSrcs.add(p);
        if (p.endsWith('.drv')) addInputDrv(p, readDrv(state, p).outputs.keys());
      }
    } else if (c.startsWith('!')) {
      const i = c.indexOf('!', 1);
      addInputDrv(c.slice(i + 1), [c.slice(1, i)]);
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

  const outs = new Map<string, { path: string; hashAlgo: string; hash: string }>();
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
    outs.set('out', {
      path: '',
      hashAlgo: `${m === 'recursive' ? 'r:' : ''}${h.algo}`,
      hash: printHash(h, 'base16'),
    });
    env.set('out', '');
  } else {
    for (const o of outputs) {
      env.set(o, '');
      outs.set(o, { path: '', hashAlgo: '', hash: '' });
    }
  }
  // Byte strings sort in byte order with the default comparison.
  const sortedKeys = <T>(m: Map<string, T>) => [...m.keys()].sort();
  const drv: Derivation = {
    name: fromBytes(drvName),
    outputs: new Map(sortedKeys(outs).map((k) => [fromBytes(k), outs.get(k)!])),
    inputSrcs: [...inputSrcs].sort().map(fromBytes),
    system: fromBytes(system),
    builder: fromBytes(builder),
    args: args.map(fromBytes),
    env: new Map(sortedKeys(env).map((k) => [fromBytes(k), fromBytes(env.get(k)!)])),
    inputDrvs: new Map(
      sortedKeys(inputDrvs).map((k) => [fromBytes(k), [...inputDrvs.get(k)!].sort().map(fromBytes)]),
    ),
  };
  // drv and its maps are fresh here, so the output paths are filled in without a copy.
  fillOutputPathsInPlace(drv, { inputHash: (p) => inputHash(state, toBytes(p)), storeDir: state.storeDir });
  // The .drv is a text object whose references are its input sources and input derivations.
  const text = printDerivation(drv);
  const refs = [...drv.inputSrcs, ...drv.inputDrvs.keys()];
  const drvPath = toBytes(
    state.io.addTextToStore(`${drv.name}.drv`, Buffer.from(text, 'utf8'), refs, {
      readOnly: state.opts.readOnly,
    }),
  );
  state.derivations.set(drvPath, drv);

  const m = new Bindings([], []);
  m.set('drvPath', new NixStr(drvPath, new Set([`=${drvPath}`])));
  for (const [o, d] of drv.outputs) {
    const ob = toBytes(o);
    m.set(ob, new NixStr(toBytes(d.path), new Set([`!${ob}!${drvPath}`])));
  }
  return new Attrs(m);
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
