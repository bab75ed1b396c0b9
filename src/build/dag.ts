// A generic dependency-ordered, bounded-parallel runner. It knows nothing about derivations or
// where work happens: each node is handed to `run` once all its dependencies succeeded.
export interface DagOptions<R> {
  /** Most `run` calls in flight at once (>= 1). */
  maxParallel: number;
  /** After a failure, keep starting nodes that do not depend on it (Nix's --keep-going). */
  keepGoing: boolean;
  run: (key: string) => Promise<R>;
  isSuccess: (r: R) => boolean;
  /** The result of a node that was not run because dependencies failed. */
  dependencyFailed: (key: string, failedDeps: string[]) => R;
  /** Called as each node gets its result. */
  onResult?: (key: string, r: R) => void;
  /** Which of the ready nodes start first (default: the order they became ready). */
  order?: (a: string, b: string) => number;
}

/**
 * Runs every node of `deps` (key -> dependency keys; every dependency must itself be a key).
 * Without keepGoing, nodes not started when the first failure arrives are left out of the result
 * (running ones finish). A dependency cycle is an internal error.
 */
export async function runDag<R>(
  deps: ReadonlyMap<string, readonly string[]>,
  opts: DagOptions<R>,
): Promise<Map<string, R>> {
  const results = new Map<string, R>();
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  const failedDeps = new Map<string, string[]>();
  const ready: string[] = [];
  /** Nodes ever put in `ready` (each is finished once). */
  const queued = new Set<string>();
  for (const [k, ds] of deps) {
    const unique = [...new Set(ds)];
    waitingOn.set(k, unique.length);
    for (const d of unique) {
      if (!deps.has(d)) throw new Error(`runDag: '${k}' depends on unknown node '${d}'`);
      dependents.set(d, [...(dependents.get(d) ?? []), k]);
    }
    if (unique.length === 0) {
      ready.push(k);
      queued.add(k);
    }
  }
  let running = 0;
  let stopped = false;
  let settle: (() => void) | undefined;
  let crash: unknown;

  const finish = (k: string, r: R) => {
    results.set(k, r);
    opts.onResult?.(k, r);
    const ok = opts.isSuccess(r);
    if (!ok && !opts.keepGoing) stopped = true;
    for (const d of dependents.get(k) ?? []) {
      if (!ok) failedDeps.set(d, [...(failedDeps.get(d) ?? []), k]);
      const n = waitingOn.get(d)! - 1;
      waitingOn.set(d, n);
      // Without keepGoing a failed dependency fails its dependents at once (as Nix's goals do),
      // without waiting for their other dependencies.
      if ((n === 0 || (!ok && !opts.keepGoing)) && !queued.has(d)) {
        queued.add(d);
        ready.push(d);
      }
    }
  };
  const pump = () => {
    if (opts.order && ready.length > 1) ready.sort(opts.order);
    for (let i = 0; i < ready.length; ) {
      const k = ready[i]!;
      const failed = failedDeps.get(k);
      if (failed) {
        ready.splice(i, 1);
        finish(k, opts.dependencyFailed(k, failed));
      } else if (stopped) {
        ready.splice(i, 1);
      } else if (running < opts.maxParallel) {
        ready.splice(i, 1);
        running++;
        opts.run(k).then(
          (r) => {
            running--;
            finish(k, r);
            pump();
          },
          (e: unknown) => {
            running--;
            crash ??= e;
            stopped = true;
            pump();
          },
        );
      } else {
        i++;
      }
    }
    if (running === 0 && ready.length === 0) settle?.();
  };
  await new Promise<void>((resolve) => {
    settle = resolve;
    pump();
  });
  if (crash !== undefined) throw crash;
  if (!stopped && results.size !== deps.size) throw new Error('runDag: dependency cycle');
  return results;
}
