// A Node Readable turned into a pull source for the wire readers, with end-of-input visible at
// any time (a protocol server must notice a client hanging up while it is busy building, even
// though nothing is reading the stream then). The stream may arrive later (a promise: the
// process behind it starts once its SSH connection is up); pulls wait for it, and a promise that
// fails or yields nothing reads as an empty input.
import type { Readable } from 'node:stream';

const HIGH_WATER = 1 << 20;

export class StreamInput {
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private waiter: (() => void) | undefined;
  private error: Error | undefined;
  private endListeners: (() => void)[] = [];
  /** True once the underlying stream ended or failed (queued bytes may still be readable). */
  ended = false;

  private stream: Readable | undefined;

  constructor(source: Readable | Promise<Readable | undefined>) {
    if (!(source instanceof Promise)) {
      this.attach(source);
      return;
    }
    source.then(
      (s) => (s ? this.attach(s) : this.finish()),
      (e: Error) => {
        this.error = e;
        this.finish();
      },
    );
  }

  private attach(stream: Readable): void {
    this.stream = stream;
    stream.on('data', (chunk: Buffer) => {
      this.queue.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.queued += chunk.byteLength;
      if (this.queued > HIGH_WATER) stream.pause();
      this.wake();
    });
    stream.once('end', () => this.finish());
    stream.once('close', () => this.finish());
    stream.once('error', (e) => {
      this.error = e;
      this.finish();
    });
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
    if (this.queued <= HIGH_WATER / 2 && this.stream?.isPaused()) this.stream.resume();
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

  private finish(): void {
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
