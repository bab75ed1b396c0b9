// Attribute access that works for both plain and structured-attrs derivations (Nix's
// ParsedDerivation): plain attrs are env strings, structured ones come from the `__json` env entry.
import type { BasicDerivation } from '../formats/derivation.js';
import { BuildError } from './errors.js';
import { isJsonObject, type JsonObject, parseJson } from './json.js';

export interface ParsedDerivation {
  drvPath: string;
  drv: BasicDerivation;
  /** The parsed `__json`, or undefined for a plain derivation. */
  structuredAttrs: JsonObject | undefined;
  /** Exactly one output `out` with a fixed content address. */
  isFixedOutput: boolean;
}

export function parseDerivationAttrs(drvPath: string, drv: BasicDerivation): ParsedDerivation {
  const raw = drv.env.get('__json');
  let structuredAttrs: JsonObject | undefined;
  if (raw !== undefined) {
    const v = parseJson(raw, `the '__json' attribute of '${drvPath}'`);
    if (!isJsonObject(v))
      throw new BuildError('BAD_DRV', `cannot process __json attribute of '${drvPath}': not an object`);
    structuredAttrs = v;
  }
  const out = drv.outputs.get('out');
  const isFixedOutput =
    drv.outputs.size === 1 && out !== undefined && out.hash !== '' && out.hash !== 'impure';
  return { drvPath, drv, structuredAttrs, isFixedOutput };
}

export function getStringAttr(p: ParsedDerivation, name: string): string | undefined {
  if (p.structuredAttrs) {
    const v = p.structuredAttrs[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw attrError(p, name, 'a string');
    return v;
  }
  return p.drv.env.get(name);
}

export function getBoolAttr(p: ParsedDerivation, name: string, def = false): boolean {
  if (p.structuredAttrs) {
    const v = p.structuredAttrs[name];
    if (v === undefined) return def;
    if (typeof v !== 'boolean') throw attrError(p, name, 'a Boolean');
    return v;
  }
  const v = p.drv.env.get(name);
  return v === undefined ? def : v === '1';
}

export function getStringsAttr(p: ParsedDerivation, name: string): string[] | undefined {
  if (p.structuredAttrs) {
    const v = p.structuredAttrs[name];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      throw attrError(p, name, 'a list of strings');
    return v as string[];
  }
  const v = p.drv.env.get(name);
  return v === undefined ? undefined : tokenize(v);
}

/** Nix's tokenizeString with the default separators " \t\n\r". */
export function tokenize(s: string): string[] {
  return s.split(/[ \t\n\r]+/).filter((t) => t !== '');
}

function attrError(p: ParsedDerivation, name: string, what: string): BuildError {
  return new BuildError('BAD_DRV', `attribute '${name}' of derivation '${p.drvPath}' must be ${what}`);
}
