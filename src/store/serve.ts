// `ssh://host` (and `exec://COMMAND`) stores: a client of the serve protocol, wire-compatible with
// `nix-store --serve --write` of Nix 2.8 (Nix's LegacySSHStore). One long-lived session; requests
// are serialised. Builder output printed by the remote arrives on the transport's stderr and goes
// to the current build's `onLog` (else to `opts.onStderr`).
import { openExecTransport } from '../distribute/exec.js';
import { openSshTransport, sshTargetOf } from '../distribute/ssh.js';
import type { Transport } from '../distribute/transport.js';
import type { BasicDerivation } from '../formats/derivation.js';
import { parseDerivation } from '../formats/derivation.js';
import { narTreeSink, parseNar } from '../formats/nar.js';
import { addTextAsNar } from './add-text-nar.js';
import type { BufferPool } from './buffer-pool.js';
import { StoreError } from './errors.js';
import { withHandshakeDeadline } from './handshake-deadline.js';
import { ServeConnection } from './serve-connection.js';
import {
  DEFAULT_BUILD_OPTIONS,
  minor,
  readBuildResult,
  readServePathInfo,
  type ServeBuildOptions,
  ServeOp,
  writeAddToStoreNarHeader,
  writeBasicDerivation,
  writeBuildOptions,
} from './serve-protocol.js';
import type { AddToStoreOptions, BuildingStore, BuildOptions, BuildResult, ValidPathInfo } from './store.js';

export interface ServeStoreOptions {
  /** Receives remote stderr outside builds (and during builds without `onLog`). */
  onStderr?: (chunk: Uint8Array) => void;
  env?: NodeJS.ProcessEnv;
  /** Overrides $NIX_SSHOPTS. */
  sshOpts?: string[];
  /** Seconds the remote program has to answer the handshake (`connect-timeout`; 0: no limit). */
  connectTimeout?: number;
}

/** Opens `ssh://[user@]host[:port]?remote-program=…&ssh-key=…&base64-ssh-public-host-key=…&compress=…&remote-store=…` or `exec://COMMAND`. */
export async function openServeStore(uri: string, opts: ServeStoreOptions = {}): Promise<ServeStore> {
  let onStderr: (c: Uint8Array) => void = () => {};
  const tOpts = { env: opts.env, onStderr: (c: Uint8Array) => onStderr(c) };
  let transport: Transport;
  if (uri.startsWith('exec://')) {
    transport = openExecTransport(uri.slice('exec://'.length), tOpts);
  } else if (uri.startsWith('ssh://')) {
    const q = uri.indexOf('?');
    const authority = decodeURIComponent(uri.slice('ssh://'.length, q < 0 ? undefined : q));
    const params = new URLSearchParams(q < 0 ? '' : uri.slice(q + 1));
    let command = `${params.get('remote-program') ?? 'nix-store'} --serve --write`;
    const remoteStore = params.get('remote-store');
    if (remoteStore) command += ` --store '${remoteStore.replace(/'/g, `'\\''`)}'`;
    transport = openSshTransport(sshTargetOf(authority, params), command, {
      ...tOpts,
      sshOpts: opts.sshOpts,
    });
  } else {
    throw new StoreError('BAD_URI', `cannot open store '${uri}': not an ssh:// or exec:// URI`);
  }
  const store = new ServeStore(uri, new ServeConnection(transport));
  onStderr = (c) => (store.logSink ?? opts.onStderr)?.(c);
  try {
    await withHandshakeDeadline(store.conn.handshake(), {
      seconds: opts.connectTimeout,
      close: () => transport.close(),
      uri,
    });
  } catch (e) {
    await transport.close();
    throw e;
  }
  return store;
}

export class ServeStore implements BuildingStore {
  readonly storeDir = '/nix/store';
  /** Where the remote's stderr goes: the log of the current (or last) build on this connection. */
  logSink: ((chunk: Uint8Array) => void) | undefined;

  constructor(
    readonly uri: string,
    readonly conn: ServeConnection,
  ) {}

  get remoteVersion(): number {
    return this.conn.remoteVersion;
  }

  async isValidPath(path: string): Promise<boolean> {
    return (await this.queryValidPaths([path])).has(path);
  }

  queryValidPaths(
    paths: Iterable<string>,
    opts: { substitute?: boolean; lock?: boolean } = {},
  ): Promise<Set<string>> {
    const list = [...paths];
    return this.conn.request('QueryValidPaths', async () => {
      this.conn.out
        .u64(ServeOp.QueryValidPaths)
        .bool(opts.lock ?? false)
        .bool(opts.substitute ?? false)
        .strings(list);
      await this.conn.flush();
      return new Set(await this.conn.inp.strings());
    });
  }

  async queryPathInfo(path: string): Promise<ValidPathInfo | undefined> {
    return (await this.queryPathInfos([path])).get(path);
  }

