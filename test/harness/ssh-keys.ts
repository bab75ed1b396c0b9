// ed25519 key pairs via the system ssh-keygen, for the harness's client and host keys.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface SshKeyPair {
  /** Path of the private key (mode 0600); the public key is `<path>.pub`. */
  privateKeyFile: string;
  /** The public key line without comment: "ssh-ed25519 AAAA…". */
  publicKey: string;
}

export function generateEd25519(file: string, comment: string): SshKeyPair {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const [type, key] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  return { privateKeyFile: file, publicKey: `${type} ${key}` };
}

/** The machines-file form of a host key: base64 of the public key line (what Nix 2.8 expects). */
export function machinesHostKey(publicKey: string): string {
  return Buffer.from(publicKey + '\n').toString('base64');
}
