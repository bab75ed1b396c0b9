// Who may use the daemon: the client's uid/gid (from SO_PEERCRED) as user and group names, matched
// against `trusted-users` and `allowed-users` with Nix 2.8's rules: `*` matches everybody, a name
// matches that user, `@group` matches the client's primary group or any member of the group.
// Members of `build-users-group` are never allowed (builders must not talk to the daemon).
import { readFileSync } from 'node:fs';

export interface PeerIdentity {
  uid?: number;
  gid?: number;
  pid?: number;
  /** The user name, or the uid as a string when unknown to /etc/passwd. */
  user: string;
  group: string;
}

export interface TrustSettings {
  trustedUsers: string[];
  allowedUsers: string[];
  buildUsersGroup: string;
}

export interface UserDb {
  userName(uid: number): string | undefined;
  groupName(gid: number): string | undefined;
  groupMembers(group: string): string[] | undefined;
}

function readColonFile(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** /etc/passwd and /etc/group, read on each lookup (they may change while the daemon runs). */
export const systemUserDb: UserDb = {
  userName: (uid) => readColonFile('/etc/passwd').find((f) => f[2] === String(uid))?.[0],
  groupName: (gid) => readColonFile('/etc/group').find((f) => f[2] === String(gid))?.[0],
  groupMembers: (group) => {
    const g = readColonFile('/etc/group').find((f) => f[0] === group);
    return g ? (g[3] ?? '').split(',').filter((m) => m !== '') : undefined;
  },
};

export function identifyPeer(
  cred: { uid: number; gid: number; pid?: number } | undefined,
  db: UserDb = systemUserDb,
): PeerIdentity {
  if (!cred) return { user: '<unknown>', group: '<unknown>' };
  return {
    uid: cred.uid,
    gid: cred.gid,
    pid: cred.pid,
    user: db.userName(cred.uid) ?? String(cred.uid),
    group: db.groupName(cred.gid) ?? String(cred.gid),
  };
}

/** Nix's matchUser. */
export function matchUser(user: string, group: string, list: string[], db: UserDb = systemUserDb): boolean {
  if (list.includes('*') || list.includes(user)) return true;
  for (const entry of list) {
    if (!entry.startsWith('@')) continue;
    const g = entry.slice(1);
    if (g === group) return true;
    if (db.groupMembers(g)?.includes(user)) return true;
  }
  return false;
}

/** Whether `peer` is trusted, and why it is refused if it is not allowed at all. */
export function checkPeer(
  peer: PeerIdentity,
  settings: TrustSettings,
  db: UserDb = systemUserDb,
): { trusted: boolean; refusal?: string } {
  const trusted = matchUser(peer.user, peer.group, settings.trustedUsers, db);
  const allowed = trusted || matchUser(peer.user, peer.group, settings.allowedUsers, db);
  if (!allowed || (settings.buildUsersGroup !== '' && peer.group === settings.buildUsersGroup)) {
    return { trusted: false, refusal: `user '${peer.user}' is not allowed to connect to the Nix daemon` };
  }
  return { trusted };
}
