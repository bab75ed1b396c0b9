// addTextToStore for the stores that receive every path as a NAR (memory, binary cache, a serve
// builder): the text's path is computed here, and the NAR of its one regular file is made and
// added only when the store lacks the path.
import { hashBytes } from '../formats/hash.js';
import { narFromBytesTree } from '../formats/nar.js';
import type { Store } from './store.js';
import { contentAddressedInfo, textStorePath } from './store-paths.js';

async function* one(chunk: Uint8Array): AsyncGenerator<Uint8Array> {
  yield chunk;
}

export async function addTextAsNar(
  store: Pick<Store, 'storeDir' | 'isValidPath' | 'addToStoreNar'>,
  name: string,
  text: Uint8Array | string,
  references: string[],
): Promise<string> {
  const { path, bytes, hash } = textStorePath(name, text, references, store.storeDir);
  if (await store.isValidPath(path)) return path;
  const nar = await narFromBytesTree({ type: 'regular', contents: bytes });
  const narHash = hashBytes('sha256', nar);
  const info = contentAddressedInfo(path, { hash: narHash, size: nar.length }, references, {
    method: 'text',
    hash,
  });
  await store.addToStoreNar(info, one(nar));
  return path;
}
