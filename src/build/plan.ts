// Which derivations of a request must be built, working top-down as Nix's goals do: a derivation
// whose wanted outputs are valid is done; otherwise its missing outputs are first offered to the
// substitution hook (unless the derivation sets `allowSubstitutes = false`), and only when that
// does not make them valid is it built — and only then are its input derivations looked at. So a
// derivation whose outputs come from a cache needs none of its inputs. Each level of the graph is
// one hook call, so that downloads of sibling derivations run together.
import type { Derivation } from '../formats/derivation.js';
import { BuildError } from './errors.js';
import type { LocalBuildStore } from './local-store-view.js';
import { getBoolAttr, parseDerivationAttrs } from './parsed-derivation.js';

/** What a substitution attempt achieved (src/store/substitute.ts's result fits). */
export interface SubstituteOutcome {
  /** Paths that are now valid because they were fetched. */
  substituted: string[];
  /**
   * Paths a substituter offered but could not deliver (hash mismatch, I/O): the reason. Paths no
   * substituter has are simply not mentioned; they are built.
   */
  failed?: ReadonlyMap<string, Error>;
}

/** Makes store paths valid from binary caches; provided by the caller (the `substituters`). */
export type SubstituteHook = (paths: string[]) => Promise<SubstituteOutcome>;

export interface PlanNode {
  drv: Derivation;
  wanted: Set<string>;
  outputs: Map<string, string>;
}

export interface Plan {
  nodes: Map<string, PlanNode>;
  /** Dependency edges of the DAG (only derivations to build have any). */
  deps: Map<string, string[]>;
  toBuild: Set<string>;
  /** Derivations whose wanted outputs were substituted. */
  substituted: Set<string>;
  /** Derivations whose substitution failed (without `fallback`): why. */
  substituteFailed: Map<string, string>;
  top: string[];
}

export interface PlanOptions {
  /**
   * Built again although their outputs are valid: `--check`'s derivations, and with `--repair`
   * those that produced a damaged path.
   */
  check?: ReadonlySet<string>;
  substitute?: SubstituteHook;
  /** `fallback`: build a derivation whose outputs failed to substitute (default: fail it). */
  fallback?: boolean;
}

export function expandOutputs(names: string[], drv: Derivation): string[] {
  return names.includes('*') ? [...drv.outputs.keys()] : names;
}

/** `allowSubstitutes` of a derivation (plain or structured attrs), true unless set false. */
export function substitutesAllowed(drvPath: string, drv: Derivation): boolean {
  try {
    return getBoolAttr(parseDerivationAttrs(drvPath, drv), 'allowSubstitutes', true);
  } catch {
    // A malformed attribute is reported when the derivation is built.
    return true;
  }
}

/** Plans the builds of `tops` (drvPath and wanted output names; '*' = all). */
export async function planBuilds(
  store: LocalBuildStore,
  tops: { drvPath: string; outputs: string[] }[],
  opts: PlanOptions = {},
): Promise<Plan> {
  const nodes = new Map<string, PlanNode>();
  let queue: string[] = [];
  const want = (drvPath: string, names: string[]) => {
    let node = nodes.get(drvPath);
    if (!node) {
      if (!store.isValidPathSync(drvPath)) {
        throw new BuildError('MISSING_INPUT', `cannot build missing derivation '${drvPath}'`, {
          exitCode: 1,
        });
      }
      const drv = store.readDerivation(drvPath);
      const outputs = new Map([...drv.outputs].map(([n, o]) => [n, o.path]));
      node = { drv, wanted: new Set(), outputs };
      nodes.set(drvPath, node);
    }
    let grew = false;
    for (const n of expandOutputs(names, node.drv)) {
      if (!node.drv.outputs.has(n)) {
        throw new BuildError('BAD_DRV', `derivation '${drvPath}' does not have wanted outputs '${n}'`, {
          exitCode: 1,
        });
      }
      if (!node.wanted.has(n)) {
        node.wanted.add(n);
        grew = true;
      }
    }
    if (grew) queue.push(drvPath);
  };
  for (const t of tops) want(t.drvPath, t.outputs.length > 0 ? t.outputs : ['*']);

  const missingOutputs = (node: PlanNode) =>
    [...node.wanted].map((n) => node.outputs.get(n)!).filter((q) => q === '' || !store.isValidPathSync(q));
  const toBuild = new Set<string>();
  const substituted = new Set<string>();
  const substituteFailed = new Map<string, string>();
  while (queue.length > 0) {
    const level = [...new Set(queue)].filter((d) => !toBuild.has(d) && !substituteFailed.has(d));
    queue = [];
    const rebuild = (d: string) => opts.check?.has(d) === true;
    const needy = level.filter((d) => rebuild(d) || missingOutputs(nodes.get(d)!).length > 0);
    let failed: ReadonlyMap<string, Error> = new Map();
    if (opts.substitute) {
      const fetch = needy
        .filter((d) => !rebuild(d) && substitutesAllowed(d, nodes.get(d)!.drv))
        .flatMap((d) => missingOutputs(nodes.get(d)!).filter((q) => q !== ''));
      if (fetch.length > 0) {
        // Like the requested paths, what is fetched must not be collected before it is used.
        for (const q of fetch) await store.addTempRoot(q);
        failed = (await opts.substitute(fetch)).failed ?? failed;
      }
    }
    for (const d of needy) {
      const node = nodes.get(d)!;
      if (rebuild(d)) {
        toBuild.add(d);
        for (const [inDrv, names] of node.drv.inputDrvs) want(inDrv, names);
        continue;
      }
      const missing = missingOutputs(node);
      if (missing.length === 0) {
        substituted.add(d);
        continue;
      }
      substituted.delete(d);
      const why = missing.map((q) => failed.get(q)).find((e) => e !== undefined);
      if (why && !opts.fallback) {
        substituteFailed.set(
          d,
          `some substitutes for the outputs of derivation '${d}' failed: ${why.message}; try '--fallback' to build derivation from source`,
        );
        continue;
      }
      toBuild.add(d);
      for (const [inDrv, names] of node.drv.inputDrvs) want(inDrv, names);
    }
  }
  const deps = new Map<string, string[]>();
  for (const [drvPath, node] of nodes)
    deps.set(drvPath, toBuild.has(drvPath) ? [...node.drv.inputDrvs.keys()] : []);
  return {
    nodes,
    deps,
    toBuild,
    substituted,
    substituteFailed,
    top: [...new Set(tops.map((t) => t.drvPath))],
  };
}