  queryPathInfos(paths: Iterable<string>): Promise<Map<string, ValidPathInfo>> {
    const list = [...paths];
    return this.conn.request('QueryPathInfos', async () => {
      this.conn.out.u64(ServeOp.QueryPathInfos).strings(list);
      await this.conn.flush();
      const infos = new Map<string, ValidPathInfo>();
      for (;;) {
        const p = await this.conn.inp.string();
        if (p === '') return infos;
        infos.set(p, await readServePathInfo(this.conn.inp, p, this.conn.remoteVersion));
      }
    });
  }

  async queryReferrers(path: string): Promise<string[]> {
    throw new StoreError(
      'UNSUPPORTED',
      `cannot query referrers of '${path}': not supported by store '${this.uri}'`,
    );
  }

  async queryDerivationOutputMap(drvPath: string): Promise<Map<string, string>> {
    const sink = narTreeSink();
    await parseNar(this.narFromPath(drvPath), sink);
    const tree = sink.root();
    if (tree.type !== 'regular')
      throw new StoreError('BAD_INFO', `derivation '${drvPath}' is not a regular file`);
    const name = drvPath.slice(drvPath.lastIndexOf('/') + 34, -'.drv'.length);
    const drv = parseDerivation(tree.contents, { name, path: drvPath });
    const map = new Map<string, string>();
    for (const [o, out] of drv.outputs) if (out.path) map.set(o, out.path);
    return map;
  }

  /** DumpStorePath: the NAR is unframed, so it is parsed on the way to find its end. */
  async *narFromPath(path: string): AsyncGenerator<Uint8Array> {
    const chan = new Channel();
    let finished = false;
    const done = this.conn.request('DumpStorePath', async () => {
      this.conn.out.u64(ServeOp.DumpStorePath).string(path);
      await this.conn.flush();
      await this.conn.inp.copyNar((b) => chan.put(b.slice()));
      finished = true;
    });
    done.then(
      () => chan.close(),
      (e) => chan.close(e),
    );
    try {
      yield* chan;
      await done;
    } finally {
      // A consumer that stops early leaves the rest of the NAR in the stream.
      if (!finished)
        this.conn.broken ??= new StoreError('CONNECTION', `NAR transfer from '${this.uri}' was abandoned`);
      chan.close();
    }
  }

  async addToStoreNar(
    info: ValidPathInfo,
    nar: AsyncIterable<Uint8Array>,
    opts?: AddToStoreOptions,
  ): Promise<void> {
    await this.conn.request('AddToStoreNar', async () => {
      await this.sendPath(info, nar, true, opts?.pool);
      await this.readAck(info.path);
    });
  }

  /** Pipelined AddToStoreNar: all requests are sent, then all acknowledgements read. */
  async addMultipleToStore(
    items: Iterable<{ info: ValidPathInfo; nar: () => AsyncIterable<Uint8Array> }>,
    opts?: AddToStoreOptions,
  ): Promise<void> {
    const list = [...items];
    await this.conn.request('AddToStoreNar', async () => {
      let acked = 0;
      let sendError: unknown;
      const acks = (async () => {
        for (; acked < list.length; acked++) await this.readAck(list[acked]!.info.path);
      })();
      // The remote may die while paths are still being sent: its end-of-stream must not go
      // unhandled meanwhile (it is awaited, and reported, below).
      acks.catch(() => {});
      try {
        // Small paths are sent together (one write for many), the last one flushes the batch.
        for (const [i, it] of list.entries())
          await this.sendPath(it.info, it.nar(), i === list.length - 1, opts?.pool);
      } catch (e) {
        sendError = e;
      }
      await acks;
      if (sendError) throw sendError;
    });
  }

  /**
   * Sends one path. NAR chunks below COPY_BELOW bytes are copied into the request (so a batch of
   * small paths goes out in a few large writes, not several small ones per path); larger chunks
   * are written as they are. `last` flushes what is still buffered. Chunks go back to `pool` once
   * copied, or once the system has taken them.
   */
  private async sendPath(
    info: ValidPathInfo,
    nar: AsyncIterable<Uint8Array>,
    last: boolean,
    pool?: BufferPool,
  ): Promise<void> {
    const out = this.conn.out;
    const legacy = minor(this.conn.remoteVersion) < 5;
    if (legacy) {
      out.u64(ServeOp.ImportPaths).u64(1);
    } else {
      out.u64(ServeOp.AddToStoreNar);
      writeAddToStoreNarHeader(out, info);
    }
    let sent = 0;
    for await (const chunk of nar) {
      sent += chunk.length;
      if (chunk.length < COPY_BELOW) {
        out.raw(chunk); // copied: raw() keeps only chunks of 64 KiB and more
        pool?.give(chunk);
        this.#buffered += chunk.length;
        if (this.#buffered >= FLUSH_AT) await this.#flush();
      } else {
        await this.#flush();
        await this.conn.transport.output.write(chunk, pool && ((c) => pool.give(c)));
      }
    }
    if (sent !== info.narSize) {
      this.conn.broken = new StoreError(
        'CONNECTION',
        `NAR of '${info.path}' was ${sent} bytes, not ${info.narSize}`,
      );
      throw this.conn.broken;
    }
    if (legacy) {
      out
        .u64(0x4558494e)
        .string(info.path)
        .strings(info.references)
        .string(info.deriver ?? '')
        .u64(0)
        .u64(0);
    }
    if (last) await this.#flush();
  }

  /** NAR bytes copied into `conn.out` since its last flush. */
  #buffered = 0;

  #flush(): Promise<void> {
    this.#buffered = 0;
    return this.conn.flush();
  }

