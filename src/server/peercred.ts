// Peer credentials of a Unix socket connection (SO_PEERCRED) through the small N-API addon in
// native/ (Node cannot read them itself). Build it with `npx node-gyp rebuild --nodedir=/usr` in
// native/; without it, clients cannot be identified and are treated as unknown users.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

type Addon = { getPeerCred(fd: number): PeerCred };

let addon: Addon | null | undefined;

/** Where the built addon is looked for: native/build/Release/peercred.node of this checkout. */
export function peerCredAddonCandidates(): string[] {
  return ['../../native', '../../../native'].map((rel) =>
    fileURLToPath(new URL(`${rel}/build/Release/peercred.node`, import.meta.url)),
  );
}

function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  const require = createRequire(import.meta.url);
  addon = null;
  for (const p of peerCredAddonCandidates()) {
    if (!existsSync(p)) continue;
    addon = require(p) as Addon;
    break;
  }
  return addon;
}

export function peerCredAvailable(): boolean {
  return loadAddon() !== null;
}

/** The credentials of the process at the other end of `socket`, or undefined if unknown. */
export function getPeerCred(socket: Socket): PeerCred | undefined {
  const a = loadAddon();
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (!a || typeof fd !== 'number' || fd < 0) return undefined;
  return a.getPeerCred(fd);
}
