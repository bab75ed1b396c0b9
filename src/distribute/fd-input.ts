// A pipe or socket descriptor (a protocol server's stdin, as sshd hands it over) turned into a pull
// source, read in chunks of up to 1 MiB straight into buffers of ours (a socket's `onread`). Node's
// own stream over such a pipe reads 64 KiB at a time, each into a fresh buffer passed through the
// stream machinery: for a 256 MiB upload sshd is drained too slowly and holds full buffers all
// along (a reader that hashes and writes it, behind ssh: 1.2–1.5 s this way, 1.8–2.2 s through
// the stream; bench/README.md). End of input is visible at any time (PullQueue).
//
// Reads go through the event loop, not the thread pool: a read blocked there would hold up the
// process's exit until the client sent something. A chunk handed out is never written again; a
// short read is copied out and its buffer kept for the next read, so small protocol messages do
// not each hold a 1 MiB buffer.
import { type ConnectOpts, Socket, type SocketConstructorOpts } from 'node:net';
import { PullQueue } from './pull-queue.js';

/** Largest read. */
export const FD_CHUNK = 1 << 20;
/** Reading pauses while this much is queued and not pulled. */
const HIGH_WATER = 4 << 20;
/** Reads shorter than this are copied out of the read buffer, which is then reused. */
const COPY_BELOW = 64 << 10;

export class FdInput extends PullQueue {
  /** Reading was stopped by `got` (the queue is full). */
  private paused = false;
  private buf: Buffer | undefined;
  private readonly socket: Socket;

  constructor(fd: number) {
    super();
    // The constructor takes `onread` too (Node >= 18), though @types/node lists it for connect().
    const opts: SocketConstructorOpts & ConnectOpts = {
      fd,
      readable: true,
      writable: false,
      onread: { buffer: () => this.readBuffer(), callback: (n, b) => this.got(n, b) },
    };
    this.socket = new Socket(opts);
    this.socket.once('end', () => this.finish());
    this.socket.once('close', () => this.finish());
    this.socket.once('error', (e) => this.finish(e));
    // Flowing, so that 'end' comes as soon as end of file is read (chunks bypass the stream).
    this.socket.resume();
  }

  private readBuffer(): Buffer {
    if (this.buf === undefined) this.buf = Buffer.allocUnsafeSlow(FD_CHUNK);
    return this.buf;
  }

  /** One read's bytes, in `buf` (the current read buffer); false pauses reading. */
  private got(n: number, buf: Uint8Array): boolean {
    if (n < COPY_BELOW) {
      const chunk = new Uint8Array(n);
      chunk.set(buf.subarray(0, n));
      this.push(chunk);
    } else {
      this.push(new Uint8Array(buf.buffer, buf.byteOffset, n));
      this.buf = undefined;
    }
    if (this.queued < HIGH_WATER) return true;
    this.paused = true;
    return false;
  }

  protected drained(): void {
    if (this.paused && this.queued <= HIGH_WATER / 2 && !this.ended) {
      this.paused = false;
      this.socket.resume();
    }
  }

  protected finish(error?: Error): void {
    this.buf = undefined;
    super.finish(error);
  }
}
