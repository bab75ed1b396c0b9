import { compareUtf8, sortedUniqueUtf8 } from './byte-order.js';
import {
  type Derivation,
  type DerivationOutput,
  derivationName,
  parseDerivation,
  printDerivation,
} from './derivation.js';
import { fixedOutputContentAddress, fixedOutputPath, outputKind } from './derivation-hash.js';
import { FormatError } from './errors.js';
import { printHash } from './hash.js';

/** One output as Nix 2.8 `nix show-derivation` shows it. */
export interface DerivationOutputJson {
  path?: string;
  hashAlgo?: string;
  hash?: string;
  impure?: boolean;
}

/** The object under the `.drv` path key in `nix show-derivation` output (Nix 2.8). */
export interface DerivationJson {
  outputs: Record<string, DerivationOutputJson>;
  inputSrcs: string[];
  inputDrvs: Record<string, string[]>;
  system: string;
  builder: string;
  args: string[];
  env: Record<string, string>;
}

function outputJson(
  drv: Derivation,
  name: string,
  o: DerivationOutput,
  storeDir: string,
): DerivationOutputJson {
  switch (outputKind(o)) {
    case 'inputAddressed':
      return { path: o.path };
    case 'fixed':
      return {
        path: fixedOutputPath(drv, name, storeDir),
        hashAlgo: o.hashAlgo,
        hash: printHash(fixedOutputContentAddress(o).hash, 'base16'),
      };
    case 'floating':
      return { hashAlgo: o.hashAlgo };
    case 'impure':
      return { hashAlgo: o.hashAlgo, impure: true };
    case 'deferred':
      return {};
  }
}

function sortedEntries<V>(m: Map<string, V>): [string, V][] {
  return [...m].sort((a, b) => compareUtf8(a[0], b[0]));
}

/** The inner object for one derivation, keys in Nix's order (maps sorted byte-wise). */
export function derivationToJsonInner(drvPath: string, drv: Derivation): DerivationJson {
  const storeDir = drvPath.slice(0, drvPath.lastIndexOf('/'));
  const outputs: Record<string, DerivationOutputJson> = {};
  for (const [name, o] of sortedEntries(drv.outputs)) outputs[name] = outputJson(drv, name, o, storeDir);
  const inputDrvs: Record<string, string[]> = {};
  for (const [p, outs] of sortedEntries(drv.inputDrvs)) inputDrvs[p] = sortedUniqueUtf8(outs);
  const env: Record<string, string> = {};
  for (const [k, v] of sortedEntries(drv.env)) env[k] = v;
  return {
    outputs,
    inputSrcs: sortedUniqueUtf8(drv.inputSrcs),
    inputDrvs,
    system: drv.system,
    builder: drv.builder,
    args: [...drv.args],
    env,
  };
}

/** `nix show-derivation <drvPath>` (Nix 2.8) as a value: `{ "<drvPath>": { outputs, … } }`. */
export function derivationToJson(drvPath: string, drv: Derivation): Record<string, DerivationJson> {
  return { [drvPath]: derivationToJsonInner(drvPath, drv) };
}

/** Nix 2.8's JSON string escaping (json.cc): only `"` `\` and bytes < 0x20 are escaped. */
export function jsonString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 34 && c !== 92) continue;
    out += s.slice(start, i);
    start = i + 1;
    if (c === 34) out += '\\"';
    else if (c === 92) out += '\\\\';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return `${out + s.slice(start)}"`;
}

/** Nix 2.8's JSONWriter with indent: 2 spaces, `"key": value`, empty containers as `{}` / `[]`. */
function writeJson(v: unknown, depth: number, out: string[]): void {
  const pad = (d: number): string => `\n${'  '.repeat(d)}`;
  if (typeof v === 'string') out.push(jsonString(v));
  else if (typeof v === 'boolean' || typeof v === 'number') out.push(String(v));
  else if (Array.isArray(v)) {
    if (v.length === 0) return void out.push('[]');
    out.push('[');
    v.forEach((x, i) => {
      out.push(i === 0 ? pad(depth + 1) : `,${pad(depth + 1)}`);
      writeJson(x, depth + 1, out);
    });
    out.push(`${pad(depth)}]`);
  } else {
    const entries = v instanceof Map ? [...v] : Object.entries(v as object);
    if (entries.length === 0) return void out.push('{}');
    out.push('{');
    entries.forEach(([k, x], i) => {
      out.push(i === 0 ? pad(depth + 1) : `,${pad(depth + 1)}`, jsonString(k), ': ');
      writeJson(x, depth + 1, out);
    });
    out.push(`${pad(depth)}}`);
  }
}

