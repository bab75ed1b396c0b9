// Compression of NARs in binary caches, streamed both ways: gzip and brotli with node:zlib, the
// others through the system tools (`xz`, `zstd`, `bzip2`, `lz4`, `lzip`) as filter processes, so a
// NAR is never held in memory whole. Method names and file extensions are those of Nix 2.8.
import { spawn } from 'node:child_process';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createBrotliCompress, createBrotliDecompress, createGunzip, createGzip } from 'node:zlib';
import { StoreError } from './errors.js';

/** Methods Nix 2.8 writes (and tix reads); "none" means the NAR as is. */
export const COMPRESSION_METHODS = ['none', 'xz', 'zstd', 'bzip2', 'gzip', 'br', 'lz4', 'lzip'] as const;
export type CompressionMethod = (typeof COMPRESSION_METHODS)[number];

const EXTENSIONS: Record<CompressionMethod, string> = {
  none: '',
  xz: '.xz',
  zstd: '.zst',
  bzip2: '.bz2',
  // Nix 2.8 gives gzip no extension (its name table lacks it), so `.nar` may be gzip-compressed.
  gzip: '',
  br: '.br',
  lz4: '.lz4',
  lzip: '.lzip',
};

/** The command (and its arguments) that decompresses / compresses each external method. */
const TOOLS: Partial<
  Record<
    CompressionMethod,
    { cmd: string; decompress: string[]; compress: (level: number, parallel: boolean) => string[] }
  >
> = {
  xz: {
    cmd: 'xz',
    decompress: ['-d', '-c', '-q'],
    compress: (l, p) => ['-c', '-q', `-${l < 0 ? 6 : l}`, p ? '-T0' : '-T1'],
  },
  zstd: {
    cmd: 'zstd',
    decompress: ['-d', '-c', '-q'],
    compress: (l, p) => ['-c', '-q', `-${l < 0 ? 3 : l}`, ...(p ? ['-T0'] : [])],
  },
  bzip2: { cmd: 'bzip2', decompress: ['-d', '-c', '-q'], compress: (l) => ['-c', '-q', `-${l < 0 ? 9 : l}`] },
  lz4: { cmd: 'lz4', decompress: ['-d', '-c', '-q'], compress: (l) => ['-c', '-q', `-${l < 0 ? 1 : l}`] },
  lzip: { cmd: 'lzip', decompress: ['-d', '-c', '-q'], compress: (l) => ['-c', '-q', `-${l < 0 ? 6 : l}`] },
};

export function isCompressionMethod(s: string): s is CompressionMethod {
  return (COMPRESSION_METHODS as readonly string[]).includes(s);
}

/** Throws StoreError('UNSUPPORTED') for a method tix does not know. */
export function checkCompressionMethod(s: string, where: string): CompressionMethod {
  if (!isCompressionMethod(s)) {
    throw new StoreError(
      'UNSUPPORTED',
      `${where}: unknown compression method '${s}' (known: ${COMPRESSION_METHODS.join(', ')})`,
    );
  }
  return s;
}

/** ".xz", ".zst", … or "" — what Nix appends to "nar/<filehash>.nar". */
export function narFileExtension(method: CompressionMethod): string {
  return EXTENSIONS[method];
}

export interface CompressOptions {
  /** -1 = the tool's default. */
  level?: number;
  /** Let xz/zstd use every core (Nix's `parallel-compression`). */
  parallel?: boolean;
}

/** Decompresses a stream compressed with `method`. Errors name `where` (e.g. the cache file). */
export function decompress(
  method: CompressionMethod,
  input: AsyncIterable<Uint8Array>,
  where: string,
): AsyncIterable<Uint8Array> {
  if (method === 'none') return input;
  if (method === 'gzip') return throughZlib(createGunzip(), input, `cannot decompress '${where}' (gzip)`);
  if (method === 'br')
    return throughZlib(createBrotliDecompress(), input, `cannot decompress '${where}' (br)`);
  const tool = TOOLS[method]!;
  return throughProcess(tool.cmd, tool.decompress, input, `cannot decompress '${where}' (${method})`);
}

/** Compresses a stream with `method`. */
export function compress(
  method: CompressionMethod,
  input: AsyncIterable<Uint8Array>,
  opts: CompressOptions = {},
): AsyncIterable<Uint8Array> {
  const level = opts.level ?? -1;
  if (method === 'none') return input;
  if (method === 'gzip')
    return throughZlib(createGzip(level < 0 ? {} : { level }), input, 'cannot compress with gzip');
  if (method === 'br') {
    const params = level < 0 ? {} : { [constants.BROTLI_PARAM_QUALITY]: level };
    return throughZlib(createBrotliCompress({ params }), input, 'cannot compress with br');
  }
  const tool = TOOLS[method]!;
  return throughProcess(
    tool.cmd,
    tool.compress(level, opts.parallel ?? false),
    input,
    `cannot compress with ${method}`,
  );
}

async function* throughZlib(
  t: Transform,
  input: AsyncIterable<Uint8Array>,
  what: string,
): AsyncGenerator<Uint8Array> {
  let failure: unknown;
  const pumping = pipeline(Readable.from(input, { objectMode: false }), t).catch((e) => {
    failure = e;
  });
  try {
    for await (const chunk of t) yield chunk as Buffer;
  } catch (e) {
    if (e instanceof StoreError) throw e;
    throw new StoreError('BAD_COMPRESSION', `${what}: ${(e as Error).message}`, { cause: e });
  } finally {
    t.destroy();
  }
  await pumping;
  if (failure) {
    if (failure instanceof StoreError) throw failure;
    throw new StoreError('BAD_COMPRESSION', `${what}: ${(failure as Error).message}`, { cause: failure });
  }
}

/**
 * Runs `cmd args` with `input` on its stdin and yields its stdout. A non-zero exit, a missing tool or
 * a failing input is a StoreError; stopping early kills the process.
 */
async function* throughProcess(
  cmd: string,
  args: string[],
  input: AsyncIterable<Uint8Array>,
  what: string,
): AsyncGenerator<Uint8Array> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: string | null; error?: Error }>((res) => {
    child.once('error', (error) => res({ code: null, signal: null, error }));
    child.once('close', (code, signal) => res({ code, signal }));
  });
  child.stdin.on('error', () => {}); // EPIPE when the tool stops reading; its exit status tells why.
  let inputError: unknown;
  const pumping = (async () => {
    try {
      for await (const chunk of input) {
        if (child.stdin.destroyed) return;
        if (!child.stdin.write(chunk)) {
          await new Promise<void>((res) => {
            const done = () => {
              child.stdin.off('drain', done);
              child.stdin.off('close', done);
              res();
            };
            child.stdin.on('drain', done);
            child.stdin.on('close', done);
          });
        }
      }
      child.stdin.end();
    } catch (e) {
      inputError = e;
      child.kill('SIGKILL');
    }
  })();
  let complete = false;
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    await pumping;
    const r = await exited;
    if (inputError) throw inputError;
    if (r.error) {
      const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new StoreError(
        'BAD_COMPRESSION',
        `${what}: ${missing ? `program '${cmd}' is not installed` : r.error.message}`,
        { cause: r.error },
      );
    }
    if (r.code !== 0) {
      const why =
        stderr.trim().split('\n').pop() || (r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`);
      throw new StoreError('BAD_COMPRESSION', `${what}: ${why}`);
    }
    complete = true;
  } finally {
    if (!complete && child.exitCode === null) child.kill('SIGKILL');
  }
}
