// The builder environment exactly as Nix 2.8's LocalDerivationGoal::initEnv / initTmpDir /
// writeStructuredAttrs set it up: what goes into the process environment, which files are written
// into the build directory, and which strings are rewritten (output placeholders -> output paths).
import { compareUtf8 } from '../formats/byte-order.js';
import { hashBytes } from '../formats/hash.js';
import { toNix32 } from '../formats/nix32.js';
import type { ValidPathInfo } from '../store/store.js';
import { BuildError } from './errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { getStringsAttr, type ParsedDerivation, tokenize } from './parsed-derivation.js';
import { structuredAttrsJson, structuredAttrsShell } from './structured-attrs.js';

export const HOMELESS_SHELTER = '/homeless-shelter';

/** What resolving exportReferencesGraph needs: the input closure and the store's records of it. */
export interface ReferencesGraphOptions {
  storeDir: string;
  /** The input closure (for exportReferencesGraph). */
  inputPaths: ReadonlySet<string>;
  /** Path info of a valid path (synchronous; for exportReferencesGraph). */
  pathInfo: (path: string) => ValidPathInfo;
  /** Output paths of a `.drv` in the store (for exportReferencesGraph of derivations). */
  derivationOutputs: (drvPath: string) => string[];
}

export interface BuilderEnvOptions extends ReferencesGraphOptions {
  /** The build directory as the builder sees it ("/build" in the sandbox). */
  buildDirInSandbox: string;
  /** NIX_BUILD_CORES (the `cores` setting; 0 means "all"). */
  buildCores: number;
  /** The caller's environment, read only for `impureEnvVars` of fixed-output derivations. */
  callerEnv: Readonly<Record<string, string | undefined>>;
  /**
   * Hash parts of outputs built at fallback paths (redirect.ts) -> the fallback's, applied after
   * the output placeholders, as Nix's inputRewrites.
   */
  redirects?: ReadonlyMap<string, string>;
}

export interface BuilderEnv {
  /** Sorted by name; values already rewritten. */
  env: Map<string, string>;
  /** Files to create in the build directory (name relative to it -> contents). */
  files: Map<string, string>;
  /** Builder arguments with output placeholders rewritten. */
  args: string[];
}

/** Nix's hashPlaceholder: "/" + nix32(sha256("nix-output:" + output)). */
export function hashPlaceholder(outputName: string): string {
  return `/${toNix32(hashBytes('sha256', `nix-output:${outputName}`).digest)}`;
}

/** The file name passAsFile uses for attribute `name`: ".attr-" + nix32(sha256(name)). */
export function passAsFileName(name: string): string {
  return `.attr-${toNix32(hashBytes('sha256', name).digest)}`;
}

export function makeBuilderEnv(p: ParsedDerivation, opts: BuilderEnvOptions): BuilderEnv {
  const { drv } = p;
  const rewrites = new Map<string, string>();
  for (const [name, out] of drv.outputs) rewrites.set(hashPlaceholder(name), out.path);
  for (const [from, to] of opts.redirects ?? []) rewrites.set(from, to);
  const rw = (s: string) => rewriteStrings(s, rewrites);

  const env = new Map<string, string>();
  const files = new Map<string, string>();
  env.set('PATH', '/path-not-set');
  env.set('HOME', HOMELESS_SHELTER);
  env.set('NIX_STORE', opts.storeDir);
  env.set('NIX_BUILD_CORES', String(opts.buildCores));

  if (!p.structuredAttrs) {
    const passAsFile = new Set(tokenize(drv.env.get('passAsFile') ?? ''));
    for (const [k, v] of drv.env) {
      if (!passAsFile.has(k)) {
        env.set(k, v);
      } else {
        const fn = passAsFileName(k);
        files.set(fn, rw(v));
        env.set(`${k}Path`, `${opts.buildDirInSandbox}/${fn}`);
      }
    }
  }
  const top = opts.buildDirInSandbox;
  for (const k of ['NIX_BUILD_TOP', 'TMPDIR', 'TEMPDIR', 'TMP', 'TEMP', 'PWD']) env.set(k, top);

  if (p.isFixedOutput) {
    env.set('NIX_OUTPUT_CHECKED', '1');
    for (const name of getStringsAttr(p, 'impureEnvVars') ?? []) env.set(name, opts.callerEnv[name] ?? '');
  }
  env.set('NIX_LOG_FD', '2');
  env.set('TERM', 'xterm-256color');

  if (p.structuredAttrs) {
    const json = prepareStructuredAttrs(p, p.structuredAttrs, opts);
    const outputs: JsonObject = Object.create(null);
    for (const name of drv.outputs.keys()) outputs[name] = rw(hashPlaceholder(name));
    json.outputs = outputs;
    // 2.8 points these at its host-side temp dir, which does not exist inside its own sandbox;
    // tix points them at the build directory as the builder sees it.
    files.set('.attrs.sh', rw(structuredAttrsShell(json)));
    env.set('NIX_ATTRS_SH_FILE', `${top}/.attrs.sh`);
    files.set('.attrs.json', rw(structuredAttrsJson(json)));
    env.set('NIX_ATTRS_JSON_FILE', `${top}/.attrs.json`);
  } else {
    for (const [fileName, text] of exportReferencesGraphFiles(p, opts)) files.set(fileName, text);
  }

  const sorted = new Map(
    [...env]
      .sort((a, b) => compareUtf8(a[0], b[0]))
      .map(([k, v]) => [k, rw(`${k}=${v}`).slice(k.length + 1)] as const),
  );
  return { env: sorted, files, args: drv.args.map(rw) };
}

