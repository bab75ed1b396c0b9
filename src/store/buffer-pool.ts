// Fixed-size buffers handed out and taken back, so a consumer that is done with a chunk (hashed it,
// or the socket has sent it) lets the next read reuse its memory instead of faulting in a new
// buffer: streaming a large NAR then touches a few megabytes instead of the NAR's size.

export class BufferPool {
  readonly #free: Buffer[] = [];

  /** `size`: the length of every buffer; `keep`: how many free buffers are retained at most. */
  constructor(
    readonly size: number,
    readonly keep = 8,
  ) {}

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /**
   * Returns a buffer the caller will never read or write again. Only whole buffers of this pool's
   * size are kept (a slice or a foreign buffer is left to the garbage collector).
   */
  give(buf: Uint8Array): void {
    if (
      buf.length === this.size &&
      buf.byteOffset === 0 &&
      buf.buffer.byteLength === this.size &&
      this.#free.length < this.keep
    )
      this.#free.push(buf as Buffer);
  }

  /** Free buffers currently held. */
  get free(): number {
    return this.#free.length;
  }
}
