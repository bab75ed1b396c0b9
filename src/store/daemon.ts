// DaemonStore: a store reached over the worker protocol — a daemon's Unix socket (`daemon`,
// `unix:///path`) or `nix-daemon --stdio` / `tix-daemon --stdio` over ssh (`ssh-ng://host`,
// `?remote-program=` as in Nix). Requests use a small pool of connections, so a NAR being read
// does not block other requests. Opened through openStore (see openDaemonStore at the bottom).
import { sortedUniqueUtf8 } from '../formats/byte-order.js';
import type { BasicDerivation } from '../formats/derivation.js';
import { WireWriter } from '../formats/wire.js';
import { DaemonConnection, type DaemonTransport } from './daemon-connection.js';
import { StoreError } from './errors.js';
import { withHandshakeDeadline } from './handshake-deadline.js';
import {
  type AddToStoreOptions,
  type BuildingStore,
  BuildMode,
  type BuildOptions,
  type BuildResult,
  BuildStatus,
  type DerivedPath,
  immediateResult,
  type ValidPathInfo,
} from './store.js';
import { buildLogFile } from './store-paths.js';
import {
  parseDerivedPath,
  printDerivedPath,
  readBuildResult,
  readStorePaths,
  readValidPathInfo,
  WorkerOp,
  writeBasicDerivation,
  writeValidPathInfo,
} from './worker-protocol.js';

export interface DaemonStoreOptions {
  /** The URI reported by `uri`, e.g. "unix:///run/tix/socket" or "ssh-ng://host". */
  uri: string;
  storeDir?: string;
  /** Opens a new byte pipe to the daemon. */
  connect: () => Promise<DaemonTransport>;
  /** Send SetOptions after the handshake (Nix does for sockets, not for ssh-ng). */
  setOptions?: boolean;
  /** The Unix socket connections go to, for a local daemon (`daemon`, `unix://…`). */
  socket?: string;
  /**
   * Where a daemon on this machine keeps build logs (`<root>/nix/var/log/nix`), read directly as
   * Nix's clients read them (the protocol has no way to fetch one).
   */
  logDir?: string;
  /**
   * The root of a daemon on this machine that serves a store with a root (`?root=`, or a socket
   * kept under one): its store directory is `<localRoot><storeDir>` on disk.
   */
  localRoot?: string;
  /** `name = value` settings to forward with SetOptions (only what the user overrode). */
  overrides?: Map<string, string>;
  /** Log lines from the daemon (build output, messages); default: written to stderr. */
  log?: (line: string) => void;
  /** Most connections open at once (default 4). */
  maxConnections?: number;
  /** Seconds the daemon has to answer the handshake (`connect-timeout`; 0: no limit). */
  connectTimeout?: number;
  /** What the daemon is to send of its messages, as a Nix level (SetOptions; default 3, info). */
  verbosity?: number;
  /** SetOptions' fixed fields (default: Nix's defaults, one job). */
  client?: DaemonClientOptions;
}

/** The build options SetOptions carries in fields of their own, as Nix 2.8's client fills them. */
export interface DaemonClientOptions {
  keepFailed: boolean;
  keepGoing: boolean;
  tryFallback: boolean;
  maxBuildJobs: number;
  maxSilentTime: number;
  buildCores: number;
  useSubstitutes: boolean;
}

const GC_ACTIONS = { returnLive: 0, returnDead: 1, deleteDead: 2, deleteSpecific: 3 } as const;

export class DaemonStore implements BuildingStore {
  readonly uri: string;
  readonly storeDir: string;
  /** The daemon's Unix socket, when it is a local daemon. */
  readonly socket: string | undefined;
  /** See DaemonStoreOptions.localRoot. */
  readonly localRoot: string | undefined;
  readonly #opts: DaemonStoreOptions;
  readonly #idle: DaemonConnection[] = [];
  readonly #all = new Set<DaemonConnection>();
  readonly #waiters: (() => void)[] = [];
  #closed = false;

  constructor(opts: DaemonStoreOptions) {
    this.#opts = opts;
    this.uri = opts.uri;
    this.storeDir = opts.storeDir ?? '/nix/store';
    this.socket = opts.socket;
    this.localRoot = opts.localRoot;
  }

  #log = (line: string): void => {
    if (this.#opts.log) this.#opts.log(line);
    else process.stderr.write(`${line}\n`);
  };

