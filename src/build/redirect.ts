// Building a derivation outside the sandbox while some of its outputs are already valid (a
// `--check`, or more outputs of one partly built), as Nix 2.8 does it: the valid outputs are
// redirected to fallback paths, whose hash parts replace theirs in what the builder is given,
// and once it has run, every output tree gets the original hash parts back, so that it can be
// compared with the valid one or registered with the right references.
import { existsSync, renameSync } from 'node:fs';
import { parseNar } from '../formats/nar-parse.js';
import { makeStorePath } from '../formats/store-path.js';
import { removeTreeSync } from '../store/fs-util.js';
import { dumpPathSync } from '../store/nar-dump-disk.js';
import { diskNarSink } from '../store/nar-restore-disk.js';
import { rewriteStrings } from './env.js';

/** Nix 2.8's makeFallbackPath for a known output path: where it is built instead. */
export function fallbackOutputPath(drvPath: string, outPath: string, storeDir: string): string {
  const zero = { algo: 'sha256' as const, digest: new Uint8Array(32) };
  const base = (p: string) => p.slice(storeDir.length + 1);
  return makeStorePath(`rewrite:${base(drvPath)}:${base(outPath)}`, zero, base(outPath).slice(33), storeDir);
}

export interface Redirects {
  /** Output name -> the logical path it is built at instead of its own. */
  paths: Map<string, string>;
  /** Original hash part -> fallback hash part: applied to the builder's environment and arguments. */
  toFallback: Map<string, string>;
  /** The way back: applied to the built trees. */
  toOriginal: Map<string, string>;
}

export function redirectOutputs(
  drvPath: string,
  drv: { outputs: ReadonlyMap<string, { path: string }> },
  names: Iterable<string>,
  storeDir: string,
): Redirects {
  const r: Redirects = { paths: new Map(), toFallback: new Map(), toOriginal: new Map() };
  const hashPart = (p: string) => p.slice(storeDir.length + 1, storeDir.length + 33);
  for (const name of names) {
    const original = drv.outputs.get(name)!.path;
    const fallback = fallbackOutputPath(drvPath, original, storeDir);
    r.paths.set(name, fallback);
    r.toFallback.set(hashPart(original), hashPart(fallback));
    r.toOriginal.set(hashPart(fallback), hashPart(original));
  }
  return r;
}

/**
 * Rewrites a built tree in place (file contents, symlink targets, names), through its NAR: the
 * hash parts are all 32 characters, so the NAR's framing stays right.
 */
export async function rewriteTree(path: string, rewrites: ReadonlyMap<string, string>): Promise<void> {
  if (rewrites.size === 0 || !existsSync(path)) return;
  const before = Buffer.concat([...dumpPathSync(path)]).toString('latin1');
  const after = rewriteStrings(before, rewrites);
  if (after === before) return;
  const tmp = `${path}.rewrite`;
  removeTreeSync(tmp);
  const sink = diskNarSink(tmp);
  try {
    await parseNar([Buffer.from(after, 'latin1')], sink);
    sink.finish();
  } catch (e) {
    sink.abort();
    removeTreeSync(tmp);
    throw e;
  }
  removeTreeSync(path);
  renameSync(tmp, path);
}
