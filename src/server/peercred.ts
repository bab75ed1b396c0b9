// Peer credentials of a Unix socket connection (SO_PEERCRED) through the small N-API addon in
// native/ (Node cannot read them itself). Build it with `npx node-gyp rebuild --nodedir=/usr` in
// native/; without it, clients cannot be identified and are treated as unknown users.
import type { Socket } from 'node:net';
import { loadNativeAddon } from '../config/native-addon.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

type Addon = { getPeerCred(fd: number): PeerCred };

function loadAddon(): Addon | null {
  return loadNativeAddon<Addon>('peercred');
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
