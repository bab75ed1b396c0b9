// `tix hash path` / `tix hash file` = Nix 2.8's `nix hash path` / `nix hash file`: the hash of a
// path's NAR serialisation, or of a file's contents; SRI by default.
import { createReadStream, lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type Hash,
  type HashAlgo,
  type HashEncoding,
  HashSink,
  parseHashAlgo,
  printHash,
} from '../../formats/hash.js';
import { BufferPool } from '../../store/buffer-pool.js';
import { BIG_CHUNK, dumpPath } from '../../store/nar-dump-disk.js';
import { flagSet, flagValue, type ParsedArgs, parseArgs } from '../args.js';
import { sysError } from '../cli-error.js';
import { type Command, UsageError } from '../command.js';

const ENCODING_FLAGS = {
  '--base16': { arity: 0 },
  '--base32': { arity: 0 },
  '--base64': { arity: 0 },
  '--sri': { arity: 0 },
  '--type': { arity: 1 },
};

/** The encoding chosen by --base16/--base32/--base64/--sri (the last one given wins), SRI by default. */
export function hashEncodingFlag(args: ParsedArgs): HashEncoding {
  const chosen = Object.keys(ENCODING_FLAGS).filter((f) => f !== '--type' && flagSet(args, f));
  if (chosen.length > 1) throw new UsageError(`flags ${chosen.map((f) => `'${f}'`).join(', ')} conflict`);
  const f = chosen[0];
  return f === '--base16' ? 'base16' : f === '--base32' ? 'nix32' : f === '--base64' ? 'base64' : 'sri';
}

/** The NAR hash (`mode` 'path') or content hash ('file') of a file-system path. */
export async function hashFsPath(path: string, algo: HashAlgo, mode: 'path' | 'file'): Promise<Hash> {
  try {
    lstatSync(path);
  } catch (e) {
    // Nix 2.8's words: `nix hash file` opens the file, `nix hash path` looks at it first.
    throw sysError(mode === 'file' ? `opening file '${path}'` : `getting status of '${path}'`, e);
  }
  const sink = new HashSink(algo);
  // Hashing is done with a chunk as soon as update returns, so big files reuse a few buffers.
  const pool = new BufferPool(BIG_CHUNK);
  const input = mode === 'path' ? dumpPath(path, { pool }) : createReadStream(path);
  try {
    for await (const chunk of input) {
      sink.update(chunk as Uint8Array);
      pool.give(chunk as Uint8Array);
    }
  } catch (e) {
    throw sysError(`reading '${path}'`, e);
  }
  return sink.finish();
}

function hashCommand(mode: 'path' | 'file'): Command {
  return {
    name: ['hash', mode],
    summary:
      mode === 'path'
        ? "print the hash of a path's NAR serialisation (like nix hash path)"
        : "print the hash of a file's contents (like nix hash file)",
    async run(argv, ctx) {
      const args = parseArgs(argv, ENCODING_FLAGS);
      const enc = hashEncodingFlag(args);
      const algo = parseHashAlgo(flagValue(args, '--type') ?? 'sha256');
      for (const p of args.positional) {
        const h = await hashFsPath(resolve(ctx.cwd, p), algo, mode);
        ctx.out.write(`${printHash(h, enc)}\n`);
      }
      return 0;
    },
  };
}

export const hashPath = hashCommand('path');
export const hashFile = hashCommand('file');