  async #open(): Promise<DaemonConnection> {
    const transport = await this.#opts.connect();
    const conn = new DaemonConnection(transport);
    try {
      await withHandshakeDeadline(conn.handshake(this.#log), {
        seconds: this.#opts.connectTimeout,
        close: () => transport.close(),
        uri: this.uri,
      });
      if (this.#opts.setOptions) await this.#setOptions(conn);
    } catch (e) {
      await transport.close().catch(() => {});
      throw explain(e, transport, 'connecting');
    }
    return conn;
  }

  async #setOptions(conn: DaemonConnection): Promise<void> {
    const o = this.#opts.client;
    conn.out.u64(WorkerOp.SetOptions);
    conn.out
      .bool(o?.keepFailed ?? false)
      .bool(o?.keepGoing ?? false)
      .bool(o?.tryFallback ?? false);
    conn.out.u64(this.#opts.verbosity ?? 3);
    conn.out.u64(o?.maxBuildJobs ?? 1).u64(o?.maxSilentTime ?? 0);
    conn.out.u64(1).u64(0).u64(0).u64(0); // useBuildHook, verboseBuild (lvlError), logType, printBuildTrace
    conn.out.u64(o?.buildCores ?? 0).bool(o?.useSubstitutes ?? true);
    if (conn.minor >= 12) conn.out.stringMap(this.#opts.overrides ?? new Map());
    await conn.flush();
    await conn.processStderr({ onLog: this.#log });
  }

  async #acquire(): Promise<DaemonConnection> {
    for (;;) {
      if (this.#closed) throw new StoreError('CLOSED', `store '${this.uri}' is closed`);
      const c = this.#idle.pop();
      if (c) return c;
      if (this.#all.size < (this.#opts.maxConnections ?? 4)) {
        const placeholder = new DaemonConnection({
          name: '',
          pull: async () => null,
          write: async () => {},
          close: async () => {},
        });
        this.#all.add(placeholder);
        try {
          const conn = await this.#open();
          this.#all.add(conn);
          return conn;
        } finally {
          this.#all.delete(placeholder);
        }
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #release(conn: DaemonConnection, ok: boolean): void {
    if (ok && !conn.broken && !this.#closed) this.#idle.push(conn);
    else {
      this.#all.delete(conn);
      void conn.transport.close().catch(() => {});
    }
    this.#waiters.shift()?.();
  }

  /**
   * One request on a pooled connection. After an error the daemon reported (STDERR_ERROR) the
   * connection is kept, as Nix does; after any other failure it is dropped.
   */
  async #request<T>(what: string, f: (c: DaemonConnection) => Promise<T>): Promise<T> {
    const conn = await this.#acquire();
    let ok = false;
    try {
      const r = await f(conn);
      ok = true;
      return r;
    } catch (e) {
      ok = e instanceof StoreError && e.code === 'REMOTE';
      throw explain(e, conn.transport, what);
    } finally {
      this.#release(conn, ok);
    }
  }

  /** Sends what was written to conn.out, then reads the stderr stream. */
  async #call(c: DaemonConnection): Promise<void> {
    await c.flush();
    await c.processStderr({ onLog: this.#log });
  }

  /** The daemon's version as its handshake gave it (protocol 1.33 on), after a round trip. */
  async version(): Promise<string | undefined> {
    return this.#request('connecting', async (c) => c.daemonNixVersion || undefined);
  }

  isValidPath(path: string): Promise<boolean> {
    return this.#request('IsValidPath', async (c) => {
      c.out.u64(WorkerOp.IsValidPath).string(path);
      await this.#call(c);
      return c.inp.bool();
    });
  }

  queryValidPaths(paths: Iterable<string>, opts: { substitute?: boolean } = {}): Promise<Set<string>> {
    return this.#request('QueryValidPaths', async (c) => {
      const list = sortedUniqueUtf8(paths);
      if (c.minor < 12) {
        const out = new Set<string>();
        for (const p of list) {
          c.out.u64(WorkerOp.IsValidPath).string(p);
          await this.#call(c);
          if (await c.inp.bool()) out.add(p);
        }
        return out;
      }
      c.out.u64(WorkerOp.QueryValidPaths).stringSet(list);
      if (c.minor >= 27) c.out.bool(opts.substitute ?? false);
      await this.#call(c);
      return new Set(await readStorePaths(c.inp, this.storeDir));
    });
  }

  queryPathInfo(path: string): Promise<ValidPathInfo | undefined> {
    return this.#request('QueryPathInfo', async (c) => {
      c.out.u64(WorkerOp.QueryPathInfo).string(path);
      if (c.minor < 17) {
        try {
          await this.#call(c);
        } catch (e) {
          if (e instanceof StoreError && e.code === 'REMOTE' && /is not valid/.test(e.message))
            return undefined;
          throw e;
        }
      } else {
        await this.#call(c);
        if (!(await c.inp.bool())) return undefined;
      }
      return readValidPathInfo(c.inp, c.minor, { storeDir: this.storeDir, path });
    });
  }

