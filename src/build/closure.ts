// Closures over the references recorded in the store, and the input closure of a derivation.
import { compareUtf8 } from '../formats/byte-order.js';
import type { BasicDerivation, Derivation } from '../formats/derivation.js';
import { BuildError } from './errors.js';
import type { LocalBuildStore } from './local-store-view.js';

/** All paths reachable from `paths` through references (including `paths`), sorted. */
export function computeClosure(store: LocalBuildStore, paths: Iterable<string>): string[] {
  const seen = new Set<string>();
  const todo = [...paths];
  while (todo.length > 0) {
    const q = todo.pop()!;
    if (seen.has(q)) continue;
    const info = store.queryPathInfoSync(q);
    if (!info) throw new BuildError('MISSING_INPUT', `path '${q}' is not valid`);
    seen.add(q);
    for (const r of info.references) if (!seen.has(r)) todo.push(r);
  }
  return [...seen].sort(compareUtf8);
}

/**
 * The paths a derivation's builder may see: inputSrcs plus the used outputs of input derivations,
 * closed under references. Every one of them must be valid.
 */
export async function inputClosure(
  store: LocalBuildStore,
  drvPath: string,
  drv: BasicDerivation | Derivation,
): Promise<string[]> {
  const roots = [...drv.inputSrcs];
  if ('inputDrvs' in drv) {
    for (const [inDrv, names] of drv.inputDrvs) {
      const outputs = await store.queryDerivationOutputMap(inDrv);
      for (const name of names) {
        const path = outputs.get(name);
        if (path === undefined) {
          throw new BuildError(
            'MISSING_INPUT',
            `derivation '${inDrv}' has no output '${name}' (needed by '${drvPath}')`,
          );
        }
        roots.push(path);
      }
    }
  }
  const missing = roots.filter((r) => !store.isValidPathSync(r));
  if (missing.length > 0) {
    throw new BuildError(
      'MISSING_INPUT',
      `some dependencies of '${drvPath}' are missing:${missing.map((m) => `\n  ${m}`).join('')}`,
    );
  }
  return computeClosure(store, roots);
}
