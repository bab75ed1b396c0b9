// Trust check for paths from elsewhere (Nix's checkSigs): a path is accepted when its content address
// reproduces it, or when one of its signatures verifies under a trusted public key.
import { FormatError } from '../formats/errors.js';
import { fingerprint } from '../formats/narinfo.js';
import { parsePublicKey, verifySignature } from '../formats/signing.js';
import { caReproducesPath, parseCa } from './ca-hash.js';
import { StoreError } from './errors.js';
import type { ValidPathInfo } from './store.js';
import { parseNarHash } from './store-paths.js';

export interface TrustSettings {
  storeDir: string;
  requireSigs: boolean;
  trustedPublicKeys: string[];
}

/** Whether `info` is trusted under `trust` (CA that reproduces the path, or a valid signature). */
export function isTrusted(info: ValidPathInfo, trust: TrustSettings): boolean {
  if (!trust.requireSigs) return true;
  if (info.ca) {
    try {
      if (caReproducesPath(info.path, parseCa(info.ca), info.references, trust.storeDir)) return true;
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
    }
  }
  if (info.sigs.length === 0 || trust.trustedPublicKeys.length === 0 || info.narSize === 0) return false;
  const keys = trust.trustedPublicKeys.map(parsePublicKey);
  const fp = fingerprint(info.path, parseNarHash(info.narHash, info.path), info.narSize, info.references);
  return info.sigs.some((s) => {
    try {
      return verifySignature(fp, s, keys);
    } catch (e) {
      if (e instanceof FormatError) return false;
      throw e;
    }
  });
}

export function checkSignatures(info: ValidPathInfo, trust: TrustSettings): void {
  if (!isTrusted(info, trust)) {
    throw new StoreError(
      'SIGNATURE',
      `cannot add path '${info.path}' because it lacks a signature by a trusted key`,
    );
  }
}
