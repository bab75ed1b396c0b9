// The `derivation` function: derivationStrict plus one attribute set per output. It is a Nix
// lambda (so functionArgs, typeOf and printing see the lambda below) whose body runs natively:
// the let-bindings of the text below are built directly, with the same names, values, laziness,
// order of forcing and attribute positions as evaluating the text would give. Its attributes sit
// at the line:column where Nix 2.8 reports them (unsafeGetAttrPos, --xml), under the file name
// Nix uses.

import { addAttrTrace, DERIVATION_NIX_PATH, missingAttr } from '../attr-errors.js';
import { compileExpr } from '../compile.js';
import { NixEvalError } from '../errors.js';
import type { LazyDrv } from '../lazy-drv.js';
import { forceAttrs, forceList, forceString } from '../ops.js';
import { parse } from '../parser.js';
import { type Pos, Source } from '../source.js';
import type { EvalState } from '../state.js';
import {
  Attrs,
  type Env,
  force,
  inlinable,
  Lambda,
  NixStr,
  type PosLookup,
  Thunk,
  type Value,
} from '../value.js';

// Its lines are those of Nix 2.8's own text (which starts with an empty line), so that the
// positions of expressions and attributes are the ones 2.8 reports.
const DERIVATION_NIX = `
/* tix's derivation wrapper: derivationStrict plus one set per output.
   Attribute positions match those Nix 2.8 reports. */

drvAttrs @ { outputs ? [ "out" ], ... }:

let

  strict = derivationStrict drvAttrs;

  commonAttrs = drvAttrs // (builtins.listToAttrs outputsList) //
    { all = map (x: x.value) outputsList;
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

/** Positions in the text above: where each expression or attribute definition starts. */
class WrapperPositions {
  readonly strictCall: Pos;
  readonly listToAttrs: Pos;
  readonly head: Pos;
  readonly map: Pos;
  readonly getAttr: Pos;
  readonly select: Pos;
  readonly all: Pos;
  readonly drvAttrs: Pos;
  readonly value: Pos;
  readonly outPath: Pos;
  readonly drvPath: Pos;
  readonly type: Pos;
  readonly outputName: Pos;

  constructor(src: Source) {
    const at = (text: string, skip = 0): Pos => {
      const off = src.text.indexOf(text);
      if (off < 0) throw new Error(`derivation wrapper: '${text}' not found`);
      return { src, off: off + skip };
    };
    this.strictCall = at('derivationStrict drvAttrs');
    this.listToAttrs = at('builtins.listToAttrs outputsList');
    this.head = at('builtins.head outputsList');
    this.map = at('map outputToAttrListElement outputs');
    this.getAttr = at('builtins.getAttr outputName strict');
    this.select = at('strict.drvPath');
    this.all = at('all = ');
    this.drvAttrs = at('inherit drvAttrs;', 'inherit '.length);
    this.value = at('value = ');
    this.outPath = at('outPath = ');
    this.drvPath = at('drvPath = ');
    this.type = at('type = ');
    this.outputName = at('inherit outputName;', 'inherit '.length);
  }
}

/** Positions of one layout's output sets: the wrapper's own attributes, then drvAttrs'. */
class DerivationPos implements PosLookup {
  constructor(
    private readonly p: WrapperPositions,
    private readonly outputs: Set<string>,
    private readonly attrs: PosLookup | undefined,
  ) {}
  get(name: string): Pos | undefined {
    const p = this.p;
    switch (name) {
      case 'outPath':
        return p.outPath;
      case 'drvPath':
        return p.drvPath;
      case 'type':
        return p.type;
      case 'outputName':
        return p.outputName;
      case 'all':
        return p.all;
      case 'drvAttrs':
        return p.drvAttrs;
    }
    if (this.outputs.has(name)) return p.value;
    return this.attrs?.get(name);
  }
}

// Where each attribute of an output set comes from: an index (>= 0) into drvAttrs' values, one
// of the wrapper's own attributes, or (OUT - k) the set of the k-th distinct output name.
const ALL = -1;
const DRV_ATTRS = -2;
const DRV_PATH = -3;
const OUT_PATH = -4;
const OUTPUT_NAME = -5;
const TYPE = -6;
const OUT = -7;

/**
 * The names of the output sets (`drvAttrs // listToAttrs outputsList // { all; drvAttrs; } //
 * { outPath; drvPath; type; outputName; }`, later ones winning) for one layout of drvAttrs and
 * one list of output names, and where each value comes from. Derivations made at one place share
 * it (and its names array).
 */
interface Layout {
  names: string[];
  src: Int32Array;
  /** For OUT - k: the index in `outputs` of the first occurrence of the k-th distinct name. */
  outFirst: number[];
  outSet: Set<string>;
  /** Slots of the four per-output attributes. */
  drvPath: number;
  outPath: number;
  outputName: number;
  type: number;
  /** The slot of the first output's set, or -1 if a later attribute of that name wins. */
  firstOutput: number;
  /** Positions, for the drvAttrs positions (posOf) they were made for. */
  pos: DerivationPos | undefined;
  posOf: PosLookup | undefined;
}

/** Layouts by drvAttrs' names array, then by the output names (joined with NUL). */
const layouts = new WeakMap<string[], Map<string, Layout>>();

function layoutFor(attrNames: string[], outNames: string[]): Layout {
  const key = outNames.length === 1 ? outNames[0]! : outNames.join('\0');
  let byOuts = layouts.get(attrNames);
  if (byOuts === undefined) {
    byOuts = new Map();
    layouts.set(attrNames, byOuts);
  }
  let l = byOuts.get(key);
  if (l === undefined) {
    l = makeLayout(attrNames, outNames);
    byOuts.set(key, l);
  }
  return l;
}

function makeLayout(attrNames: string[], outNames: string[]): Layout {
  const from = new Map<string, number>();
  for (let i = 0; i < attrNames.length; i++) from.set(attrNames[i]!, i);
  // listToAttrs: the first definition of a name wins.
  const outFirst: number[] = [];
  const outSet = new Set<string>();
  for (let i = 0; i < outNames.length; i++) {
    const n = outNames[i]!;
    if (outSet.has(n)) continue;
    outSet.add(n);
    from.set(n, OUT - outFirst.length);
    outFirst.push(i);
  }
  from.set('all', ALL);
  from.set('drvAttrs', DRV_ATTRS);
  from.set('drvPath', DRV_PATH);
  from.set('outPath', OUT_PATH);
  from.set('outputName', OUTPUT_NAME);
  from.set('type', TYPE);
  // Byte strings sort in byte order with the default comparison.
  const names = [...from.keys()].sort();
  const src = Int32Array.from(names, (n) => from.get(n)!);
  return {
    names,
    src,
    outFirst,
    outSet,
    drvPath: names.indexOf('drvPath'),
    outPath: names.indexOf('outPath'),
    outputName: names.indexOf('outputName'),
    type: names.indexOf('type'),
    firstOutput: src.indexOf(OUT),
    pos: undefined,
    posOf: undefined,
  };
}

/** What derivationStrict made: the .drv path and the output paths (byte strings). */
export interface StrictResult {
  /** The .drv path; '' for a lazy derivation (lazy-drv.ts), until its StrictThunk computes it. */
  drvPath: string;
  /** Output names in byte order. */
  outNames: string[];
  /** The outputs' paths, parallel to `outNames`; a single output's path is the string itself. */
  outPaths: string | string[];
  /** A lazy derivation's key in its evaluation's LazyDrvTable, and its modulo hash. */
  lazyKey?: string;
  moduloBase16?: string;
}

/** The .drv path of a result, computed now if it was left for later. */
function drvPathOf(r: StrictResult): string {
  return r.drvPath === '' && r instanceof StrictThunk ? r.drvPathNow() : r.drvPath;
}

/** The context of an output's path: `!<output>!<drv>`, or what stands for it (lazy-drv.ts). */
function outputContext(r: StrictResult, name: string): string {
  if (r.lazyKey) return `${r.lazyKey}!${name}`;
  let prefix = outputCtxPrefix.get(name);
  if (prefix === undefined) {
    prefix = `!${name}!`;
    outputCtxPrefix.set(name, prefix);
  }
  return prefix + r.drvPath;
}

/** Context prefixes `!<output>!` by output name. */
const outputCtxPrefix = new Map<string, string>([['out', '!out!']]);

/**
 * The attribute `name` of derivationStrict's set: `drvPath` with the context `=<drv>`, or an
 * output's path with the context `!<output>!<drv>`. Undefined if absent. An output named `drvPath`
 * is a second attribute of that name in Nix 2.8's set, which lookups never find (see strictAttrs).
 */
export function strictAttr(r: StrictResult, name: string): NixStr | undefined {
  const { outNames, outPaths } = r;
  if (name === 'drvPath') {
    const drvPath = drvPathOf(r);
    return new NixStr(drvPath, `=${drvPath}`);
  }
  const i = typeof outPaths === 'string' ? (outNames[0] === name ? 0 : -1) : outNames.indexOf(name);
  if (i >= 0)
    return new NixStr(typeof outPaths === 'string' ? outPaths : outPaths[i]!, outputContext(r, name));
  return undefined;
}

/** An output's attribute (strictAttr without `drvPath` itself). */
function outputAttr(r: StrictResult, name: string): NixStr {
  const i = typeof r.outPaths === 'string' ? 0 : r.outNames.indexOf(name);
  const path = typeof r.outPaths === 'string' ? r.outPaths : r.outPaths[i]!;
  return new NixStr(path, outputContext(r, name));
}

/** derivationStrict's attribute names for each list of output names (joined with NUL). */
const strictNames = new Map<string, string[]>();

/** derivationStrict's set: `{ drvPath; <output> = path; … }`. */
export function strictAttrs(r: StrictResult): Attrs {
  const outs = r.outNames;
  const key = outs.length === 1 ? outs[0]! : outs.join('\0');
  let names = strictNames.get(key);
  if (names === undefined) {
    // Byte strings sort in byte order with the default comparison.
    // An output named drvPath makes a second `drvPath`, after the .drv's (as Nix 2.8 shows it).
    names = [...outs, 'drvPath'].sort();
    strictNames.set(key, names);
  }
  const vals: Value[] = new Array(names.length);
  let drvDone = false;
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (n === 'drvPath' && !drvDone) {
      drvDone = true;
      vals[i] = strictAttr(r, n)!;
    } else vals[i] = outputAttr(r, n);
  }
  return new Attrs(names, vals);
}

/**
 * derivationStrict's function, giving its result before it becomes a set. Given `lazy`, it may
 * leave the .drv path for later, registering `lazy` as the derivation (then the result has a
 * lazyKey); called again without it on the same attributes, it computes the path.
 */
export type StrictFn = (arg: Value | Thunk, pos: Pos, lazy: LazyDrv | undefined) => StrictResult;

/**
 * `strict = derivationStrict drvAttrs`, which only the output sets' `outPath` and `drvPath` read.
 * It keeps the StrictResult's fields, and as a thunk it is `strict.drvPath` (the sets' `drvPath`):
 * `outPath` runs derivationStrict through `computeStrict` without making that attribute.
 */
class StrictThunk extends Thunk implements StrictResult, LazyDrv {
  drvPath = '';
  outNames: string[] = [];
  outPaths: string | string[] = '';
  lazyKey = '';
  moduloBase16 = '';
  /** 0: not run, 1: running, 2: done. */
  phase = 0;
  /** commonAttrs' values once built: the single output's set is laid out on them. */
  base: (Value | Thunk)[] | undefined = undefined;
  constructor(
    public fn: StrictFn | null,
    public drvAttrs: Value | Thunk,
    readonly p: WrapperPositions,
  ) {
    super(getDrvPath, null);
  }

  /** The .drv path of a lazy derivation: derivationStrict again, on the attributes it forced. */
  drvPathNow(): string {
    if (this.drvPath === '') {
      this.drvPath = this.fn!(this.drvAttrs, this.p.strictCall, undefined).drvPath;
      this.fn = null;
      this.drvAttrs = null;
    }
    return this.drvPath;
  }
}

/**
 * Runs derivationStrict once (again after a failure, as a thunk would); running it from within
 * itself is infinite recursion, as forcing `strict` from within itself would be.
 */
function computeStrict(t: StrictThunk): void {
  if (t.phase === 2) return;
  if (t.phase === 1) throw new NixEvalError('INFINITE_RECURSION', 'infinite recursion encountered');
  t.phase = 1;
  let lazy = false;
  try {
    const r = t.fn!(t.drvAttrs, t.p.strictCall, t);
    t.drvPath = r.drvPath;
    t.outNames = r.outNames;
    t.outPaths = r.outPaths;
    if (r.lazyKey !== undefined) {
      t.lazyKey = r.lazyKey;
      t.moduloBase16 = r.moduloBase16!;
      lazy = true;
    }
  } catch (e) {
    t.phase = 0;
    throw e;
  }
  t.phase = 2;
  // derivationStrict forced the attributes it read. The sets that live on (drvAttrs, and the output
  // sets, which share commonAttrs' values) keep those values rather than their thunks.
  const a = t.drvAttrs instanceof Thunk ? t.drvAttrs.v : t.drvAttrs;
  if (a instanceof Attrs) forgetForced(a.m.vals);
  if (t.base !== undefined) forgetForced(t.base);
  t.base = undefined;
  // A lazy derivation keeps what computing its path needs (drvAttrs lives on in the sets anyway).
  if (!lazy) {
    t.fn = null;
    t.drvAttrs = null;
  }
}

/** Replaces the forced thunks in `slots` by their values where they may (inlinable). */
function forgetForced(slots: (Value | Thunk)[]): void {
  for (let i = 0; i < slots.length; i++) {
    const x = slots[i]!;
    if (x instanceof Thunk && x.c === null && inlinable(x.v)) slots[i] = x.v;
  }
}

/** The attribute `name` of `strict` (running it), as `strict.${name}` gives it. */
function selectStrict(strict: StrictThunk, name: string, pos: Pos): Value {
  computeStrict(strict);
  const v = strictAttr(strict, name);
  if (v === undefined) throw missingAttr(name, strictAttrs(strict), pos);
  return v;
}

/** `strict.drvPath`: the StrictThunk's own code. */
function getDrvPath(_env: Env, self: Thunk): Value {
  const t = self as StrictThunk;
  return selectStrict(t, 'drvPath', t.p.select);
}

/** What the output sets of one call share until each is built. */
class Call {
  /** `commonAttrs`' values laid out as the output sets are (their own four slots empty). */
  base: (Value | Thunk)[] | undefined;
  all: AllThunk | undefined;
  layout: Layout | undefined;
  pos: DerivationPos | undefined;
  constructor(
    readonly p: WrapperPositions,
    readonly strict: StrictThunk,
    readonly drvAttrs: Value | Thunk,
    /** `outputs` as given (the list's elements are the output names, forced in order). */
    readonly outputs: (Value | Thunk)[],
    /** One `value` per element of `outputs`: the sets `all` holds (`x.value`). */
    readonly sets: OutputThunk[],
  ) {}
}

/** `outputToAttrListElement outputName`'s `value`: the set of one output. */
class OutputThunk extends Thunk {
  constructor(
    public call: Call | null,
    /** The element of `outputs` (a thunk or the name). */
    public outputName: Value | Thunk,
  ) {
    super(buildOutputSet, null);
  }
}

/** `builtins.getAttr outputName strict`. */
class OutPathThunk extends Thunk {
  constructor(
    public strict: StrictThunk | null,
    public outputName: Value | Thunk,
    readonly p: WrapperPositions,
  ) {
    super(getOutPath, null);
  }
}

function getOutPath(_env: Env, self: Thunk): Value {
  const t = self as OutPathThunk;
  const pos = t.p.getAttr;
  const name = forceString(t.outputName, pos);
  const r = selectStrict(t.strict!, name, pos);
  t.strict = null;
  t.outputName = null;
  return r;
}

/** `all = map (x: x.value) outputsList`. */
class AllThunk extends Thunk {
  /** The sets, or the only one (its thunk, or the set once built). */
  constructor(public sets: OutputThunk[] | OutputThunk | Attrs | null) {
    super(listSets, null);
  }
}

function listSets(_env: Env, self: Thunk): Value {
  const t = self as AllThunk;
  const sets = t.sets!;
  t.sets = null;
  // `map` makes a thunk of each element (`x.value`), unevaluated until read even when the set is
  // built already (a non-strict print shows <CODE>, as Nix's does).
  const elem = (s: OutputThunk | Attrs) => new Thunk(() => force(s), null);
  return Array.isArray(sets) ? sets.map(elem) : [elem(sets)];
}

/** `commonAttrs // { outPath = …; drvPath = …; type = "derivation"; inherit outputName; }`. */
function buildOutputSet(_env: Env, self: Thunk): Value {
  const t = self as OutputThunk;
  const call = t.call!;
  const base = commonAttrs(call);
  const l = call.layout!;
  // With one output its set is the only one made from base.
  const vals = call.sets.length === 1 ? base : base.slice();
  vals[l.drvPath] = call.strict;
  vals[l.outPath] = new OutPathThunk(call.strict, t.outputName, call.p);
  vals[l.outputName] = t.outputName;
  vals[l.type] = 'derivation';
  t.call = null;
  const set = new Attrs(l.names, vals, call.pos);
  if (call.sets.length === 1) {
    // This thunk is the only output's set and is being forced, so where the set refers to it (its
    // output's attribute and `all`) it may hold the set itself: the thunk need not be kept.
    if (l.firstOutput >= 0) vals[l.firstOutput] = set;
    call.all!.sets = set;
  }
  return set;
}

