// Synchronous NAR serialisation of a file-system path into a sink, with an optional filter (for
// builtins.path / filterSource). Used by the file-system EvalIO to hash sources without a store.
import * as fs from 'node:fs';
import { compareBytes, encodeStr, FRAMED, padded, putU64 } from '../formats/nar-tokens.js';
import { NixEvalError } from './errors.js';
import type { FileType, PathFilter } from './io.js';

export interface ByteSink {
  update(chunk: Uint8Array): void;
}

const PAD = new Uint8Array(8);

export function lstatType(st: fs.Stats): FileType {
  if (st.isFile()) return 'regular';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  return 'unknown';
}

/** A file's contents or a link target as a NAR string: its length, the bytes, zero padding. */
function bytes(sink: ByteSink, b: Uint8Array): void {
  const len = new Uint8Array(8);
  putU64(len, 0, b.length);
  sink.update(len);
  sink.update(b);
  const pad = padded(b.length) - b.length;
  if (pad) sink.update(PAD.subarray(0, pad));
}

/** The NAR of `path` (entries `filter` rejects left out), written to `sink`. */
export function dumpPathSync(path: string, sink: ByteSink, filter?: PathFilter): void {
  sink.update(FRAMED.magic);
  const node = (p: string): void => {
    const st = fs.lstatSync(p);
    if (st.isFile()) {
      // The framed tokens end with `contents`; the contents follow as one string.
      sink.update(st.mode & 0o100 ? FRAMED.executable : FRAMED.regular);
      bytes(sink, fs.readFileSync(p));
    } else if (st.isSymbolicLink()) {
      sink.update(FRAMED.symlink);
      bytes(sink, fs.readlinkSync(p, { encoding: 'buffer' }));
    } else if (st.isDirectory()) {
      sink.update(FRAMED.directory);
      const names = fs
        .readdirSync(p, { encoding: 'buffer' })
        .sort(compareBytes)
        .map((n) => n.toString());
      for (const name of names) {
        const child = `${p}/${name}`;
        if (filter && !filter(child, lstatType(fs.lstatSync(child)))) continue;
        sink.update(FRAMED.entry);
        sink.update(encodeStr(name));
        sink.update(FRAMED.node);
        node(child);
        sink.update(FRAMED.close);
      }
    } else throw new NixEvalError('IO', `file '${p}' has an unsupported type`);
    sink.update(FRAMED.close);
  };
  node(path);
}

/** Copies a path (filtered) to `dest`, which must not exist, keeping executable bits and symlinks. */
export function copyPathSync(src: string, dest: string, filter?: PathFilter): void {
  const st = fs.lstatSync(src);
  if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), dest);
  else if (st.isFile()) {
    fs.copyFileSync(src, dest);
    fs.chmodSync(dest, st.mode & 0o100 ? 0o555 : 0o444);
  } else if (st.isDirectory()) {
    fs.mkdirSync(dest);
    for (const name of fs.readdirSync(src)) {
      const child = `${src}/${name}`;
      if (filter && !filter(child, lstatType(fs.lstatSync(child)))) continue;
      copyPathSync(child, `${dest}/${name}`, filter);
    }
    fs.chmodSync(dest, 0o555);
  }
}
