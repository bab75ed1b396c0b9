// `--repair` for builds (nix-build --repair, nix-store -r --repair): every valid path a request
// depends on — the wanted outputs and their runtime closure, the derivations and their inputs —
// has its contents checked against its recorded NAR hash, as Nix's pathContentsGood does. A
// damaged path that a derivation here produced is repaired by building that derivation again
// (build-one.ts replaces only its damaged outputs); any other (a source, a .drv, a path copied in)
// is repaired from a good copy elsewhere, a substituter, or the request fails.
import { isDerivationPath } from '../formats/derivation.js';
import type { DerivedPath } from '../store/store.js';
import { contentsGood } from './build-one.js';
import { BuildError } from './errors.js';
import type { LocalBuildStore } from './local-store-view.js';
import { expandOutputs } from './plan.js';

export interface RepairScan {
  /** Derivations to build again: each produced a damaged path. */
  derivations: Set<string>;
  /** Damaged paths with no derivation here to build them from. */
  opaque: string[];
  /** Whether each path the walk hashed was good, so that no build hashes it again. */
  checked: ReadonlyMap<string, boolean>;
}

/** Finds the damaged paths among everything `paths` needs, in a closure walk. */
export function scanForRepair(store: LocalBuildStore, paths: DerivedPath[]): RepairScan {
  const seen = new Set<string>();
  const todo: string[] = [];
  const push = (p: string) => {
    if (seen.has(p) || !store.isValidPathSync(p)) return;
    seen.add(p);
    todo.push(p);
  };
  const pushOutputs = (drvPath: string, names: string[]) => {
    if (!store.isValidPathSync(drvPath)) return;
    const drv = store.readDerivation(drvPath);
    for (const n of expandOutputs(names, drv)) {
      const out = drv.outputs.get(n)?.path;
      if (out) push(out);
    }
  };
  for (const p of paths) {
    if (p.kind === 'opaque') push(p.path);
    else {
      push(p.drvPath);
      pushOutputs(p.drvPath, p.outputs);
    }
  }
  // Each path is hashed once: a deriver is also met in the walk when it is in the closure.
  const checked = new Map<string, boolean>();
  const good = (p: string): boolean => {
    let ok = checked.get(p);
    if (ok === undefined) {
      ok = contentsGood(store, p);
      checked.set(p, ok);
    }
    return ok;
  };
  const scan: RepairScan = { derivations: new Set(), opaque: [], checked };
  while (todo.length > 0) {
    const p = todo.pop()!;
    const info = store.queryPathInfoSync(p)!;
    if (!good(p)) {
      const deriver = info.deriver;
      if (deriver && store.isValidPathSync(deriver) && good(deriver)) scan.derivations.add(deriver);
      else scan.opaque.push(p);
      // A damaged .drv is not read; its inputs are checked once it has been repaired.
      if (isDerivationPath(p)) continue;
    }
    for (const r of info.references) push(r);
    if (isDerivationPath(p)) {
      for (const [inDrv, names] of store.readDerivation(p).inputDrvs) pushOutputs(inDrv, names);
    }
  }
  scan.opaque.sort();
  return scan;
}

/** Makes a damaged path good again from elsewhere (a substituter); false when nothing has it. */
export type RepairOpaque = (path: string) => Promise<boolean>;

/** Repairs the damaged paths that no derivation here produced, or fails as Nix 2.8 does. */
export async function repairOpaquePaths(paths: string[], repair: RepairOpaque | undefined): Promise<void> {
  for (const p of paths) {
    if (!repair || !(await repair(p)))
      throw new BuildError('MISSING_INPUT', `cannot repair path '${p}'`, { exitCode: 1 });
  }
}
