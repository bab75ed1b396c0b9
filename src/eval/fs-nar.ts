// Synchronous NAR serialisation of a file-system path into a sink, with an optional filter (for
// builtins.path / filterSource). Used by the file-system EvalIO to hash sources without a store.
import * as fs from 'node:fs';
import type { FileType, PathFilter } from './io.js';

export interface ByteSink {
  update(chunk: Uint8Array): void;
}

const PAD = new Uint8Array(8);

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

function str(sink: ByteSink, s: Uint8Array | string): void {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  sink.update(u64(b.length));
  sink.update(b);
  const pad = (8 - (b.length % 8)) % 8;
  if (pad) sink.update(PAD.subarray(0, pad));
}

export function lstatType(st: fs.Stats): FileType {
  if (st.isFile()) return 'regular';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  return 'unknown';
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function dumpPathSync(path: string, sink: ByteSink, filter?: PathFilter): void {
  str(sink, 'nix-archive-1');
  const node = (p: string): void => {
    const st = fs.lstatSync(p);
    str(sink, '(');
    str(sink, 'type');
    if (st.isFile()) {
      str(sink, 'regular');
      if (st.mode & 0o100) {
        str(sink, 'executable');
        str(sink, '');
      }
      str(sink, 'contents');
      str(sink, fs.readFileSync(p));
    } else if (st.isSymbolicLink()) {
      str(sink, 'symlink');
      str(sink, 'target');
      str(sink, fs.readlinkSync(p, { encoding: 'buffer' }));
    } else if (st.isDirectory()) {
      str(sink, 'directory');
      const names = fs.readdirSync(p).sort(byteCompare);
      for (const name of names) {
        const child = `${p}/${name}`;
        if (filter && !filter(child, lstatType(fs.lstatSync(child)))) continue;
        str(sink, 'entry');
        str(sink, '(');
        str(sink, 'name');
        str(sink, name);
        str(sink, 'node');
        node(child);
        str(sink, ')');
      }
    } else throw new Error(`file '${p}' has an unsupported type`);
    str(sink, ')');
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