/** Nix's rewriteStrings: each key replaced everywhere, keys applied one after another. */
export function rewriteStrings(s: string, rewrites: ReadonlyMap<string, string>): string {
  let out = s;
  for (const [from, to] of rewrites) if (from !== '' && out.includes(from)) out = out.replaceAll(from, to);
  return out;
}

/**
 * A structured-attrs derivation's attributes with each exportReferencesGraph entry replaced by the
 * path infos of its closure (2.8's prepareStructuredAttrs; `outputs` is left to the caller).
 */
export function prepareStructuredAttrs(
  p: ParsedDerivation,
  attrs: JsonObject,
  opts: ReferencesGraphOptions,
): JsonObject {
  const json: JsonObject = Object.assign(Object.create(null), attrs);
  const e = json.exportReferencesGraph;
  if (e !== undefined && isJsonObject(e)) {
    for (const [key, value] of Object.entries(e)) {
      const paths = (Array.isArray(value) ? value : [value]).map((v) => {
        if (typeof v !== 'string')
          throw new BuildError('BAD_DRV', `invalid exportReferencesGraph entry '${key}' in '${p.drvPath}'`);
        return toStorePath(v, opts.storeDir);
      });
      const closure = exportReferences(paths, opts);
      json[key] = closure.map((path) => pathInfoJson(path, opts));
    }
  }
  return json;
}

/** Nix's pathInfoToJSON(…, includeImpureInfo=false, showClosureSize=true) for one path. */
function pathInfoJson(path: string, opts: ReferencesGraphOptions): JsonValue {
  const info = opts.pathInfo(path);
  const o: JsonObject = Object.create(null);
  o.path = path;
  o.narHash = nix32NarHash(info.narHash);
  o.narSize = { int: BigInt(info.narSize) };
  o.references = [...info.references];
  if (info.ca) o.ca = info.ca;
  let closureSize = 0n;
  for (const q of closureOf([path], opts)) closureSize += BigInt(opts.pathInfo(q).narSize);
  o.closureSize = { int: closureSize };
  return o;
}

function nix32NarHash(dbHash: string): string {
  const hex = dbHash.replace(/^sha256:/, '');
  return `sha256:${toNix32(Buffer.from(hex, 'hex'))}`;
}

function exportReferencesGraphFiles(p: ParsedDerivation, opts: BuilderEnvOptions): Map<string, string> {
  const files = new Map<string, string>();
  const s = p.drv.env.get('exportReferencesGraph') ?? '';
  const ss = tokenize(s);
  if (ss.length % 2 !== 0)
    throw new BuildError('BAD_DRV', `odd number of tokens in 'exportReferencesGraph': '${s}'`);
  for (let i = 0; i < ss.length; i += 2) {
    const fileName = ss[i]!;
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(fileName)) {
      throw new BuildError('BAD_DRV', `invalid file name '${fileName}' in 'exportReferencesGraph'`);
    }
    const storePath = toStorePath(ss[i + 1]!, opts.storeDir);
    let text = '';
    for (const path of exportReferences([storePath], opts)) {
      const info = opts.pathInfo(path);
      text += `${path}\n\n${info.references.length}\n`;
      for (const r of info.references) text += `${r}\n`;
    }
    files.set(fileName, text);
  }
  return files;
}

function toStorePath(path: string, storeDir: string): string {
  const prefix = `${storeDir}/`;
  if (!path.startsWith(prefix) || path.length === prefix.length) {
    throw new BuildError('BAD_DRV', `'exportReferencesGraph' contains a non-store path '${path}'`);
  }
  const slash = path.indexOf('/', prefix.length);
  return slash < 0 ? path : path.slice(0, slash);
}

/** Nix's Store::exportReferences: closure of the paths, plus the closures of outputs of `.drv`s in it. */
function exportReferences(paths: string[], opts: ReferencesGraphOptions): string[] {
  for (const path of paths) {
    if (!opts.inputPaths.has(path)) {
      throw new BuildError(
        'BAD_DRV',
        `cannot export references of path '${path}' because it is not in the input closure of the derivation`,
      );
    }
  }
  const closure = closureOf(paths, opts);
  const extra: string[] = [];
  for (const q of closure) if (q.endsWith('.drv')) extra.push(...opts.derivationOutputs(q));
  for (const q of closureOf(extra, opts)) closure.add(q);
  return [...closure].sort(compareUtf8);
}

function closureOf(paths: string[], opts: ReferencesGraphOptions): Set<string> {
  const seen = new Set<string>();
  const todo = [...paths];
  while (todo.length > 0) {
    const q = todo.pop()!;
    if (seen.has(q)) continue;
    seen.add(q);
    for (const r of opts.pathInfo(q).references) if (!seen.has(r)) todo.push(r);
  }
  return seen;
}