/** `drvAttrs // (builtins.listToAttrs outputsList) // { all = …; inherit drvAttrs; }`. */
function commonAttrs(call: Call): (Value | Thunk)[] {
  if (call.base !== undefined) return call.base;
  const p = call.p;
  const attrs = forceAttrs(call.drvAttrs);
  // listToAttrs forces the names in order.
  const outNames: string[] = new Array(call.outputs.length);
  for (let i = 0; i < outNames.length; i++) outNames[i] = forceString(call.outputs[i]!, p.listToAttrs);
  const l = layoutFor(attrs.m.names, outNames);
  const vals = attrs.m.vals;
  const base: (Value | Thunk)[] = new Array(l.names.length);
  const all = new AllThunk(call.sets.length === 1 ? call.sets[0]! : call.sets);
  call.all = all;
  for (let i = 0; i < base.length; i++) {
    const c = l.src[i]!;
    if (c >= 0) base[i] = vals[c]!;
    else if (c === ALL) base[i] = all;
    else if (c === DRV_ATTRS) base[i] = call.drvAttrs;
    else if (c <= OUT) base[i] = call.sets[l.outFirst[OUT - c]!]!;
    else base[i] = null;
  }
  if (l.pos === undefined || l.posOf !== attrs.pos) {
    l.pos = new DerivationPos(p, l.outSet, attrs.pos);
    l.posOf = attrs.pos;
  }
  call.pos = l.pos;
  call.layout = l;
  call.base = base;
  if (call.strict.phase !== 2) call.strict.base = base;
  return base;
}

