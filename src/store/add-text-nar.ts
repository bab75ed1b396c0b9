// addTextToStore for the stores that receive every path as a NAR (memory, binary cache, a serve
// builder): the text's path is computed here, and the NAR of its one regular file is made and
// added only when the store lacks the path.
import { printContentAddress } from '../formats/content-address.js';
import { hashBytes, printHash } from '../formats/hash.js';
import { narFromBytesTree } from '../formats/nar.js';
import type { Store } from './store.js';
import { textStorePath } from './store-paths.js';

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
  const info = {
    path,
    narHash: printHash(hashBytes('sha256', nar), 'base16', { prefix: true }),
    narSize: nar.length,
    references,
    // Registration sets the time.
    registrationTime: 0,
    ultimate: false,
    sigs: [],
    ca: printContentAddress({ method: 'text', hash }),
  };
  await store.addToStoreNar(info, one(nar));
  return path;
}
