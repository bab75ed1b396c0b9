// What a build will do, printed as Nix 2.8's printMissing does before building (and alone for
// `--dry-run`): the derivations to build (dependencies first), the paths to fetch with their
// sizes, and the paths nobody can provide.
import { lookupWith, queryMissing } from '../server/worker-ops-query.js';
import type { DerivedPath, Store } from '../store/store.js';
import type { Substitution } from './substitute-hook.js';

export interface Missing {
  willBuild: Set<string>;
  /** Input derivations of each derivation in willBuild. */
  buildInputs: Map<string, string[]>;
  willSubstitute: Set<string>;
  unknown: Set<string>;
  downloadSize: number;
  narSize: number;
}

/** `willBuild` with every derivation after the ones it depends on (ties in path order). */
function dependenciesFirst(m: Missing): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (d: string) => {
    if (done.has(d)) return;
    done.add(d);
    for (const i of [...(m.buildInputs.get(d) ?? [])].sort()) if (m.willBuild.has(i)) visit(i);
    out.push(d);
  };
  for (const d of [...m.willBuild].sort()) visit(d);
  return out;
}

const mib = (n: number) => (n / (1024 * 1024)).toFixed(2);

export function missingLines(m: Missing): string[] {
  const lines: string[] = [];
  if (m.willBuild.size > 0) {
    lines.push(
      m.willBuild.size === 1
        ? 'this derivation will be built:'
        : `these ${m.willBuild.size} derivations will be built:`,
    );
    for (const d of dependenciesFirst(m)) lines.push(`  ${d}`);
  }
  if (m.willSubstitute.size > 0) {
    const sizes = `(${mib(m.downloadSize)} MiB download, ${mib(m.narSize)} MiB unpacked)`;
    lines.push(
      m.willSubstitute.size === 1
        ? `this path will be fetched ${sizes}:`
        : `these ${m.willSubstitute.size} paths will be fetched ${sizes}:`,
    );
    for (const p of [...m.willSubstitute].sort()) lines.push(`  ${p}`);
  }
  if (m.unknown.size > 0) {
    lines.push("don't know how to build these paths:");
    for (const p of [...m.unknown].sort()) lines.push(`  ${p}`);
  }
  return lines;
}

/** Nix's printMissing lines for `paths`, asking `substitution` (if any) what it has. */
export async function missingFor(
  store: Store,
  paths: DerivedPath[],
  substitution: Substitution | undefined,
): Promise<string[]> {
  return missingLines(await queryMissing(store, paths, lookupWith(substitution)));
}
