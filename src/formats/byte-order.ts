/**
 * Byte-wise (UTF-8) string order, as C++ std::string compares Nix strings. JS `<` compares UTF-16
 * code units, which disagrees with UTF-8 byte order only when one side is a surrogate (U+10000 and
 * above) and the other is in U+E000..U+FFFF; this comparator fixes that case without encoding.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca !== cb) {
      if (ca >= 0xd800 && cb >= 0xd800) {
        ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
        cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
      }
      return ca - cb;
    }
  }
  return a.length - b.length;
}

/** A sorted copy, byte-wise; duplicates kept. */
export function sortUtf8(items: Iterable<string>): string[] {
  return [...items].sort(compareUtf8);
}

/** A sorted copy, byte-wise, without duplicates. */
export function sortedUniqueUtf8(items: Iterable<string>): string[] {
  const out = sortUtf8(items);
  let w = 0;
  for (let r = 0; r < out.length; r++) if (r === 0 || out[r] !== out[w - 1]) out[w++] = out[r]!;
  out.length = w;
  return out;
}

/**
 * What the UTF-8 lead byte `c` (0x80 or more) needs to start a well-formed character: how many
 * continuation bytes, and the range of the first of them (the others are 0x80-0xBF), packed as
 * `more | lo << 8 | hi << 16`; -1 for a byte that cannot start one.
 */
export function utf8Lead(c: number): number {
  if (c >= 0xc2 && c <= 0xdf) return 1 | (0x80 << 8) | (0xbf << 16);
  if (c >= 0xe0 && c <= 0xef)
    return 2 | ((c === 0xe0 ? 0xa0 : 0x80) << 8) | ((c === 0xed ? 0x9f : 0xbf) << 16);
  if (c >= 0xf0 && c <= 0xf4)
    return 3 | ((c === 0xf0 ? 0x90 : 0x80) << 8) | ((c === 0xf4 ? 0x8f : 0xbf) << 16);
  return -1;
}

/** Offset of the first byte that is not part of well-formed UTF-8, or -1 if all of it is. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const lead = utf8Lead(c);
    if (lead < 0) return i;
    const n = lead & 0xff;
    const lo = (lead >> 8) & 0xff;
    const hi = lead >> 16;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}
