// Starts an executable from the bundle (dist/bin/tix.cjs, see scripts/bundle.mjs) with a V8 code
// cache, so that a start does not parse and compile the bundle's code again: bin/tix, bin/tix-store
// and bin/tix-daemon load this file (as dist/bin/start.cjs) when the bundle is newer than tsc's
// output. Each executable has its cache file beside the bundle. A cache is used only for the very
// bundle file it was made from, and V8 itself rejects one made by another V8 or under other flags;
// a run rewrites its executable's cache (at exit) when there was none to use, or when it ran a
// command whose code the cache does not hold yet.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** What the bundle (src/cli/bundle.ts) exports to this loader. */
export interface BundleExports {
  run(exe: string, argv: string[]): Promise<void>;
  /** Names the code a run of `exe` with `argv` uses; one of a few fixed names. */
  cacheKey(exe: string, argv: string[]): string;
  /** The bundle's src/glue/store-io.ts. */
  storeIO(): Promise<unknown>;
  /** The bundle's src/glue/store-io-remote.ts. */
  storeIORemote(): Promise<unknown>;
}

export interface StartOptions {
  /** The bundle: a CommonJS file. */
  bundle: string;
  /** Its code cache for this executable (need not exist; written when missing or outdated). */
  cache: string;
  exe: string;
  argv: string[];
}

interface CacheHeader {
  /** The bundle file and the Node build the cache was made for (see bundleId). */
  id: string;
  /** cacheKey of the runs whose code the cache holds. */
  keys: string[];
}

/**
 * The identity of the bundle file: V8 compares a cache with its source only by the source's
 * length, so a cache must never be used for a rebuilt bundle, even one of the same size.
 */
function bundleId(st: fs.Stats): string {
  return JSON.stringify([st.dev, st.ino, st.size, st.mtimeMs, process.version, process.arch]);
}

/** A cache file: the header's length (4 bytes, little-endian), the header (JSON), V8's data. */
function readCache(file: string): { header: CacheHeader; data: Buffer } | undefined {
  try {
    const buf = fs.readFileSync(file);
    const n = buf.readUInt32LE(0);
    const header = JSON.parse(buf.subarray(4, 4 + n).toString()) as CacheHeader;
    if (typeof header.id !== 'string' || !Array.isArray(header.keys)) return undefined;
    return { header, data: buf.subarray(4 + n) };
  } catch {
    return undefined;
  }
}

function writeCache(file: string, header: CacheHeader, data: Buffer): void {
  const head = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  // Written aside and renamed: runs that start meanwhile see the old cache or the new one, whole.
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, Buffer.concat([len, head, data]));
    fs.renameSync(tmp, file);
  } catch {
    // A read-only installation or a full disk: later runs start without a cache, as this one did.
    fs.rmSync(tmp, { force: true });
  }
}

let probes = 0;

/**
 * Tells whether V8's flags are still those of the moment this was called. V8 rejects cached code
 * made under other flags, and flags change during a run (evaluation turns allocation-site
 * pretenuring off, see src/eval/run.ts): a cache made after that would be rejected by every later
 * run. The answer comes from compiling a tiny script with a cache made now, under a new name each
 * time so that V8's in-memory compilation cache does not answer instead.
 */
function flagsProbe(): () => boolean {
  const cachedData = new vm.Script('0', { filename: `tix-flags-probe-${probes++}` }).createCachedData();
  return () =>
    !new vm.Script('0', { filename: `tix-flags-probe-${probes++}`, cachedData }).cachedDataRejected;
}

/** At exit, writes the code compiled so far (the cache's, and what this run compiled) to `file`. */
function saveAtExit(script: vm.Script, file: string, header: CacheHeader, require: NodeJS.Require): void {
  const sameFlags = flagsProbe();
  process.once('exit', () => {
    if (!sameFlags()) {
      // The one flag tix changes, back to V8's default for the cache; nothing runs after this.
      (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--allocation-site-pretenuring');
      if (!sameFlags()) return;
    }
    try {
      fs.accessSync(path.dirname(file), fs.constants.W_OK);
    } catch {
      return;
    }
    writeCache(file, header, script.createCachedData());
  });
}

/** Loads the bundle (with its cache when that is valid) and runs the executable. */
export function startBundle(o: StartOptions): Promise<void> {
  // The identity and the text of one and the same file, should the bundle be replaced meanwhile.
  const fd = fs.openSync(o.bundle, 'r');
  let id: string;
  let source: string;
  try {
    id = bundleId(fs.fstatSync(fd));
    // The bundle is ASCII (scripts/bundle.mjs makes it so): as Latin-1 it is read without the
    // UTF-8 decoding, 2 ms sooner at every start.
    source = fs.readFileSync(fd, 'latin1');
  } finally {
    fs.closeSync(fd);
  }
  const cached = readCache(o.cache);
  const usable = cached?.header.id === id ? cached : undefined;
  // CommonJS's own wrapper, on the first line so that line numbers stay the file's.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: o.bundle,
    // No importModuleDynamically: in Node 20, import() fails in code from a code cache anyway,
    // so the bundle has none (scripts/bundle.mjs checks) and imports through import-module.cjs.
    cachedData: usable?.data,
  });
  const module = { exports: {} as BundleExports };
  const init = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: object,
    filename: string,
    dirname: string,
  ) => void;
  const require = createRequire(o.bundle);
  init(module.exports, require, module, o.bundle, path.dirname(o.bundle));
  const bundle = module.exports;
  const key = bundle.cacheKey(o.exe, o.argv);
  const keys = usable && !script.cachedDataRejected ? usable.header.keys : [];
  if (!keys.includes(key)) saveAtExit(script, o.cache, { id, keys: [...keys, key] }, require);
  return bundle.run(o.exe, o.argv);
}