  private async readAck(path: string): Promise<void> {
    if ((await this.conn.inp.u64()) !== 1) {
      throw new StoreError('REMOTE_PROTOCOL', `remote '${this.uri}' did not acknowledge '${path}'`);
    }
  }

  async addTextToStore(name: string, text: Uint8Array | string, references: string[]): Promise<string> {
    return addTextAsNar(this, name, text, references);
  }

  /** QueryValidPaths with `lock`: the remote registers temporary GC roots for the session. */
  async addTempRoot(path: string): Promise<void> {
    await this.queryValidPaths([path], { lock: true });
  }

  queryClosure(paths: Iterable<string>, includeOutputs: boolean): Promise<string[]> {
    const list = [...paths];
    return this.conn.request('QueryClosure', async () => {
      this.conn.out.u64(ServeOp.QueryClosure).bool(includeOutputs).strings(list);
      await this.conn.flush();
      return this.conn.inp.strings();
    });
  }

  buildDerivation(
    drvPath: string,
    drv: BasicDerivation,
    opts: Partial<BuildOptions & ServeBuildOptions> & { onLog?: (chunk: Uint8Array) => void } = {},
  ): Promise<BuildResult> {
    return this.conn.request('BuildDerivation', async () => {
      this.conn.out.u64(ServeOp.BuildDerivation).string(drvPath);
      writeBasicDerivation(this.conn.out, drv);
      writeBuildOptions(this.conn.out, { ...DEFAULT_BUILD_OPTIONS, ...opts }, this.conn.remoteVersion);
      // The log comes on the remote's stderr, a different ssh channel than the result: lines can
      // arrive after it. So the sink stays in place until the next build on this connection.
      this.logSink = opts.onLog;
      await this.conn.flush();
      return await readBuildResult(this.conn.inp, this.conn.remoteVersion, this.storeDir);
    });
  }

  /**
   * BuildPaths (`drv!out` strings): 0 on success, else the remote's exit status and message. Not
   * named buildPaths: that name marks a store that builds for its client (a daemon's, realise.ts),
   * whose results say how each path went.
   */
  serveBuildPaths(
    paths: string[],
    opts: Partial<ServeBuildOptions> & { onLog?: (chunk: Uint8Array) => void } = {},
  ): Promise<{ status: number; message: string }> {
    return this.conn.request('BuildPaths', async () => {
      this.conn.out.u64(ServeOp.BuildPaths).strings(paths);
      writeBuildOptions(this.conn.out, { ...DEFAULT_BUILD_OPTIONS, ...opts }, this.conn.remoteVersion);
      this.logSink = opts.onLog; // kept after the result, as in buildDerivation
      await this.conn.flush();
      const status = await this.conn.inp.u64();
      return { status, message: status === 0 ? '' : await this.conn.inp.string() };
    });
  }

  async close(): Promise<void> {
    await this.conn.transport.close();
  }
}

/** NAR chunks smaller than this are copied into the request (the wire writer copies below 64 KiB). */
const COPY_BELOW = 64 * 1024;
/** Buffered request bytes that trigger a write. */
const FLUSH_AT = 1024 * 1024;

/** A one-slot hand-over from a producer to an async iterator (backpressure: put waits). */
class Channel implements AsyncIterable<Uint8Array> {
  private item: Uint8Array | undefined;
  private closed = false;
  private error: unknown;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  async put(b: Uint8Array): Promise<void> {
    while (this.item !== undefined && !this.closed) await new Promise<void>((r) => (this.wakeProducer = r));
    if (this.closed) throw new StoreError('CONNECTION', 'NAR transfer was abandoned');
    this.item = b;
    this.wakeConsumer?.();
  }

  close(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.error = error;
    this.wakeConsumer?.();
    this.wakeProducer?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.item !== undefined) {
        const b = this.item;
        this.item = undefined;
        this.wakeProducer?.();
        yield b;
        continue;
      }
      if (this.closed) {
        if (this.error) throw this.error;
        return;
      }
      await new Promise<void>((r) => (this.wakeConsumer = r));
    }
  }
}
