// Fixed-size buffers handed out and taken back, so a consumer that is done with a chunk (hashed it,
// or the socket has sent it) lets the next read reuse its memory instead of faulting in a new
// buffer: streaming a large NAR then touches a few megabytes instead of the NAR's size.

export class BufferPool {
  readonly #free: Buffer[] = [];
  /** The memory of every buffer this pool handed out: only those are taken back. */
  readonly #issued = new WeakSet<ArrayBufferLike>();

  /** `size`: the length of every buffer; `keep`: how many free buffers are retained at most. */
  constructor(
    readonly size: number,
    readonly keep = 8,
  ) {}

  take(): Buffer {
    const reused = this.#free.pop();
    if (reused) return reused;
    const buf = Buffer.allocUnsafeSlow(this.size);
    this.#issued.add(buf.buffer);
    return buf;
  }

  /**
   * Returns a buffer the caller will never read or write again. Only whole buffers this pool
   * handed out are kept (a slice, or any other buffer, is left to the garbage collector), so a
   * consumer may give back every chunk it was passed, whatever its origin.
   */
  give(buf: Uint8Array): void {
    if (
      buf.length === this.size &&
      buf.byteOffset === 0 &&
      this.#issued.has(buf.buffer) &&
      this.#free.length < this.keep
    )
      this.#free.push(Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, 0, this.size));
  }

  /** Free buffers currently held. */
  get free(): number {
    return this.#free.length;
  }
}
