// A pool of long-lived connections to one machine: at most `max` open at once, idle ones reused,
// broken ones dropped. With one protocol session per build slot, a machine costs at most maxJobs
// SSH handshakes for the life of the process, however many derivations it builds.

export interface PoolOptions<T> {
  max: number;
  open: () => Promise<T>;
  close: (conn: T) => Promise<void> | void;
}

export class ConnectionPool<T> {
  readonly #idle: T[] = [];
  #open = 0;
  #waiters: ((c: T | undefined) => void)[] = [];
  /** Connections ever opened (for tests and `builders list`). */
  opened = 0;

  constructor(readonly opts: PoolOptions<T>) {}

  async acquire(): Promise<T> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    if (this.#open < this.opts.max) {
      this.#open++;
      try {
        const c = await this.opts.open();
        this.opened++;
        return c;
      } catch (e) {
        this.#open--;
        this.#wakeOne(undefined);
        throw e;
      }
    }
    const handed = await new Promise<T | undefined>((r) => this.#waiters.push(r));
    return handed ?? this.acquire();
  }

  #wakeOne(c: T | undefined): boolean {
    const w = this.#waiters.shift();
    if (!w) return false;
    w(c);
    return true;
  }

  /** Returns a healthy connection for reuse. */
  release(conn: T): void {
    if (!this.#wakeOne(conn)) this.#idle.push(conn);
  }

  /** Drops a connection that failed; a waiter may open a fresh one. */
  async destroy(conn: T): Promise<void> {
    this.#open--;
    try {
      await this.opts.close(conn);
    } finally {
      this.#wakeOne(undefined);
    }
  }

  async closeAll(): Promise<void> {
    const idle = this.#idle.splice(0);
    this.#open -= idle.length;
    await Promise.all(idle.map((c) => this.opts.close(c)));
  }
}
