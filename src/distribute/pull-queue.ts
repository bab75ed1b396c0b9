// What StreamInput and FdInput share: chunks queued as they arrive, handed out one pull at a time,
// and end of input visible at any time (a protocol server must notice a client hanging up while
// it is busy building, even though nothing is reading then). Subclasses push chunks and call
// finish(); `drained` tells them when the queue has room again.

export abstract class PullQueue {
  private readonly queue: Uint8Array[] = [];
  /** Bytes queued and not yet pulled. */
  protected queued = 0;
  private waiter: (() => void) | undefined;
  protected error: Error | undefined;
  private endListeners: (() => void)[] = [];
  /** True once the input ended or failed (queued bytes may still be readable). */
  ended = false;

  /** Called after each pull (with the bytes still queued), to resume a paused source. */
  protected abstract drained(): void;

  protected push(chunk: Uint8Array): void {
    this.queue.push(chunk);
    this.queued += chunk.byteLength;
    this.wake();
  }

  /** The next chunk, or null at end of input. Only one pull may be outstanding. */
  pull = async (): Promise<Uint8Array | null> => {
    while (this.queue.length === 0) {
      if (this.ended) {
        if (this.error && (this.error as NodeJS.ErrnoException).code !== 'EPIPE') throw this.error;
        return null;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
    const chunk = this.queue.shift()!;
    this.queued -= chunk.byteLength;
    this.drained();
    return chunk;
  };

  /** Calls `f` once the input has ended (immediately if it already has); returns an unsubscribe. */
  onEnd(f: () => void): () => void {
    if (this.ended) {
      f();
      return () => {};
    }
    this.endListeners.push(f);
    return () => {
      this.endListeners = this.endListeners.filter((g) => g !== f);
    };
  }

  /** Marks the end of input (with `error` when it failed); a later call can only add a failure. */
  protected finish(error?: Error): void {
    // A failure is kept even when the input had already ended (a pull on an empty queue throws it).
    this.error ??= error;
    if (this.ended) return;
    this.ended = true;
    this.wake();
    const ls = this.endListeners;
    this.endListeners = [];
    for (const f of ls) f();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