/** The wrapper's body: `(builtins.head outputsList).value`. Env slots: outputs, drvAttrs. */
function derivationBody(p: WrapperPositions, strictFn: StrictFn, env: Env): Value {
  const outputs = forceList(env.v[0]!, p.map);
  if (outputs.length === 0) throw new NixEvalError('TYPE', 'list index 0 is out of bounds', p.head);
  const drvAttrs = env.v[1]!;
  const sets: OutputThunk[] = new Array(outputs.length);
  const call = new Call(p, new StrictThunk(strictFn, drvAttrs, p), drvAttrs, outputs, sets);
  for (let i = 0; i < outputs.length; i++) sets[i] = new OutputThunk(call, outputs[i]!);
  // `head outputsList` is the first set; forcing it builds commonAttrs (forcing every name).
  try {
    return sets[0]!.force();
  } catch (err) {
    throw addAttrTrace(err, 'value', p.value);
  }
}

/** The `derivation` constant: the lambda above with its body replaced by derivationBody. */
export function derivationLambda(state: EvalState, strictFn: StrictFn): Thunk {
  return new Thunk(() => {
    const src = new Source(DERIVATION_NIX_PATH, DERIVATION_NIX, false);
    const ast = parse(src, { basePath: '/' });
    const f = compileExpr(state, src, ast, state.baseScope)(state.baseEnv);
    if (!(f instanceof Lambda)) throw new Error('derivation wrapper is not a lambda');
    const p = new WrapperPositions(src);
    f.info.body = (env) => derivationBody(p, strictFn, env);
    return f;
  }, null);
}
