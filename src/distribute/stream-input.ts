// A Node Readable turned into a pull source for the wire readers (PullQueue: end of input visible
// at any time). The stream may arrive later (a promise: the process behind it starts once its SSH
// connection is up); pulls wait for it, and a promise that fails or yields nothing reads as an
// empty input.
import type { Readable } from 'node:stream';
import { PullQueue } from './pull-queue.js';

const HIGH_WATER = 1 << 20;

export class StreamInput extends PullQueue {
  private stream: Readable | undefined;

  constructor(source: Readable | Promise<Readable | undefined>) {
    super();
    if (!(source instanceof Promise)) {
      this.attach(source);
      return;
    }
    source.then(
      (s) => (s ? this.attach(s) : this.finish()),
      (e: Error) => this.finish(e),
    );
  }

  private attach(stream: Readable): void {
    this.stream = stream;
    stream.on('data', (chunk: Buffer) => {
      this.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (this.queued > HIGH_WATER) stream.pause();
    });
    stream.once('end', () => this.finish());
    stream.once('close', () => this.finish());
    stream.once('error', (e) => this.finish(e));
  }

  protected drained(): void {
    if (this.queued <= HIGH_WATER / 2 && this.stream?.isPaused()) this.stream.resume();
  }
}
