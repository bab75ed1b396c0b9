// Writes to a Node Writable with backpressure, failing (instead of hanging) once the peer is gone.
// The stream may arrive later (a promise: the process behind it starts once its SSH connection is
// up); writes wait for it, and a promise that fails or yields nothing fails them.
import type { Writable } from 'node:stream';

export class StreamOutput {
  private failure: Error | undefined;
  private stream: Writable | undefined;
  private pending: Promise<void> | undefined;

  constructor(target: Writable | Promise<Writable | undefined>) {
    if (!(target instanceof Promise)) {
      this.attach(target);
      return;
    }
    this.pending = target.then(
      (s) => {
        if (s) this.attach(s);
        else this.failure ??= new Error('the stream could not be opened');
        this.pending = undefined;
      },
      (e: Error) => {
        this.failure ??= e;
        this.pending = undefined;
      },
    );
  }

  private attach(stream: Writable): void {
    this.stream = stream;
    stream.on('error', (e) => {
      this.failure ??= e;
    });
  }

  get closed(): boolean {
    if (this.failure !== undefined) return true;
    if (!this.stream) return this.pending === undefined;
    return this.stream.destroyed || this.stream.writableEnded;
  }

  /**
   * Writes `chunks`, waiting while the stream is full. `onWritten`, if given, is called with each
   * chunk once the stream has passed it on; not on failure. For a pipe or socket that means the
   * system has copied it, so the caller may reuse its memory (an in-memory stream may still hold
   * the chunk itself then: do not recycle through one).
   */
  async write(chunks: Uint8Array | Uint8Array[], onWritten?: (chunk: Uint8Array) => void): Promise<void> {
    if (this.pending) await this.pending;
    const list = Array.isArray(chunks) ? chunks : [chunks];
    if (this.failure) throw this.failure;
    const stream = this.stream!;
    // Several chunks go out in one writev (one system call, one wake-up of the reader).
    const corked = list.length > 1 && !stream.writableCorked;
    if (corked) stream.cork();
    let full = false;
    try {
      for (const c of list) {
        if (stream.destroyed || stream.writableEnded) throw new Error('write after the stream closed');
        if (c.byteLength === 0) continue;
        const ok = onWritten ? stream.write(c, (err) => err || onWritten(c)) : stream.write(c);
        if (!ok) full = true;
      }
    } finally {
      if (corked) stream.uncork();
    }
    if (full && stream.writableNeedDrain) await this.drain(stream);
    if (this.failure) throw this.failure;
  }

  /**
   * Writes `chunks` now, unless the stream is not attached yet or waits for a drain (then nothing
   * is written and the answer is false). Throws as write() does once the stream failed or closed.
   */
  tryWrite(chunks: Uint8Array[]): boolean {
    if (this.failure) throw this.failure;
    const stream = this.stream;
    if (!stream || this.pending || stream.writableNeedDrain) return false;
    if (stream.destroyed || stream.writableEnded) throw new Error('write after the stream closed');
    if (chunks.length !== 1) return false;
    const c = chunks[0]!;
    if (c.byteLength > 0) stream.write(c);
    if (this.failure) throw this.failure;
    return true;
  }

  private drain(stream: Writable): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', closed);
        resolve();
      };
      const closed = () => {
        stream.off('drain', done);
        reject(this.failure ?? new Error('stream closed while writing'));
      };
      stream.on('drain', done);
      stream.once('close', closed);
    });
  }

  /** Ends the stream and waits until everything was handed to the OS (or it failed). */
  async end(): Promise<void> {
    if (this.pending) await this.pending;
    const stream = this.stream;
    if (!stream) return;
    return new Promise((resolve) => {
      if (stream.writableEnded || stream.destroyed) return resolve();
      stream.end(() => resolve());
      stream.once('error', () => resolve());
    });
  }
}
