// import() for the bundle: dist/bin/import-module.cjs is built from this file in place of
// src/eval/import-module.ts (see scripts/bundle.mjs). The store-backed EvalIO, which
// src/glue/instantiate.ts names by its URL beside the bundle (dist/bin/store-io.js), is taken
// straight from the instance of the bundle loaded in this thread: that is the module the file
// there hands out too, without starting Node's ES module loader for it.
import type { BundleExports } from './bundle-start.js';

const glue = new Map<string, 'storeIO' | 'storeIORemote'>([
  [new URL('./store-io.js', import.meta.url).href, 'storeIO'],
  [new URL('./store-io-remote.js', import.meta.url).href, 'storeIORemote'],
]);

export function importModule(specifier: string): Promise<unknown> {
  const bundle = (globalThis as Record<symbol, BundleExports | undefined>)[Symbol.for('tix.bundle')];
  const name = glue.get(specifier);
  if (name !== undefined && bundle) return bundle[name]();
  return import(specifier);
}
