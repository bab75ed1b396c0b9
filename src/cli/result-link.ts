// A GC root link to a store path, as Nix's LocalFSStore::addPermRoot makes one: nix-build's result
// links and nix-store --realise --add-root.
import { makeRootLink } from '../store/roots.js';
import type { Store } from '../store/store.js';

/** A local store (addPermRoot), or a daemon store on a socket of this machine (addIndirectRoot). */
type RootLinkStore = Store & {
  addPermRoot?: (p: string, l: string) => Promise<string>;
  addIndirectRoot?: (l: string) => Promise<void>;
  socket?: string;
};

/**
 * nix-build's result link for `outPath`, registered as a GC root: a local store makes both; with a
 * daemon on this machine the link (to the store path) is made here and the daemon registers it
 * (AddIndirectRoot), as Nix's LocalFSStore::addPermRoot does. A store elsewhere (ssh-ng://) gets
 * no link, as with nix-build, whose outputs are then only printed.
 */
export async function addResultLink(store: Store, outPath: string, link: string): Promise<void> {
  const s = store as RootLinkStore;
  if (s.addPermRoot) {
    await s.addPermRoot(outPath, link);
    return;
  }
  if (!takesRootLinks(store)) return;
  // The daemon's store is this machine's: the link names the store path itself.
  await s.addIndirectRoot!(
    makeRootLink({ storeDir: store.storeDir, realStoreDir: store.storeDir }, outPath, link),
  );
}

/** Whether `store` can take GC root links made here (a local store, or a daemon on this machine). */
export function takesRootLinks(store: Store): boolean {
  const s = store as RootLinkStore;
  return (
    typeof s.addPermRoot === 'function' || (typeof s.addIndirectRoot === 'function' && s.socket !== undefined)
  );
}
