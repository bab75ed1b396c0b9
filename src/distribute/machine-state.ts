// Per-machine health: a machine that failed to connect (or whose connection died) is marked down
// and retried after an exponentially growing delay; a success resets it. One instance per process
// (or per daemon), so every build sees the same view.

export interface Health {
  failures: number;
  downSince?: number;
  retryAt?: number;
  lastError?: string;
  /** Permanent problems (host key mismatch): never retried in this process. */
  permanent?: boolean;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 1000, maxMs: 60_000 };

export class MachineHealth {
  readonly #state = new Map<string, Health>();
  constructor(
    readonly backoff: BackoffOptions = defaultBackoff,
    readonly now: () => number = Date.now,
  ) {}

  get(name: string): Health {
    let h = this.#state.get(name);
    if (!h) {
      h = { failures: 0 };
      this.#state.set(name, h);
    }
    return h;
  }

  markDown(name: string, error: string, opts: { permanent?: boolean } = {}): Health {
    const h = this.get(name);
    const t = this.now();
    h.failures++;
    h.downSince ??= t;
    h.lastError = error;
    h.permanent = h.permanent || opts.permanent === true;
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (h.failures - 1));
    h.retryAt = t + delay;
    return h;
  }

  markUp(name: string): void {
    this.#state.set(name, { failures: 0 });
  }

  /** Why the machine may not be used now, or undefined when it may. */
  unavailable(name: string): string | undefined {
    const h = this.#state.get(name);
    if (!h || h.downSince === undefined) return undefined;
    const since = new Date(h.downSince).toISOString().slice(11, 19);
    if (h.permanent) return `${h.lastError ?? 'unusable'} (since ${since})`;
    const left = (h.retryAt ?? 0) - this.now();
    if (left <= 0) return undefined;
    return `down since ${since} (${h.lastError ?? 'unreachable'}), retry in ${Math.ceil(left / 1000)}s`;
  }

  /** Milliseconds until the earliest retry among the given machines, if any is temporarily down. */
  nextRetryIn(names: string[]): number | undefined {
    let best: number | undefined;
    for (const n of names) {
      const h = this.#state.get(n);
      if (!h || h.permanent || h.retryAt === undefined) continue;
      const left = Math.max(0, h.retryAt - this.now());
      if (best === undefined || left < best) best = left;
    }
    return best;
  }
}
