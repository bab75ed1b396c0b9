// file:// binary caches: a directory. Writes go to a temporary name inside the cache directory and
// are renamed into place, so readers (other processes, Nix) never see a partial file.
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CacheTransport } from './binary-cache-transport.js';
import { StoreError } from './errors.js';

function isNotFound(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export class FileCacheTransport implements CacheTransport {
  readonly uri: string;
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    this.uri = `file://${dir}`;
    mkdirSync(join(dir, 'nar'), { recursive: true });
  }

  async get(rel: string): Promise<Buffer | undefined> {
    try {
      return readFileSync(join(this.dir, rel));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw new StoreError('IO', `cannot read '${join(this.dir, rel)}': ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  async *getStream(rel: string): AsyncIterable<Uint8Array> {
    const file = join(this.dir, rel);
    try {
      yield* createReadStream(file, { highWaterMark: 1 << 20 });
    } catch (e) {
      if (isNotFound(e))
        throw new StoreError('INVALID_PATH', `file '${rel}' does not exist in binary cache '${this.uri}'`);
      throw new StoreError('IO', `cannot read '${file}': ${(e as Error).message}`, { cause: e });
    }
  }

  stagingFile(): string {
    return join(this.dir, 'nar', `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  async put(rel: string, data: Uint8Array | string): Promise<void> {
    const staged = join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    writeFileSync(staged, data);
    await this.putStaged(staged, rel);
  }

  async putStaged(staged: string, rel: string): Promise<void> {
    const target = join(this.dir, rel);
    try {
      mkdirSync(dirname(target), { recursive: true });
      renameSync(staged, target);
    } catch (e) {
      rmSync(staged, { force: true });
      throw new StoreError('IO', `cannot write '${target}': ${(e as Error).message}`, { cause: e });
    }
  }

  async close(): Promise<void> {}
}
