import { FormatError } from './errors.js';
import { compareBytes, FRAMED, padded, putU64 } from './nar-tokens.js';
import type { NarSource } from './nar-types.js';

/** Size of the chunks small tokens and small file pieces are gathered into. */
const CHUNK = 256 * 1024;
/** File chunks at least this big are passed on as they are, without copying. */
const PASS_THROUGH = 64 * 1024;
const ZEROS = new Uint8Array(8);
const enc = new TextEncoder();

/** Gathers small writes into CHUNK-sized buffers; completed buffers wait in `ready`. */
class Gather {
  private buf = new Uint8Array(CHUNK);
  private pos = 0;
  ready: Uint8Array[] = [];

  write(b: Uint8Array): void {
    let from = 0;
    while (from < b.length) {
      const n = Math.min(b.length - from, CHUNK - this.pos);
      this.buf.set(n === b.length ? b : b.subarray(from, from + n), this.pos);
      this.pos += n;
      from += n;
      if (this.pos === CHUNK) this.flush();
    }
  }

  u64(n: number): void {
    if (CHUNK - this.pos < 8) this.flush();
    putU64(this.buf, this.pos, n);
    this.pos += 8;
  }

  str(b: Uint8Array): void {
    this.u64(b.length);
    this.write(b);
    this.pad(b.length);
  }

  pad(len: number): void {
    const n = padded(len) - len;
    if (n) this.write(ZEROS.subarray(0, n));
  }

  /** Passes `b` on as its own chunk, after what is gathered so far. */
  pass(b: Uint8Array): void {
    this.flush();
    this.ready.push(b);
  }

  flush(): void {
    if (this.pos === 0) return;
    this.ready.push(this.buf.subarray(0, this.pos));
    this.buf = new Uint8Array(CHUNK);
    this.pos = 0;
  }

  take(): Uint8Array[] {
    const r = this.ready;
    this.ready = [];
    return r;
  }
}

function fail(path: string, detail: string): FormatError {
  return new FormatError('BAD_NAR', `cannot dump '${path === '' ? '.' : path}': ${detail}`);
}

function checkName(path: string, name: string, bytes: Uint8Array): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw fail(path, `invalid file name '${name}'`);
  }
  if (bytes.length > 255) throw fail(path, `file name '${name}' is longer than 255 bytes`);
}

async function* dumpNode(source: NarSource, path: string, g: Gather): AsyncGenerator<Uint8Array> {
  const st = await source.stat(path);
  if (st.type === 'regular') {
    const size = st.size;
    if (!Number.isSafeInteger(size) || size < 0) throw fail(path, `invalid file size ${size}`);
    g.write(st.executable ? FRAMED.executable : FRAMED.regular);
    g.u64(size);
    let seen = 0;
    for await (const chunk of st.contents()) {
      seen += chunk.length;
      if (seen > size) throw fail(path, `file grew beyond its stated size ${size}`);
      if (chunk.length >= PASS_THROUGH) g.pass(chunk);
      else g.write(chunk);
      if (g.ready.length) yield* g.take();
    }
    if (seen !== size) throw fail(path, `file has ${seen} bytes, expected ${size}`);
    g.pad(size);
    g.write(FRAMED.close);
  } else if (st.type === 'symlink') {
    g.write(FRAMED.symlink);
    g.str(enc.encode(st.target));
    g.write(FRAMED.close);
  } else if (st.type === 'directory') {
    g.write(FRAMED.directory);
    const names = (await st.entries()).map((name) => ({ name, bytes: enc.encode(name) }));
    names.sort((a, b) => compareBytes(a.bytes, b.bytes));
    for (let i = 0; i < names.length; i++) {
      const { name, bytes } = names[i]!;
      checkName(path, name, bytes);
      if (i > 0 && compareBytes(names[i - 1]!.bytes, bytes) === 0)
        throw fail(path, `duplicate entry '${name}'`);
      g.write(FRAMED.entry);
      g.str(bytes);
      g.write(FRAMED.node);
      yield* dumpNode(source, path === '' ? name : `${path}/${name}`, g);
      g.write(FRAMED.close);
    }
    g.write(FRAMED.close);
  } else {
    throw fail(path, `unsupported file type '${(st as { type: string }).type}'`);
  }
  if (g.ready.length) yield* g.take();
}

/**
 * Serialises `source` as a NAR, byte-identical to `nix-store --dump`: directory entries
 * sorted by UTF-8 bytes, only the executable bit kept. Small tokens are gathered into
 * 256 KiB chunks; file chunks of 64 KiB or more are passed through without copying.
 * Throws FormatError('BAD_NAR') if a file's contents disagree with its stated size.
 */
export async function* dumpNar(source: NarSource): AsyncGenerator<Uint8Array> {
  const g = new Gather();
  g.write(FRAMED.magic);
  yield* dumpNode(source, '', g);
  g.flush();
  yield* g.take();
}
