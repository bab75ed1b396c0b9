// `tix cache serve [--listen ADDR:PORT] [--port N] [--sign-key FILE]… [--compression none|xz|zstd]
// [--priority N]`: serves the store as an HTTP binary cache (like nix-serve) until SIGINT/SIGTERM.
// Prints "listening on http://ADDR:PORT" on stderr once ready.
import { resolve } from 'node:path';
import { type ServedCompression, startCacheServer } from '../../server/cache-server.js';
import { readSecretKeyFiles } from '../../store/binary-cache-open.js';
import { flagValue, flagValues, parseArgs } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';

function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):([0-9]+)$/.exec(text);
  if (!m) throw new UsageError(`invalid listen address '${text}': expected ADDR:PORT`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

export const cacheServe: Command = {
  name: ['cache', 'serve'],
  summary: 'serve the store as an HTTP binary cache (like nix-serve)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {
      '--listen': { arity: 1 },
      '--port': { arity: 1, aliases: ['-p'] },
      '--sign-key': { arity: 1 },
      '--compression': { arity: 1 },
      '--priority': { arity: 1 },
    });
    if (args.positional.length !== 0) throw new UsageError("'tix cache serve' takes no positional arguments");
    let { host, port } = parseListen(flagValue(args, '--listen') ?? '127.0.0.1:5000');
    const portFlag = flagValue(args, '--port');
    if (portFlag !== undefined) {
      if (!/^[0-9]+$/.test(portFlag) || Number(portFlag) > 65535)
        throw new UsageError(`invalid port '${portFlag}'`);
      port = Number(portFlag);
    }
    const compression = flagValue(args, '--compression') ?? 'none';
    if (!['none', 'xz', 'zstd'].includes(compression))
      throw new UsageError(`invalid compression '${compression}': expected none, xz or zstd`);
    const priority = flagValue(args, '--priority');
    if (priority !== undefined && !/^-?[0-9]+$/.test(priority))
      throw new UsageError(`invalid priority '${priority}'`);
    const signKeys = readSecretKeyFiles(flagValues(args, '--sign-key').map(([f]) => resolve(ctx.cwd, f!)));
    return withStore(ctx, async (store) => {
      const served = await startCacheServer(store, {
        host,
        port,
        signKeys,
        compression: compression as ServedCompression,
        priority: priority === undefined ? undefined : Number(priority),
        onError: (e) => ctx.err.write(`error: ${(e as Error).message}\n`),
      });
      ctx.err.write(`listening on ${served.url}\n`);
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          done();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await served.close();
      return 0;
    });
  },
};