  queryReferrers(path: string): Promise<string[]> {
    return this.#request('QueryReferrers', async (c) => {
      c.out.u64(WorkerOp.QueryReferrers).string(path);
      await this.#call(c);
      return sortedUniqueUtf8(await readStorePaths(c.inp, this.storeDir));
    });
  }

  queryDerivationOutputMap(drvPath: string): Promise<Map<string, string>> {
    return this.#request('QueryDerivationOutputMap', async (c) => {
      c.out.u64(WorkerOp.QueryDerivationOutputMap).string(drvPath);
      await this.#call(c);
      const m = await c.inp.stringMap();
      return new Map([...m].filter(([, p]) => p !== ''));
    });
  }

  async *narFromPath(path: string): AsyncIterable<Uint8Array> {
    const conn = await this.#acquire();
    let ok = false;
    try {
      conn.out.u64(WorkerOp.NarFromPath).string(path);
      await this.#call(conn);
      for await (const chunk of conn.inp.narStream()) yield chunk;
      ok = true;
    } catch (e) {
      throw explain(e, conn.transport, 'NarFromPath');
    } finally {
      this.#release(conn, ok);
    }
  }

  addToStoreNar(
    info: ValidPathInfo,
    nar: AsyncIterable<Uint8Array>,
    opts: AddToStoreOptions = {},
  ): Promise<void> {
    return this.#request('AddToStoreNar', async (c) => {
      c.out.u64(WorkerOp.AddToStoreNar).string(info.path);
      writeValidPathInfo(c.out, info, 16, { keyed: false });
      c.out.bool(opts.repair ?? false).bool(!(opts.checkSigs ?? false));
      if (c.minor >= 23) return c.framedUpload(nar, { onLog: this.#log }, opts.pool);
      const it = nar[Symbol.asyncIterator]();
      if (c.minor >= 21) {
        await c.flush();
        return c.processStderr({ onLog: this.#log, source: async () => (await it.next()).value ?? null });
      }
      for (let r = await it.next(); !r.done; r = await it.next()) c.out.raw(r.value);
      await this.#call(c);
    });
  }

  async addMultipleToStore(
    items: Iterable<{ info: ValidPathInfo; nar: () => AsyncIterable<Uint8Array> }>,
    opts: AddToStoreOptions = {},
  ): Promise<void> {
    const list = [...items];
    const minor = await this.#request('handshake', async (c) => c.minor);
    if (minor < 32) {
      for (const { info, nar } of list) await this.addToStoreNar(info, nar(), opts);
      return;
    }
    await this.#request('AddMultipleToStore', async (c) => {
      c.out
        .u64(WorkerOp.AddMultipleToStore)
        .bool(opts.repair ?? false)
        .bool(!(opts.checkSigs ?? false));
      async function* payload(): AsyncGenerator<Uint8Array> {
        yield new WireWriter().u64(list.length).toBytes();
        for (const { info, nar } of list) {
          const w = new WireWriter();
          writeValidPathInfo(w, info, 16, { keyed: true });
          yield* w.takeChunks();
          yield* nar();
        }
      }
      await c.framedUpload(payload(), { onLog: this.#log }, opts.pool);
    });
  }

  addTextToStore(name: string, text: Uint8Array | string, references: string[]): Promise<string> {
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    return this.#request('AddTextToStore', async (c) => {
      if (c.minor >= 25) {
        c.out.u64(WorkerOp.AddToStore).string(name).string('text:sha256').stringSet(references).bool(false);
        await c.framedUpload(once(bytes), { onLog: this.#log });
        return (await readValidPathInfo(c.inp, c.minor, { storeDir: this.storeDir })).path;
      }
      c.out.u64(WorkerOp.AddTextToStore).string(name).bytes(bytes).stringSet(references);
      await this.#call(c);
      return c.inp.string();
    });
  }

  /** `nix-store --add`-style content-addressed import from a dump (NAR for recursive, bytes for flat). */
  addCaToStore(
    name: string,
    dump: AsyncIterable<Uint8Array>,
    opts: { method: 'flat' | 'recursive'; algo: string; references?: string[]; repair?: boolean },
  ): Promise<ValidPathInfo> {
    return this.#request('AddToStore', async (c) => {
      if (c.minor < 25)
        throw new StoreError('UNSUPPORTED', `daemon '${this.uri}' is too old for content-addressed imports`);
      const cam = `fixed:${opts.method === 'recursive' ? 'r:' : ''}${opts.algo}`;
      c.out
        .u64(WorkerOp.AddToStore)
        .string(name)
        .string(cam)
        .stringSet(opts.references ?? [])
        .bool(opts.repair ?? false);
      await c.framedUpload(dump, { onLog: this.#log });
      return readValidPathInfo(c.inp, c.minor, { storeDir: this.storeDir });
    });
  }

  #simple(op: number, what: string, arg?: string): Promise<void> {
    return this.#request(what, async (c) => {
      c.out.u64(op);
      if (arg !== undefined) c.out.string(arg);
      await this.#call(c);
      await c.inp.u64();
    });
  }

  addTempRoot(path: string): Promise<void> {
    return this.#simple(WorkerOp.AddTempRoot, 'AddTempRoot', path);
  }

  addIndirectRoot(linkPath: string): Promise<void> {
    return this.#simple(WorkerOp.AddIndirectRoot, 'AddIndirectRoot', linkPath);
  }

  /** Makes `path` valid (a daemon may substitute it); fails if it cannot. */
  ensurePath(path: string): Promise<void> {
    return this.#simple(WorkerOp.EnsurePath, 'EnsurePath', path);
  }

  async optimiseStore(): Promise<void> {
    return this.#simple(WorkerOp.OptimiseStore, 'OptimiseStore');
  }

  addSignatures(path: string, sigs: string[]): Promise<void> {
    return this.#request('AddSignatures', async (c) => {
      c.out.u64(WorkerOp.AddSignatures).string(path).stringSet(sigs);
      await this.#call(c);
      await c.inp.u64();
    });
  }

  queryAllValidPaths(): Promise<string[]> {
    return this.#request('QueryAllValidPaths', async (c) => {
      c.out.u64(WorkerOp.QueryAllValidPaths);
      await this.#call(c);
      return readStorePaths(c.inp, this.storeDir);
    });
  }

  queryPathFromHashPart(hashPart: string): Promise<string | undefined> {
    return this.#request('QueryPathFromHashPart', async (c) => {
      c.out.u64(WorkerOp.QueryPathFromHashPart).string(hashPart);
      await this.#call(c);
      return (await c.inp.string()) || undefined;
    });
  }

  findRoots(): Promise<Map<string, string>> {
    return this.#request('FindRoots', async (c) => {
      c.out.u64(WorkerOp.FindRoots);
      await this.#call(c);
      const n = await c.inp.u64();
      const m = new Map<string, string>();
      for (let i = 0; i < n; i++) m.set(await c.inp.string(), await c.inp.string());
      return m;
    });
  }

  collectGarbage(opts: {
    action: keyof typeof GC_ACTIONS;
    paths?: string[];
    maxFreed?: number;
    ignoreLiveness?: boolean;
  }): Promise<{ paths: string[]; bytesFreed: number }> {
    return this.#request('CollectGarbage', async (c) => {
      c.out
        .u64(WorkerOp.CollectGarbage)
        .u64(GC_ACTIONS[opts.action])
        .stringSet(opts.paths ?? []);
      c.out
        .bool(opts.ignoreLiveness ?? false)
        .u64(opts.maxFreed === undefined ? (1n << 64n) - 1n : opts.maxFreed);
      c.out.u64(0).u64(0).u64(0);
      await this.#call(c);
      const paths = await c.inp.strings();
      const bytesFreed = await c.inp.u64();
      await c.inp.u64();
      return { paths, bytesFreed };
    });
  }

  /** Where the build log of `drvPath` is, for a daemon on this machine (read-only). */
  buildLogPath(drvPath: string): string {
    if (this.#opts.logDir === undefined) {
      throw new StoreError('UNSUPPORTED', `store '${this.uri}' does not support build logs`);
    }
    return buildLogFile(this.#opts.logDir, this.storeDir, drvPath);
  }

  verifyStore(opts: {
    checkContents: boolean;
    repair: boolean;
    log?: (line: string, level: 'info' | 'error') => void;
  }): Promise<{ errors: string[] }> {
    return this.#request('VerifyStore', async (c) => {
      // What the daemon says while verifying is its report (lines as Nix 2.8 prints them), passed
      // on as it comes when the caller takes it, else returned as the errors. The daemon chose
      // them by the verbosity this client sent, so each is passed on as one to show ('error').
      const lines: string[] = [];
      c.out.u64(WorkerOp.VerifyStore).bool(opts.checkContents).bool(opts.repair);
      await c.flush();
      await c.processStderr({ onLog: (line) => (opts.log ? opts.log(line, 'error') : lines.push(line)) });
      if (!(await c.inp.bool())) {
        for (const l of lines) this.#log(l);
        return { errors: [] };
      }
      return { errors: lines.length > 0 ? lines : [`daemon '${this.uri}' reported store errors`] };
    });
  }

  /** What building `targets` would take (QueryMissing). */
  queryMissing(targets: DerivedPath[]) {
    return this.#request('QueryMissing', async (c) => {
      c.out.u64(WorkerOp.QueryMissing).strings(targets.map((t) => printDerivedPath(t, c.minor)));
      await this.#call(c);
      const willBuild = await readStorePaths(c.inp, this.storeDir);
      const willSubstitute = await readStorePaths(c.inp, this.storeDir);
      const unknown = await readStorePaths(c.inp, this.storeDir);
      return {
        willBuild,
        willSubstitute,
        unknown,
        downloadSize: await c.inp.u64(),
        narSize: await c.inp.u64(),
      };
    });
  }

  /** Builds `paths` on the daemon; one result per path (BuildPathsWithResults, or BuildPaths before 1.34). */
  buildPaths(
    paths: DerivedPath[],
    opts: { onLog?: (line: string) => void; mode?: BuildMode } = {},
  ): Promise<{ path: DerivedPath; result: BuildResult }[]> {
    const onLog = opts.onLog ?? this.#log;
    return this.#request('BuildPaths', async (c) => {
      if (c.minor >= 34) {
        c.out
          .u64(WorkerOp.BuildPathsWithResults)
          .strings(paths.map((p) => printDerivedPath(p, c.minor)))
          .u64(opts.mode ?? BuildMode.Normal);
        await c.flush();
        await c.processStderr({ onLog });
        const n = await c.inp.u64();
        const out: { path: DerivedPath; result: BuildResult }[] = [];
        for (let i = 0; i < n; i++) {
          const path = parseDerivedPath(await c.inp.string(), c.minor, this.storeDir);
          out.push({ path, result: await readBuildResult(c.inp, 29, this.storeDir) });
        }
        return out;
      }
      c.out.u64(WorkerOp.BuildPaths).strings(paths.map((p) => printDerivedPath(p, c.minor)));
      if (c.minor >= 15) c.out.u64(opts.mode ?? BuildMode.Normal);
      await c.flush();
      await c.processStderr({ onLog });
      await c.inp.u64();
      return paths.map((path) => ({ path, result: immediateResult(BuildStatus.Built) }));
    });
  }

  buildDerivation(
    drvPath: string,
    drv: BasicDerivation,
    opts: BuildOptions & { onLog?: (chunk: Uint8Array) => void },
  ): Promise<BuildResult> {
    const enc = new TextEncoder();
    const onLog = opts.onLog ? (line: string) => opts.onLog!(enc.encode(`${line}\n`)) : this.#log;
    return this.#request('BuildDerivation', async (c) => {
      c.out.u64(WorkerOp.BuildDerivation).string(drvPath);
      writeBasicDerivation(c.out, drv);
      c.out.u64(0);
      await c.flush();
      await c.processStderr({ onLog });
      return readBuildResult(c.inp, c.minor, this.storeDir);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w();
    await Promise.all([...this.#all].map((c) => c.transport.close().catch(() => {})));
    this.#all.clear();
    this.#idle.length = 0;
  }
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** A StoreError as is; a dead stream becomes a CONNECTION error naming the daemon. */
function explain(e: unknown, transport: DaemonTransport, what: string): unknown {
  if (e instanceof StoreError) return e;
  const early = transport.explainFailure?.();
  if (early) return early;
  const detail = e instanceof Error ? e.message : String(e);
  return new StoreError('CONNECTION', `${what} on daemon '${transport.name}' failed: ${detail}`, {
    cause: e,
  });
}
