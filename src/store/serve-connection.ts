// One serve-protocol session over a Transport: the handshake, a request lock (the protocol is
// strictly request/reply on one stream), and turning a dead or failing remote into a StoreError
// that carries what the remote printed on stderr.
import type { Transport } from '../distribute/transport.js';
import { FormatError } from '../formats/errors.js';
import { WireReader, WireWriter } from '../formats/wire.js';
import { StoreError } from './errors.js';
import { SERVE_MAGIC_1, SERVE_MAGIC_2, SERVE_PROTOCOL_VERSION } from './serve-protocol.js';

export class ServeConnection {
  readonly inp: WireReader;
  readonly out = new WireWriter();
  remoteVersion = 0;
  /** Set once the stream is out of step (an aborted request); every later request fails. */
  broken: StoreError | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly transport: Transport) {
    this.inp = new WireReader(transport.input.pull, { what: 'serve protocol stream' });
  }

  async handshake(): Promise<void> {
    this.out.u64(SERVE_MAGIC_1).u64(SERVE_PROTOCOL_VERSION);
    let magic: bigint | undefined;
    try {
      await this.flush();
      magic = await this.inp.u64big();
    } catch (e) {
      throw await this.failure(e, 'handshake');
    }
    if (magic !== BigInt(SERVE_MAGIC_2)) {
      throw new StoreError(
        'REMOTE_PROTOCOL',
        `'nix-store --serve' protocol mismatch from '${this.transport.name}', got '${magic.toString(16)}'`,
      );
    }
    this.remoteVersion = await this.inp.u64();
    if ((this.remoteVersion & 0xff00) !== 0x200) {
      throw new StoreError(
        'REMOTE_PROTOCOL',
        `unsupported 'nix-store --serve' protocol version on '${this.transport.name}'`,
      );
    }
  }

  flush(): Promise<void> {
    return this.transport.output.write(this.out.takeChunks());
  }

  /** Runs one request/reply exchange exclusively; failures become StoreErrors. */
  async request<T>(what: string, f: () => Promise<T>): Promise<T> {
    const prev = this.queue;
    let release!: () => void;
    this.queue = new Promise((r) => {
      release = r;
    });
    await prev;
    try {
      if (this.broken) throw this.broken;
      return await f();
    } catch (e) {
      const err = await this.failure(e, what);
      this.broken ??= err;
      throw err;
    } finally {
      release();
    }
  }

  /** Explains why an exchange failed: the remote's last error line, ssh's diagnosis, or EOF. */
  async failure(e: unknown, what: string): Promise<StoreError> {
    if (e instanceof StoreError) return e;
    const eof =
      e instanceof FormatError ||
      (e as NodeJS.ErrnoException)?.code === 'EPIPE' ||
      this.transport.input.ended;
    if (!eof)
      return new StoreError('REMOTE', `${what} on '${this.transport.name}' failed: ${(e as Error).message}`);
    // Give the remote a moment to finish printing its error and exit.
    await Promise.race([this.transport.exited, new Promise((r) => setTimeout(r, 1000))]);
    const early = this.remoteVersion === 0 ? this.transport.explainFailure() : undefined;
    if (early) return early;
    const lines = this.transport.stderrTail().trim().split('\n');
    const err = lines.filter((l) => l.startsWith('error:')).pop();
    if (err) return new StoreError('REMOTE', `${what} on '${this.transport.name}': ${err.slice(6).trim()}`);
    const detail = lines.slice(-2).join('; ').trim();
    return new StoreError(
      'CONNECTION',
      `connection to '${this.transport.name}' closed during ${what}${detail ? `: ${detail}` : ''}`,
    );
  }
}