function innerAsMaps(drvPath: string, drv: Derivation): Map<string, unknown> {
  // Maps keep the byte-wise order even for integer-like keys, which plain objects would reorder.
  const storeDir = drvPath.slice(0, drvPath.lastIndexOf('/'));
  const outputs = new Map<string, unknown>();
  for (const [name, o] of sortedEntries(drv.outputs)) outputs.set(name, outputJson(drv, name, o, storeDir));
  const inputDrvs = new Map<string, string[]>();
  for (const [p, outs] of sortedEntries(drv.inputDrvs)) inputDrvs.set(p, sortedUniqueUtf8(outs));
  return new Map<string, unknown>([
    ['outputs', outputs],
    ['inputSrcs', sortedUniqueUtf8(drv.inputSrcs)],
    ['inputDrvs', inputDrvs],
    ['system', drv.system],
    ['builder', drv.builder],
    ['args', drv.args],
    ['env', new Map(sortedEntries(drv.env))],
  ]);
}

/**
 * The exact bytes `nix show-derivation` (2.8) prints for these derivations, including the final
 * newline; entries are ordered by store path as Nix orders its path sets.
 */
export function printDerivationsJson(entries: Iterable<[drvPath: string, drv: Derivation]>): string {
  const sorted = [...entries].sort((a, b) =>
    compareUtf8(a[0].slice(a[0].lastIndexOf('/') + 1), b[0].slice(b[0].lastIndexOf('/') + 1)),
  );
  const top = new Map(sorted.map(([p, d]) => [p, innerAsMaps(p, d)]));
  const out: string[] = [];
  writeJson(top, 0, out);
  out.push('\n');
  return out.join('');
}

function fail(detail: string): never {
  throw new FormatError('BAD_DRV_JSON', `cannot read derivation JSON: ${detail}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') fail(`${what} must be a string`);
  return v;
}

function strArray(v: unknown, what: string): string[] {
  if (!Array.isArray(v)) fail(`${what} must be an array of strings`);
  return v.map((x, i) => str(x, `${what}[${i}]`));
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (!isObject(v)) fail(`${what} must be an object`);
  return v;
}

/**
 * Reads Nix 2.8 `nix show-derivation` JSON: either the whole `{ "<drvPath>": {…} }` document with
 * one entry, or the inner object (then `opts.name` or `opts.drvPath` supplies the name).
 */
export function derivationFromJson(
  json: unknown,
  opts: { name?: string; drvPath?: string } = {},
): Derivation {
  let inner = obj(json, 'the document');
  let drvPath = opts.drvPath;
  if (!('outputs' in inner)) {
    const keys = Object.keys(inner);
    if (keys.length !== 1) fail(`expected one derivation, found ${keys.length}`);
    drvPath = keys[0]!;
    inner = obj(inner[drvPath], `'${drvPath}'`);
  }
  let name = opts.name;
  if (name === undefined) {
    if (drvPath === undefined) fail('the derivation name is unknown (no .drv path and no name given)');
    name = derivationName(drvPath);
  }
  const outputs = new Map<string, DerivationOutput>();
  for (const [o, v] of Object.entries(obj(inner.outputs, 'outputs'))) {
    const ov = obj(v, `outputs.${o}`);
    const impure = ov.impure === true;
    outputs.set(o, {
      path: ov.path === undefined ? '' : str(ov.path, `outputs.${o}.path`),
      hashAlgo: ov.hashAlgo === undefined ? '' : str(ov.hashAlgo, `outputs.${o}.hashAlgo`),
      hash: impure ? 'impure' : ov.hash === undefined ? '' : str(ov.hash, `outputs.${o}.hash`),
    });
  }
  const inputDrvs = new Map<string, string[]>();
  for (const [p, v] of Object.entries(obj(inner.inputDrvs, 'inputDrvs'))) {
    inputDrvs.set(p, sortedUniqueUtf8(strArray(v, `inputDrvs.${p}`)));
  }
  const env = new Map<string, string>();
  for (const [k, v] of Object.entries(obj(inner.env, 'env'))) env.set(k, str(v, `env.${k}`));
  const drv: Derivation = {
    name,
    outputs,
    inputDrvs,
    inputSrcs: sortedUniqueUtf8(strArray(inner.inputSrcs, 'inputSrcs')),
    system: str(inner.system, 'system'),
    builder: str(inner.builder, 'builder'),
    args: strArray(inner.args, 'args'),
    env,
  };
  // The ATerm parser holds every rule (paths, output tuples, hash algorithms): apply it.
  try {
    parseDerivation(printDerivation(drv), { name });
  } catch (e) {
    if (e instanceof FormatError) fail(e.message.replace(/^cannot parse derivation '[^']*': /, ''));
    throw e;
  }
  return drv;
}
