import { type ByteInput, ByteReader } from './byte-reader.js';
import { FormatError } from './errors.js';
import { compareBytes, NAR_MAGIC, TAG } from './nar-tokens.js';
import type { NarSink } from './nar-types.js';

/** Longest tag, file name and symlink target accepted (tags are <= 10 bytes; NAME_MAX; PATH_MAX - 1). */
const MAX_TAG = 32;
const MAX_NAME = 255;
const MAX_TARGET = 4095;

export interface ParseNarOptions {
  /** Deepest directory nesting accepted (Nix 2.8 has no limit; this bounds memory). Default 1024. */
  maxDepth?: number;
  /** Accept bytes after the end of the NAR (left unread). Default false. */
  allowTrailing?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossy = new TextDecoder('utf-8', { ignoreBOM: true });

function show(b: Uint8Array): string {
  const s = lossy.decode(b.subarray(0, 64));
  return b.length > 64 ? `${s}…` : s;
}

function isTag(b: Uint8Array, tag: Uint8Array): boolean {
  if (b.length !== tag.length) return false;
  for (let i = 0; i < b.length; i++) if (b[i] !== tag[i]) return false;
  return true;
}

interface Ctx {
  r: ByteReader;
  sink: NarSink;
  maxDepth: number;
}

/** A padded string of at most `max` bytes; returns a view (valid until the next read). */
async function str(r: ByteReader, max: number, what: string): Promise<Uint8Array> {
  const at = r.position;
  const len = r.u64Sync() ?? (await r.u64());
  if (len > max) throw r.fail(`${what} is too long (${len} bytes)`, at);
  const padded = (len + 7) & ~7;
  const b = r.readSync(padded) ?? (await r.readExact(padded));
  for (let i = len; i < padded; i++) if (b[i] !== 0) throw r.fail('non-zero padding', at + 8 + i);
  return b.subarray(0, len);
}

async function expectTag(r: ByteReader, tag: Uint8Array, name: string): Promise<void> {
  const at = r.position;
  const got = await str(r, MAX_TAG, `tag (expected '${name}')`);
  if (!isTag(got, tag)) throw r.fail(`expected tag '${name}', got '${show(got)}'`, at);
}

function decode(r: ByteReader, b: Uint8Array, what: string, at: number): string {
  try {
    return utf8.decode(b);
  } catch {
    throw r.fail(`${what} '${show(b)}' is not valid UTF-8`, at);
  }
}

function checkName(r: ByteReader, name: Uint8Array, at: number): void {
  let bad =
    name.length === 0 || (name[0] === 0x2e && (name.length === 1 || (name.length === 2 && name[1] === 0x2e)));
  for (let i = 0; !bad && i < name.length; i++) bad = name[i] === 0x2f || name[i] === 0;
  if (bad) throw r.fail(`NAR contains invalid file name '${show(name)}'`, at);
}

async function regular(ctx: Ctx, path: string): Promise<void> {
  const { r } = ctx;
  let at = r.position;
  let tag = await str(r, MAX_TAG, "tag (expected 'contents')");
  let executable = false;
  if (isTag(tag, TAG.executable)) {
    const markAt = r.position;
    const mark = await str(r, MAX_TAG, 'executable marker');
    if (mark.length !== 0) throw r.fail('executable marker has non-empty value', markAt);
    executable = true;
    at = r.position;
    tag = await str(r, MAX_TAG, "tag (expected 'contents')");
  }
  if (!isTag(tag, TAG.contents)) throw r.fail(`expected tag 'contents', got '${show(tag)}'`, at);
  const size = await r.u64();
  const file = await ctx.sink.regular(path, executable, size);
  const whole = r.readSync(size);
  if (whole) {
    await file.write(whole);
  } else {
    for await (const chunk of r.stream(size)) await file.write(chunk);
  }
  await r.padding(size);
  await file.close();
  await expectTag(r, TAG.close, ')');
}

async function directory(ctx: Ctx, path: string, depth: number): Promise<void> {
  const { r } = ctx;
  if (depth >= ctx.maxDepth) throw r.fail(`directory nesting exceeds maximum depth of ${ctx.maxDepth}`);
  await ctx.sink.directory(path);
  let prev: Uint8Array | undefined;
  for (;;) {
    const at = r.position;
    const tag = await str(r, MAX_TAG, "tag (expected 'entry' or ')')");
    if (isTag(tag, TAG.close)) return;
    if (!isTag(tag, TAG.entry)) throw r.fail(`expected tag 'entry' or ')', got '${show(tag)}'`, at);
    await expectTag(r, TAG.open, '(');
    await expectTag(r, TAG.name, 'name');
    const nameAt = r.position;
    const name = (await str(r, MAX_NAME, 'file name')).slice();
    checkName(r, name, nameAt);
    if (prev !== undefined) {
      const c = compareBytes(prev, name);
      if (c === 0) throw r.fail(`NAR directory contains duplicate name '${show(name)}'`, nameAt);
      if (c > 0) throw r.fail(`NAR directory is not sorted ('${show(name)}' after '${show(prev)}')`, nameAt);
    }
    prev = name;
    const decoded = decode(r, name, 'file name', nameAt);
    await expectTag(r, TAG.node, 'node');
    await node(ctx, path === '' ? decoded : `${path}/${decoded}`, depth + 1);
    await expectTag(r, TAG.close, ')');
  }
}

async function symlink(ctx: Ctx, path: string): Promise<void> {
  const { r } = ctx;
  await expectTag(r, TAG.target, 'target');
  const at = r.position;
  const target = await str(r, MAX_TARGET, 'symlink target');
  if (target.length === 0 || target.includes(0))
    throw r.fail(`NAR contains invalid symlink target '${show(target)}'`, at);
  await ctx.sink.symlink(path, decode(r, target, 'symlink target', at));
  await expectTag(r, TAG.close, ')');
}

async function node(ctx: Ctx, path: string, depth: number): Promise<void> {
  const { r } = ctx;
  await expectTag(r, TAG.open, '(');
  await expectTag(r, TAG.type, 'type');
  const at = r.position;
  const type = await str(r, MAX_TAG, 'file type');
  if (isTag(type, TAG.regular)) return regular(ctx, path);
  if (isTag(type, TAG.directory)) return directory(ctx, path, depth);
  if (isTag(type, TAG.symlink)) return symlink(ctx, path);
  throw r.fail(`unknown file type '${show(type)}'`, at);
}

/**
 * Parses one NAR from `r`, consuming exactly its bytes, and replays it into `sink`.
 * Used by wire readers where the NAR is followed by more protocol data.
 */
export async function parseNarFrom(
  r: ByteReader,
  sink: NarSink,
  opts: ParseNarOptions = {},
): Promise<{ narSize: number }> {
  const saved = [r.code, r.what] as const;
  r.code = 'BAD_NAR';
  r.what = 'NAR';
  try {
    const start = r.position;
    let magic: Uint8Array | undefined;
    try {
      magic = await str(r, NAR_MAGIC.length, 'NAR magic');
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
    }
    if (!magic || !isTag(magic, NAR_MAGIC)) throw r.fail("input doesn't look like a Nix archive", start);
    await node({ r, sink, maxDepth: opts.maxDepth ?? 1024 }, '', 0);
    return { narSize: r.position - start };
  } finally {
    [r.code, r.what] = saved;
  }
}

/**
 * Parses a whole NAR stream into `sink`, validating tags, names ('', '.', '..', '/', NUL),
 * byte-wise sort order and uniqueness, zero padding and completeness.
 * Throws FormatError('BAD_NAR', '… at byte N').
 */
export async function parseNar(
  input: ByteInput,
  sink: NarSink,
  opts: ParseNarOptions = {},
): Promise<{ narSize: number }> {
  const r = new ByteReader(input, 'BAD_NAR', 'NAR');
  let ok = false;
  try {
    const res = await parseNarFrom(r, sink, opts);
    if (!opts.allowTrailing && !(await r.atEnd())) throw r.fail('trailing data after the end of the NAR');
    ok = true;
    return res;
  } finally {
    // Release the producer (e.g. close a file) when parsing stops before its end.
    if (!ok) await r.close().catch(() => {});
  }
}
