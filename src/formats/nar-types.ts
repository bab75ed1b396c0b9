/** What a NAR is made from: a file-system view, addressed by relative path ("" = root, "a/b" below). */
export type NarSourceEntry =
  | {
      type: 'regular';
      executable: boolean;
      size: number;
      /** Exactly `size` bytes, in fresh chunks the dumper may pass on without copying. */
      contents: () => AsyncIterable<Uint8Array>;
    }
  | { type: 'symlink'; target: string }
  | { type: 'directory'; entries: () => Promise<string[]> };

export interface NarSource {
  stat(relPath: string): Promise<NarSourceEntry>;
}

/** Receives the contents of one regular file. */
export interface NarFileWriter {
  write(chunk: Uint8Array): void | Promise<void>;
  close(): void | Promise<void>;
}

/**
 * What a parsed NAR is replayed into, in NAR order (parents before children, entries sorted).
 * Chunks passed to `write` are views of the input, whose producer never reuses their memory
 * (ByteReader's rule): a writer may keep them until its `close()` has settled.
 */
export interface NarSink {
  directory(relPath: string): void | Promise<void>;
  regular(relPath: string, executable: boolean, size: number): NarFileWriter | Promise<NarFileWriter>;
  symlink(relPath: string, target: string): void | Promise<void>;
}
