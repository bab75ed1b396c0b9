import { FormatError } from './errors.js';

/** Nix's base-32 alphabet (no e, o, u, t). */
export const NIX32_ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';

const DIGIT_OF = new Int8Array(128).fill(-1);
for (let i = 0; i < NIX32_ALPHABET.length; i++) DIGIT_OF[NIX32_ALPHABET.charCodeAt(i)] = i;

/** Length of the nix32 encoding of `byteLength` bytes (20 → 32, 32 → 52). */
export function nix32Length(byteLength: number): number {
  return byteLength === 0 ? 0 : Math.floor((byteLength * 8 - 1) / 5) + 1;
}

/** True if `c` (a single character) belongs to the nix32 alphabet. */
export function isNix32Char(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 128 && DIGIT_OF[code]! >= 0;
}

/**
 * Encodes bytes the way Nix does: the bytes read as a little-endian number, written in base 32
 * with the most significant digit first.
 */
export function toNix32(bytes: Uint8Array): string {
  const n = bytes.length;
  const len = nix32Length(n);
  // Character codes gathered first: one string allocation rather than one per character.
  const codes = nix32Codes;
  codes.length = len;
  for (let k = len - 1; k >= 0; k--) {
    const b = k * 5;
    const i = b >> 3;
    const j = b & 7;
    const c = (bytes[i]! >> j) | (i + 1 < n ? bytes[i + 1]! << (8 - j) : 0);
    codes[len - 1 - k] = ALPHABET_CODES[c & 0x1f]!;
  }
  return String.fromCharCode.apply(null, codes);
}

const ALPHABET_CODES = Uint8Array.from(NIX32_ALPHABET, (c) => c.charCodeAt(0));
/** Scratch for toNix32 (which does not re-enter). */
const nix32Codes: number[] = [];

/**
 * Decodes a nix32 string. The byte length is the one whose encoding has exactly this many
 * characters; a length no byte count produces, a foreign character, or set bits beyond the last
 * byte (e.g. a 52-character string starting with '2'..'z') are FormatError('BAD_NIX32').
 */
export function fromNix32(s: string): Uint8Array {
  const len = s.length;
  const n = Math.floor((len * 5) / 8);
  if (nix32Length(n) !== len) {
    throw new FormatError(
      'BAD_NIX32',
      `cannot decode nix32 '${s}': length ${len} is not a valid encoding length`,
    );
  }
  const out = new Uint8Array(n);
  for (let k = 0; k < len; k++) {
    const code = s.charCodeAt(len - 1 - k);
    const d = code < 128 ? DIGIT_OF[code]! : -1;
    if (d < 0) {
      throw new FormatError(
        'BAD_NIX32',
        `cannot decode nix32 '${s}': invalid character '${s[len - 1 - k]}' at offset ${len - 1 - k}`,
      );
    }
    const b = k * 5;
    const i = b >> 3;
    const j = b & 7;
    out[i]! |= (d << j) & 0xff;
    const carry = d >> (8 - j);
    if (i + 1 < n) out[i + 1]! |= carry;
    else if (carry !== 0) {
      throw new FormatError('BAD_NIX32', `cannot decode nix32 '${s}': value overflows ${n} bytes`);
    }
  }
  return out;
}
