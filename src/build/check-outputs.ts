// Output checks of Nix 2.8 (checkOutputs): allowed/disallowed references and requisites, and for
// structured attrs `outputChecks.<output>` with maxSize / maxClosureSize as well.
import { compareUtf8 } from '../formats/byte-order.js';
import type { ValidPathInfo } from '../store/store.js';
import { BuildError } from './errors.js';
import { isJsonInt, isJsonObject, type JsonValue } from './json.js';
import { getStringsAttr, type ParsedDerivation } from './parsed-derivation.js';

interface Checks {
  ignoreSelfRefs: boolean;
  maxSize?: bigint;
  maxClosureSize?: bigint;
  allowedReferences?: string[];
  allowedRequisites?: string[];
  disallowedReferences?: string[];
  disallowedRequisites?: string[];
}

export function checkOutputs(
  p: ParsedDerivation,
  outputs: Map<string, ValidPathInfo>,
  opts: { storeDir: string; pathInfo: (path: string) => ValidPathInfo },
): void {
  const byPath = new Map([...outputs.values()].map((i) => [i.path, i]));
  const closure = (path: string): { paths: Set<string>; size: bigint } => {
    const paths = new Set<string>();
    let size = 0n;
    const todo = [path];
    while (todo.length > 0) {
      const q = todo.shift()!;
      if (paths.has(q)) continue;
      paths.add(q);
      const info = byPath.get(q) ?? opts.pathInfo(q);
      size += BigInt(info.narSize);
      todo.push(...info.references);
    }
    return { paths, size };
  };

  for (const [outputName, info] of outputs) {
    const checks = checksFor(p, outputName);
    if (!checks) continue;
    if (checks.maxSize !== undefined && BigInt(info.narSize) > checks.maxSize) {
      throw rejected(
        `path '${info.path}' is too large at ${info.narSize} bytes; limit is ${checks.maxSize} bytes`,
      );
    }
    if (checks.maxClosureSize !== undefined) {
      const size = closure(info.path).size;
      if (size > checks.maxClosureSize) {
        throw rejected(
          `closure of path '${info.path}' is too large at ${size} bytes; limit is ${checks.maxClosureSize} bytes`,
        );
      }
    }
    const checkRefs = (value: string[] | undefined, allowed: boolean, recursive: boolean) => {
      if (!value) return;
      const spec = new Set<string>();
      for (const s of value) {
        if (isStorePath(s, opts.storeDir)) spec.add(s);
        else if (outputs.has(s)) spec.add(outputs.get(s)!.path);
        else throw rejected(`derivation contains an illegal reference specifier '${s}'`);
      }
      const used = recursive ? closure(info.path).paths : new Set(info.references);
      if (recursive && checks.ignoreSelfRefs) used.delete(info.path);
      const bad = [...used].filter((u) => spec.has(u) !== allowed).sort(compareUtf8);
      if (bad.length > 0) {
        throw rejected(
          `output '${info.path}' is not allowed to refer to the following paths:${bad.map((b) => `\n  ${b}`).join('')}`,
        );
      }
    };
    checkRefs(checks.allowedReferences, true, false);
    checkRefs(checks.allowedRequisites, true, true);
    checkRefs(checks.disallowedReferences, false, false);
    checkRefs(checks.disallowedRequisites, false, true);
  }
}

function checksFor(p: ParsedDerivation, outputName: string): Checks | undefined {
  if (!p.structuredAttrs) {
    return {
      ignoreSelfRefs: true,
      allowedReferences: getStringsAttr(p, 'allowedReferences'),
      allowedRequisites: getStringsAttr(p, 'allowedRequisites'),
      disallowedReferences: getStringsAttr(p, 'disallowedReferences'),
      disallowedRequisites: getStringsAttr(p, 'disallowedRequisites'),
    };
  }
  const all = p.structuredAttrs.outputChecks;
  if (all === undefined || !isJsonObject(all)) return undefined;
  const o = all[outputName];
  if (o === undefined || !isJsonObject(o)) return undefined;
  const list = (name: string): string[] | undefined => {
    const v = o[name];
    if (v === undefined) return undefined;
    const items: JsonValue[] = Array.isArray(v) ? v : [v];
    if (items.some((x) => typeof x !== 'string')) {
      throw new BuildError(
        'BAD_DRV',
        `attribute '${name}' of derivation '${p.drvPath}' must be a list of strings`,
      );
    }
    return items as string[];
  };
  const size = (name: string): bigint | undefined => {
    const v = o[name];
    if (v === undefined) return undefined;
    if (isJsonInt(v)) return v.int;
    if (typeof v === 'number') return BigInt(Math.trunc(v));
    throw new BuildError('BAD_DRV', `attribute '${name}' of derivation '${p.drvPath}' must be an integer`);
  };
  return {
    ignoreSelfRefs: false,
    maxSize: size('maxSize'),
    maxClosureSize: size('maxClosureSize'),
    allowedReferences: list('allowedReferences'),
    allowedRequisites: list('allowedRequisites'),
    disallowedReferences: list('disallowedReferences'),
    disallowedRequisites: list('disallowedRequisites'),
  };
}

function isStorePath(s: string, storeDir: string): boolean {
  return (
    s.startsWith(`${storeDir}/`) &&
    !s.slice(storeDir.length + 1).includes('/') &&
    s.length > storeDir.length + 34
  );
}

function rejected(msg: string): BuildError {
  return new BuildError('OUTPUT_REJECTED', msg);
}
