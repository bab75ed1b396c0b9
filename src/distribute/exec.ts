// `exec://COMMAND`: the protocol peer is a local command run by /bin/sh, speaking on its stdio.
// Used for tests and for talking to a store on this machine through the same client code.
import { spawnTransport, type Transport, type TransportOptions } from './transport.js';

export function openExecTransport(commandLine: string, opts: TransportOptions = {}): Transport {
  return spawnTransport(commandLine, '/bin/sh', ['-c', commandLine], opts);
}
