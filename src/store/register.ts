// Registering paths whose files are already in place: normalise and check the infos, read `.drv`
// files to check their output paths and fill DerivationOutputs, then one database transaction.
import { lstatSync } from 'node:fs';
import { sortedUniqueUtf8 } from '../formats/byte-order.js';
import { isDerivationPath } from '../formats/derivation.js';
import { checkDerivationOutputs, makeInputHasher } from '../formats/derivation-hash.js';
import { FormatError } from '../formats/errors.js';
import { StoreError } from './errors.js';
import type { LocalStore } from './local.js';
import type { ValidPathInfo } from './store.js';
import { assertStorePath, canonicalNarHash } from './store-paths.js';

/** The info as it will be stored: canonical narHash, sorted unique references, a registration time. */
export function normaliseInfo(info: ValidPathInfo, storeDir: string): ValidPathInfo {
  assertStorePath(info.path, storeDir);
  for (const r of info.references) assertStorePath(r, storeDir);
  if (info.deriver) assertStorePath(info.deriver, storeDir);
  if (!Number.isSafeInteger(info.narSize) || info.narSize < 0) {
    throw new StoreError('BAD_INFO', `invalid NAR size ${info.narSize} for path '${info.path}'`);
  }
  const out: ValidPathInfo = {
    path: info.path,
    narHash: canonicalNarHash(info.narHash, info.path),
    narSize: info.narSize,
    references: sortedUniqueUtf8(info.references),
    registrationTime: info.registrationTime || Math.floor(Date.now() / 1000),
    ultimate: info.ultimate ?? false,
    sigs: [...(info.sigs ?? [])],
  };
  if (info.deriver) out.deriver = info.deriver;
  if (info.ca) out.ca = info.ca;
  return out;
}

export function registerValidPaths(store: LocalStore, infos: ValidPathInfo[]): void {
  const norm = infos.map((i) => normaliseInfo(i, store.storeDir));
  const drvOutputs = new Map<string, Map<string, string>>();
  const inputHash = makeInputHasher((p) => store.readDerivation(p), { storeDir: store.storeDir });
  const memoHash = (p: string) => {
    let h = store.drvHashes.get(p);
    if (!h) {
      h = inputHash(p);
      store.drvHashes.set(p, h);
    }
    return h;
  };
  for (const i of norm) {
    try {
      lstatSync(store.toRealPath(i.path));
    } catch (e) {
      throw new StoreError('BAD_INFO', `cannot register path '${i.path}': it is not present in the store`, {
        cause: e,
      });
    }
    if (!isDerivationPath(i.path)) continue;
    try {
      const drv = store.readDerivation(i.path);
      checkDerivationOutputs(drv, { inputHash: memoHash, storeDir: store.storeDir, drvPath: i.path });
      const outs = new Map<string, string>();
      for (const [name, o] of drv.outputs) if (o.path) outs.set(name, o.path);
      drvOutputs.set(i.path, outs);
    } catch (e) {
      if (e instanceof FormatError) {
        throw new StoreError('BAD_INFO', `cannot register derivation '${i.path}': ${e.message}`, {
          cause: e,
        });
      }
      throw e;
    }
  }
  store.db.registerValidPaths(norm, drvOutputs);
}
