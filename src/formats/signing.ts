import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { FormatError } from './errors.js';
import { fromBase64, toBase64 } from './hash.js';

/** Ed25519 keys in Nix's "<name>:<base64>" text form (secret = seed ‖ public key, 64 bytes). */
export interface SecretKey {
  name: string;
  /** 64 bytes: 32-byte seed then the 32-byte public key (libsodium layout). */
  key: Uint8Array;
}

export interface PublicKey {
  name: string;
  /** 32 bytes. */
  key: Uint8Array;
}

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

function splitKey(s: string, what: string): { name: string; key: Uint8Array } {
  const colon = s.indexOf(':');
  if (colon <= 0 || colon === s.length - 1) {
    throw new FormatError('BAD_KEY', `cannot parse ${what}: expected '<name>:<base64>'`);
  }
  return { name: s.slice(0, colon), key: fromBase64(s.slice(colon + 1), 'BAD_KEY', what) };
}

function privateKeyObject(sk: SecretKey): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, sk.key.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
}

function publicKeyObject(pk: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, pk]), format: 'der', type: 'spki' });
}

function rawPublicKey(k: KeyObject): Uint8Array {
  return new Uint8Array(k.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length));
}

/** Parses a secret key file's contents (surrounding whitespace ignored); the halves must agree. */
export function parseSecretKey(text: string): SecretKey {
  const { name, key } = splitKey(text.trim(), 'secret key');
  if (key.length !== 64)
    throw new FormatError('BAD_KEY', `cannot parse secret key '${name}': ${key.length} bytes, expected 64`);
  const sk = { name, key };
  const derived = rawPublicKey(createPublicKey(privateKeyObject(sk)));
  if (!Buffer.from(derived).equals(key.subarray(32))) {
    throw new FormatError(
      'BAD_KEY',
      `cannot parse secret key '${name}': its public half does not match its seed`,
    );
  }
  return sk;
}

export function parsePublicKey(text: string): PublicKey {
  const { name, key } = splitKey(text.trim(), 'public key');
  if (key.length !== 32)
    throw new FormatError('BAD_KEY', `cannot parse public key '${name}': ${key.length} bytes, expected 32`);
  return { name, key };
}

export function printSecretKey(sk: SecretKey): string {
  return `${sk.name}:${toBase64(sk.key)}`;
}

export function printPublicKey(pk: PublicKey): string {
  return `${pk.name}:${toBase64(pk.key)}`;
}

export function toPublicKey(sk: SecretKey): PublicKey {
  return { name: sk.name, key: sk.key.slice(32) };
}

/** A fresh key pair, like `nix-store --generate-binary-cache-key`. */
export function generateSecretKey(name: string): SecretKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519.length);
  const key = new Uint8Array(64);
  key.set(seed, 0);
  key.set(rawPublicKey(publicKey), 32);
  return { name, key };
}

/** "<keyname>:<base64 of the 64-byte Ed25519 signature>" over the fingerprint bytes. */
export function signFingerprint(sk: SecretKey, fingerprint: string): string {
  return `${sk.name}:${toBase64(sign(null, Buffer.from(fingerprint), privateKeyObject(sk)))}`;
}

/**
 * True if `sig` ("<keyname>:<base64>") is by one of `keys` and verifies over `fingerprint`.
 * An unknown key name gives false; a malformed signature is FormatError('BAD_KEY').
 */
export function verifySignature(fingerprint: string, sig: string, keys: Iterable<PublicKey>): boolean {
  const colon = sig.indexOf(':');
  if (colon <= 0)
    throw new FormatError('BAD_KEY', `cannot parse signature '${sig}': expected '<name>:<base64>'`);
  const name = sig.slice(0, colon);
  let key: PublicKey | undefined;
  for (const k of keys) if (k.name === name) key = k;
  if (key === undefined) return false;
  const raw = fromBase64(sig.slice(colon + 1), 'BAD_KEY', 'signature');
  if (raw.length !== 64)
    throw new FormatError('BAD_KEY', `cannot parse signature '${sig}': ${raw.length} bytes, expected 64`);
  return verify(null, Buffer.from(fingerprint), publicKeyObject(key.key), raw);
}
