import { join } from 'node:path';
import { runStoreConformance } from './conformance.js';
import { MemoryStore } from './memory.js';
import { openStore } from './open.js';
import type { Store } from './store.js';
import { makeLocalStore, removeDir, tempDir } from './test-util.js';

/** Removes the store's temporary directory when it is closed. */
function cleaningUp(store: Store, dir: string): Store {
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    removeDir(dir);
  };
  return store;
}

runStoreConformance('local', async () => {
  const { store, root } = makeLocalStore();
  return cleaningUp(store, join(root, '..'));
});
runStoreConformance('local via openStore', async () => {
  const dir = tempDir();
  return cleaningUp(await openStore(`local?root=${join(dir, 'root')}`), dir);
});
runStoreConformance('memory', async () => new MemoryStore());
