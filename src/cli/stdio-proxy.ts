// `tix-daemon --stdio` when the store is a running daemon: as `nix-daemon --stdio` does, the bytes
// are passed through to the daemon's socket unchanged, so the remote client is served by that
// daemon (its scheduler, locks and trust rules; it sees this process's user as the client).
import { createConnection } from 'node:net';
import { CliError } from './cli-error.js';

export function proxyStdioToSocket(
  socketPath: string,
  io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream } = process,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path: socketPath, allowHalfOpen: true });
    socket.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new CliError('CONNECTION', `cannot connect to daemon at '${socketPath}': ${e.code ?? e.message}`),
      ),
    );
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      socket.on('error', () => socket.destroy());
      io.stdin.pipe(socket);
      socket.pipe(io.stdout, { end: false });
      socket.once('close', () => {
        io.stdin.unpipe(socket);
        resolve();
      });
    });
  });
}
