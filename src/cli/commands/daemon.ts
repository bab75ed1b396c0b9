// `tix daemon [--listen PATH] [--stdio]` = `nix-daemon`: serves the store over the worker protocol
// on a Unix socket (default `<stateDir>/daemon-socket/socket` of the store, e.g.
// `~/.local/share/tix/root/nix/var/tix/daemon-socket/socket`), or to one client on stdin/stdout.
// Runs until SIGINT/SIGTERM.

import { startDaemonServer } from '../../server/daemon-server.js';
import { peerCredAvailable } from '../../server/peercred.js';
import { flagSet, flagValue, parseArgs } from '../args.js';
import { CliError } from '../cli-error.js';
import { cliSettings } from '../cli-settings.js';
import { type Command, UsageError } from '../command.js';
import { daemonOptions, defaultSocketFor, serveStdio } from '../daemon-setup.js';
import { openCliStore } from '../open-store.js';
import { proxyStdioToSocket } from '../stdio-proxy.js';

export const daemon: Command = {
  name: ['daemon'],
  summary:
    'serve the store to Nix and tix clients over the worker protocol (socket: <stateDir>/daemon-socket/socket)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--listen': { arity: 1 }, '--stdio': { arity: 0 } });
    if (args.positional.length > 0) throw new UsageError("'tix daemon' takes no arguments");
    const settings = cliSettings(ctx);
    const store = await openCliStore(ctx, settings);
    try {
      if (flagSet(args, '--stdio')) {
        const socket = (store as { socket?: string }).socket;
        if (socket !== undefined) {
          await store.close();
          await proxyStdioToSocket(socket);
          return 0;
        }
        await serveStdio(store, settings, ctx.env, (line) => ctx.err.write(`${line}\n`));
        return 0;
      }
      const socketPath = flagValue(args, '--listen') ?? defaultSocketFor(store);
      if (!socketPath)
        throw new CliError('UNSUPPORTED', `store '${store.uri}' has no state directory; use '--listen PATH'`);
      if (!peerCredAvailable()) {
        ctx.err.write(
          "warning: peer credentials unavailable (build native/ with 'npx node-gyp rebuild --nodedir=/usr'); clients count as unknown users\n",
        );
      }
      const log = (line: string) => ctx.err.write(`${line}\n`);
      const setup = daemonOptions(store, settings, ctx.env, log);
      const server = await startDaemonServer(socketPath, { ...setup, log });
      ctx.err.write(`tix daemon listening on '${socketPath}'\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      await setup.close();
      return 0;
    } finally {
      await store.close();
    }
  },
};
