// Writes to a Node Writable with backpressure, failing (instead of hanging) once the peer is gone.
import type { Writable } from 'node:stream';

export class StreamOutput {
  private failure: Error | undefined;

  constructor(private readonly stream: Writable) {
    stream.on('error', (e) => {
      this.failure ??= e;
    });
  }

  get closed(): boolean {
    return this.failure !== undefined || this.stream.destroyed || this.stream.writableEnded;
  }

  async write(chunks: Uint8Array | Uint8Array[]): Promise<void> {
    for (const c of Array.isArray(chunks) ? chunks : [chunks]) {
      if (this.failure) throw this.failure;
      if (this.stream.destroyed || this.stream.writableEnded)
        throw new Error('write after the stream closed');
      if (c.byteLength === 0) continue;
      if (!this.stream.write(c)) await this.drain();
    }
  }

  private drain(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('close', closed);
        resolve();
      };
      const closed = () => {
        this.stream.off('drain', done);
        reject(this.failure ?? new Error('stream closed while writing'));
      };
      this.stream.on('drain', done);
      this.stream.once('close', closed);
    });
  }

  /** Ends the stream and waits until everything was handed to the OS (or it failed). */
  end(): Promise<void> {
    return new Promise((resolve) => {
      if (this.stream.writableEnded || this.stream.destroyed) return resolve();
      this.stream.end(() => resolve());
      this.stream.once('error', () => resolve());
    });
  }
}
