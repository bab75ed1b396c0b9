import { createWriteStream, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { download } from '../../build/builtin-fetchurl.js';
import { BuildError } from '../../build/errors.js';
import { contentHash } from '../../build/outputs.js';
import { unpackTarball } from '../../eval/io-memory.js';
import { baseNameOf } from '../../eval/paths.js';
import { type HashAlgo, hashEquals, parseHash, parseHashAlgo, printHash } from '../../formats/hash.js';
import { makeFixedOutputPath } from '../../formats/store-path.js';
import { removeTreeSync } from '../../store/fs-util.js';
import { LocalStore } from '../../store/local.js';
import { flagSet, flagValue, parseArgs } from '../args.js';
import { CliError } from '../cli-error.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';

export const prefetchUrl: Command = {
  name: ['prefetch-url'],
  summary: 'download a file into the store and print its hash (like nix-prefetch-url)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {
      '--type': { arity: 1 },
      '--name': { arity: 1 },
      '--unpack': { arity: 0 },
      '--executable': { arity: 0 },
      '--print-path': { arity: 0 },
    });
    const [url, expected, ...rest] = args.positional;
    if (url === undefined || rest.length > 0)
      throw new UsageError("'tix prefetch-url' takes a URL and an optional hash");
    const algo: HashAlgo = parseHashAlgo(flagValue(args, '--type') ?? 'sha256');
    const unpack = flagSet(args, '--unpack');
    const method = unpack || flagSet(args, '--executable') ? 'recursive' : 'flat';
    // As Nix 2.8: the URL's base name as it is (not decoded, a query included).
    const name = flagValue(args, '--name') ?? baseNameOf(url);
    if (name === '') throw new UsageError(`cannot figure out the file name for '${url}'`);
    return withStore(ctx, async (store) => {
      if (!(store instanceof LocalStore))
        throw new CliError(
          'UNSUPPORTED',
          `store '${store.uri}' cannot take downloads here; use a local store`,
        );
      let path: string | undefined;
      let hash = expected === undefined ? undefined : parseHash(expected, { algo });
      // A path with the expected hash is used as it is (Nix 2.8 does not download it again).
      if (hash) {
        const known = makeFixedOutputPath(name, { method, hash }, { storeDir: store.storeDir });
        if (await store.isValidPath(known)) path = known;
      }
      if (path === undefined) {
        const tmp = mkdtempSync(join(tmpdir(), 'tix-prefetch-'));
        try {
          const file = join(tmp, 'download');
          try {
            await pipeline(
              await download(url),
              createWriteStream(file, { mode: flagSet(args, '--executable') ? 0o755 : 0o644 }),
            );
          } catch (e) {
            // Exit 1 as nix-prefetch-url does (a BuildError would make it 100).
            if (e instanceof BuildError) throw new CliError('FETCH', e.message);
            throw e;
          }
          let src = file;
          if (unpack) {
            const dir = join(tmp, 'unpacked');
            mkdirSync(dir);
            try {
              src = unpackTarball(file, dir);
            } catch (e) {
              throw new CliError(
                'BAD_INPUT',
                `cannot unpack '${url}': ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`,
              );
            }
          }
          // Checked before anything is added: a download of another hash leaves nothing behind.
          const got = contentHash(src, method, algo);
          if (hash && !hashEquals(hash, got)) {
            throw new CliError(
              'HASH_MISMATCH',
              `hash mismatch for '${url}': expected '${printHash(hash, 'nix32')}', got '${printHash(got, 'nix32')}'`,
            );
          }
          hash = got;
          path = store.addPathToStoreSync(src, { name, method, hashAlgo: algo }).path;
        } finally {
          removeTreeSync(tmp);
        }
      }
      if (!flagSet(args, '--print-path')) ctx.err.write(`path is '${path}'\n`);
      ctx.out.write(`${printHash(hash!, 'nix32')}\n`);
      if (flagSet(args, '--print-path')) ctx.out.write(`${path}\n`);
      return 0;
    });
  },
};
