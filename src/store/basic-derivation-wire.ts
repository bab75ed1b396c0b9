// BasicDerivation on the wire: the same encoding in the serve protocol's and the worker protocol's
// BuildDerivation — outputs sorted by name (path, hashAlgo, hash), input sources as a set, platform,
// builder, args, then the environment sorted by key. The name is not sent: it comes from the
// `.drv` path, as in Nix.
import { compareUtf8, sortedUniqueUtf8 } from '../formats/byte-order.js';
import type { BasicDerivation, DerivationOutput } from '../formats/derivation.js';
import { derivationName } from '../formats/derivation.js';
import type { WireReader, WireWriter } from '../formats/wire.js';
import { assertStorePath } from './store-paths.js';

export function writeBasicDerivation(out: WireWriter, drv: BasicDerivation): void {
  const outputs = [...drv.outputs].sort(([a], [b]) => compareUtf8(a, b));
  out.u64(outputs.length);
  for (const [name, o] of outputs) out.string(name).string(o.path).string(o.hashAlgo).string(o.hash);
  out.stringSet(drv.inputSrcs);
  out.string(drv.system).string(drv.builder).strings(drv.args);
  out.stringMap(drv.env);
}

/** Reads a BasicDerivation; with `storeDir`, every input source must be a store path there. */
export async function readBasicDerivation(
  inp: WireReader,
  drvPath: string,
  opts: { storeDir?: string } = {},
): Promise<BasicDerivation> {
  const n = await inp.u64();
  const outputs = new Map<string, DerivationOutput>();
  for (let i = 0; i < n; i++) {
    const name = await inp.string();
    outputs.set(name, { path: await inp.string(), hashAlgo: await inp.string(), hash: await inp.string() });
  }
  const srcs = await inp.strings();
  if (opts.storeDir !== undefined) for (const p of srcs) assertStorePath(p, opts.storeDir);
  const inputSrcs = sortedUniqueUtf8(srcs);
  const system = await inp.string();
  const builder = await inp.string();
  const args = await inp.strings();
  const env = await inp.stringMap();
  return { name: derivationName(drvPath), outputs, inputSrcs, system, builder, args, env };
}
