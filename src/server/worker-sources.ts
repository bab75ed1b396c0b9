// Data a worker-protocol client uploads inside a request: a framed stream (≥ 1.23: `u64 len` +
// bytes, ending with a zero-length frame) or, for 1.21–1.22 clients, bytes pulled on demand with
// STDERR_READ. A framed stream is always read to its end (drain) so the connection stays in step
// even when the consumer stopped early, e.g. after an error — as Nix's FramedSource destructor does.
import type { WireReader } from '../formats/wire.js';
import { WireWriter } from '../formats/wire.js';
import { STDERR } from '../store/worker-protocol.js';
import type { TunnelLogger } from './worker-logger.js';

const PIECE = 64 * 1024;

export class FramedSource implements AsyncIterable<Uint8Array> {
  #left = 0;
  #done = false;

  constructor(private readonly inp: WireReader) {}

  /** The next piece of payload, or undefined after the terminating frame. */
  async next(): Promise<Uint8Array | undefined> {
    while (this.#left === 0) {
      if (this.#done) return undefined;
      const n = await this.inp.u32();
      if (n === 0) {
        this.#done = true;
        return undefined;
      }
      this.#left = n;
    }
    const b = await this.inp.readExact(Math.min(this.#left, PIECE));
    this.#left -= b.length;
    return b;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (let b = await this.next(); b !== undefined; b = await this.next()) yield b;
  }

  /** Reads and discards what the consumer did not take, up to the terminating frame. */
  async drain(): Promise<void> {
    while ((await this.next()) !== undefined);
  }

  /** The whole payload in memory. */
  async bytes(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let n = 0;
    for (let b = await this.next(); b !== undefined; b = await this.next()) {
      parts.push(b);
      n += b.length;
    }
    return Buffer.concat(parts, n);
  }
}

/** Bytes requested from the client with STDERR_READ (clients 1.21–1.22, and ImportPaths). */
export function tunnelSource(inp: WireReader, logger: TunnelLogger): () => Promise<Uint8Array | null> {
  let ended = false;
  return async () => {
    if (ended) return null;
    logger.send(new WireWriter().u64(STDERR.READ).u64(PIECE).takeChunks());
    await logger.flush();
    const b = await inp.bytes(PIECE);
    if (b.length === 0) {
      ended = true;
      return null;
    }
    return b;
  };
}
