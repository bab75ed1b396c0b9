// Helpers for the binary cache and substitution tests: input-addressed paths with chosen contents
// and references, copies of Nix 2.8's cache vectors, and the published throw-away test key.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { hashBytes, printHash } from '../formats/hash.js';
import { type NarTree, narFromBytesTree } from '../formats/nar.js';
import { parseSecretKey } from '../formats/signing.js';
import { makeStorePath } from '../formats/store-path.js';
import type { Store, ValidPathInfo } from './store.js';
import { tempDir } from './test-util.js';

export const CACHE_VECTORS = '/work/shared/vectors/binary-cache-nix-2.8';
export const TEST_SECRET =
  'research-cache-1:U/SlXdOc4nBfIF0+6ko+sjsQTsYXsCNIfMyhy5+kMmcUk2MKUuNxXFecfyRf81DuGXI2r1/N36LPT7ExYfVigw==';
export const TEST_PUBLIC = 'research-cache-1:FJNjClLjcVxXnH8kX/NQ7hlyNq9fzd+iz0+xMWH1YoM=';
export const testKey = () => parseSecretKey(TEST_SECRET);

export const TOP_DEV = '/nix/store/420501dw8qf5s0sxmmkg6cs7awrbqsaw-top-dev';
export const TOP = '/nix/store/b519l05f2ax5jbbnllvl77z1br1pgkjm-top';
export const GREETING = '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt';
export const DEP = '/nix/store/z4asv3j07d89ywjf8fxkn7sg6mf5s9q5-dep';
export const TINYDIR = '/nix/store/vj560xbrqv9ps9b0ypgmsvjdmylg20y1-tinydir';

/** A writable copy of one vector cache folder ("xz", "none", "zstd", …). */
export function copyVectorCache(folder: string): string {
  const dir = join(tempDir('tix-cache-'), folder);
  cpSync(join(CACHE_VECTORS, folder), dir, { recursive: true });
  return dir;
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** Adds an input-addressed (so unsigned = untrusted) path with `tree` and `references`. */
export async function addIaPath(
  store: Store,
  name: string,
  tree: NarTree,
  references: string[] = [],
): Promise<ValidPathInfo> {
  const path = makeStorePath(
    'output:out',
    hashBytes('sha256', `${name}:${JSON.stringify(tree)}:${references}`),
    name,
    store.storeDir,
  );
  const nar = await narFromBytesTree(tree);
  const info: ValidPathInfo = {
    path,
    narHash: printHash(hashBytes('sha256', nar), 'base16', { prefix: true }),
    narSize: nar.length,
    references,
    registrationTime: 0,
    ultimate: true,
    sigs: [],
  };
  await store.addToStoreNar(info, once(nar));
  return info;
}
