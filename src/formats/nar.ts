/**
 * NAR (Nix ARchive) streaming in both directions, plus in-memory helpers.
 * dumpNar: NarSource → bytes (nar-dump.ts); parseNar: bytes → NarSink (nar-parse.ts).
 */
import { dumpNar } from './nar-dump.js';
import type { NarFileWriter, NarSink, NarSource, NarSourceEntry } from './nar-types.js';

export { dumpNar } from './nar-dump.js';
export { type ParseNarOptions, parseNar, parseNarFrom } from './nar-parse.js';
export type { NarFileWriter, NarSink, NarSource, NarSourceEntry } from './nar-types.js';

/** A file-system object held in memory. */
export type NarTree =
  | { type: 'regular'; executable?: boolean; contents: Uint8Array | string }
  | { type: 'symlink'; target: string }
  | { type: 'directory'; entries: Record<string, NarTree> };

const enc = new TextEncoder();

function lookup(tree: NarTree, relPath: string): NarTree {
  let t = tree;
  if (relPath === '') return t;
  for (const part of relPath.split('/')) {
    const next = t.type === 'directory' && Object.hasOwn(t.entries, part) ? t.entries[part] : undefined;
    if (!next) throw new Error(`narSourceFromTree: no entry '${relPath}'`);
    t = next;
  }
  return t;
}

/** A NarSource over an in-memory tree. */
export function narSourceFromTree(tree: NarTree): NarSource {
  return {
    async stat(relPath: string): Promise<NarSourceEntry> {
      const t = lookup(tree, relPath);
      if (t.type === 'regular') {
        const bytes = typeof t.contents === 'string' ? enc.encode(t.contents) : t.contents;
        return {
          type: 'regular',
          executable: t.executable ?? false,
          size: bytes.length,
          contents: async function* () {
            if (bytes.length) yield bytes;
          },
        };
      }
      if (t.type === 'symlink') return { type: 'symlink', target: t.target };
      return { type: 'directory', entries: async () => Object.keys(t.entries) };
    },
  };
}

/** Concatenates a byte stream. */
export async function collectBytes(input: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of input) {
    parts.push(c.slice());
    n += c.length;
  }
  return concatBytes(parts, n);
}

function concatBytes(parts: Uint8Array[], n = parts.reduce((s, p) => s + p.length, 0)): Uint8Array {
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The NAR of an in-memory tree. */
export function narFromBytesTree(tree: NarTree): Promise<Uint8Array> {
  return collectBytes(dumpNar(narSourceFromTree(tree)));
}

/** A NarSink that rebuilds the tree in memory; `root()` returns it after parsing. */
export function narTreeSink(): NarSink & { root(): NarTree } {
  let root: NarTree | undefined;
  const place = (relPath: string, t: NarTree): void => {
    if (relPath === '') {
      root = t;
      return;
    }
    const cut = relPath.lastIndexOf('/');
    const parent = root ? lookup(root, cut < 0 ? '' : relPath.slice(0, cut)) : undefined;
    if (parent?.type !== 'directory') throw new Error(`narTreeSink: no parent directory for '${relPath}'`);
    parent.entries[relPath.slice(cut + 1)] = t;
  };
  return {
    directory(relPath) {
      place(relPath, { type: 'directory', entries: Object.create(null) });
    },
    symlink(relPath, target) {
      place(relPath, { type: 'symlink', target });
    },
    regular(relPath, executable): NarFileWriter {
      const parts: Uint8Array[] = [];
      return {
        write(chunk) {
          parts.push(chunk.slice());
        },
        close() {
          place(relPath, { type: 'regular', executable, contents: concatBytes(parts) });
        },
      };
    },
    root() {
      if (!root) throw new Error('narTreeSink: nothing was parsed');
      return root;
    },
  };
}

/** A NarSink that discards everything (validation, hashing or skipping only). */
export const nullNarSink: NarSink = {
  directory() {},
  symlink() {},
  regular: () => ({ write() {}, close() {} }),
};
