import { sortUtf8 } from './byte-order.js';
import { parseContentAddress } from './content-address.js';
import { FormatError } from './errors.js';
import { type Hash, parseHash, printHash } from './hash.js';
import { parseStorePathBase, parseStorePathExact } from './store-path.js';

export {
  generateSecretKey,
  type PublicKey,
  parsePublicKey,
  parseSecretKey,
  printPublicKey,
  printSecretKey,
  type SecretKey,
  signFingerprint,
  toPublicKey,
  verifySignature,
} from './signing.js';

/** A `.narinfo` file's contents; paths are full store paths. */
export interface NarInfo {
  storePath: string;
  url: string;
  /** "xz", "zstd", "none", …; a file without the key means "bzip2". */
  compression: string;
  fileHash?: Hash;
  fileSize?: number;
  narHash: Hash;
  narSize: number;
  /** Full paths, sorted byte-wise. */
  references: string[];
  deriver?: string;
  system?: string;
  /** "<keyname>:<base64>" strings, sorted, no duplicates. */
  sigs: string[];
  /** Content-address string ("fixed:r:sha256:…"). */
  ca?: string;
}

function decimal(v: string): number | undefined {
  return /^[0-9]{1,15}$/.test(v) ? Number(v) : undefined;
}

/**
 * Parses a narinfo as Nix 2.8 does: "Key: value" lines each ending in "\n", unknown keys ignored;
 * StorePath, URL, NarHash and a non-zero NarSize are required. FormatError('BAD_NARINFO') with
 * the line number otherwise.
 */
export function parseNarInfo(text: string, opts: { storeDir: string; where?: string }): NarInfo {
  const where = opts.where ?? 'narinfo';
  let line = 0;
  const bad = (detail: string): never => {
    throw new FormatError('BAD_NARINFO', `cannot parse narinfo '${where}': ${detail} at line ${line}`);
  };
  const info: Partial<Omit<NarInfo, 'sigs'>> & { references: string[]; sigs: Set<string> } = {
    references: [],
    sigs: new Set(),
  };
  let haveRefs = false;
  let pos = 0;
  while (pos < text.length) {
    line++;
    const eol = text.indexOf('\n', pos);
    if (eol < 0) bad('missing newline');
    const l = text.slice(pos, eol);
    pos = eol + 1;
    const colon = l.indexOf(':');
    if (colon < 0) bad(`expected 'Key: value', found '${l}'`);
    const key = l.slice(0, colon);
    const value = l.slice(l[colon + 1] === ' ' ? colon + 2 : colon + 1);
    const field = <T>(f: () => T): T => {
      try {
        return f();
      } catch (e) {
        if (e instanceof FormatError) bad(`bad ${key} '${value}': ${e.message}`);
        throw e;
      }
    };
    switch (key) {
      case 'StorePath':
        field(() => parseStorePathExact(value, opts.storeDir));
        info.storePath = value;
        break;
      case 'URL':
        info.url = value;
        break;
      case 'Compression':
        info.compression = value;
        break;
      case 'FileHash':
        info.fileHash = field(() => parseHash(value));
        break;
      case 'NarHash':
        info.narHash = field(() => parseHash(value));
        break;
      case 'FileSize':
      case 'NarSize': {
        const n = decimal(value);
        if (n === undefined) bad(`bad ${key} '${value}': not a decimal number`);
        if (key === 'FileSize') info.fileSize = n;
        else info.narSize = n;
        break;
      }
      case 'References':
        if (haveRefs) bad('duplicate References');
        haveRefs = true;
        for (const r of value.split(' ')) {
          if (r === '') continue;
          field(() => parseStorePathBase(r));
          info.references.push(`${opts.storeDir}/${r}`);
        }
        break;
      case 'Deriver':
        if (value === 'unknown-deriver') break;
        field(() => parseStorePathBase(value));
        info.deriver = `${opts.storeDir}/${value}`;
        break;
      case 'System':
        info.system = value;
        break;
      case 'Sig':
        info.sigs.add(value);
        break;
      case 'CA':
        if (info.ca !== undefined) bad('duplicate CA');
        if (value !== '') field(() => parseContentAddress(value));
        if (value !== '') info.ca = value;
        break;
    }
  }
  line = 0;
  if (info.storePath === undefined) bad('missing StorePath');
  if (info.url === undefined || info.url === '') bad('missing URL');
  if (info.narHash === undefined) bad('missing NarHash');
  if (!info.narSize) bad('missing or zero NarSize');
  return {
    ...info,
    compression: info.compression || 'bzip2',
    references: sortUtf8(info.references),
    sigs: sortUtf8(info.sigs),
  } as NarInfo;
}

/** Writes a narinfo exactly as Nix 2.8 does (key order, nix32 hashes, base names, sorted refs/sigs). */
export function printNarInfo(info: NarInfo): string {
  const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
  let s = `StorePath: ${info.storePath}\nURL: ${info.url}\nCompression: ${info.compression}\n`;
  if (info.fileHash) s += `FileHash: ${printHash(info.fileHash, 'nix32', { prefix: true })}\n`;
  if (info.fileSize !== undefined) s += `FileSize: ${info.fileSize}\n`;
  s += `NarHash: ${printHash(info.narHash, 'nix32', { prefix: true })}\nNarSize: ${info.narSize}\n`;
  s += `References: ${sortUtf8(info.references.map(base)).join(' ')}\n`;
  if (info.deriver) s += `Deriver: ${base(info.deriver)}\n`;
  if (info.system) s += `System: ${info.system}\n`;
  for (const sig of sortUtf8(new Set(info.sigs))) s += `Sig: ${sig}\n`;
  if (info.ca) s += `CA: ${info.ca}\n`;
  return s;
}

/**
 * The bytes a path signature covers:
 * "1;<path>;sha256:<nix32 narHash>;<narSize>;<sorted full references, comma-separated>".
 */
export function fingerprint(
  storePath: string,
  narHash: Hash,
  narSize: number,
  references: Iterable<string>,
): string {
  if (!narSize)
    throw new FormatError(
      'BAD_NARINFO',
      `cannot compute the fingerprint of '${storePath}': NAR size unknown`,
    );
  return `1;${storePath};${printHash(narHash, 'nix32', { prefix: true })};${narSize};${sortUtf8(new Set(references)).join(',')}`;
}

/** The fingerprint of a parsed narinfo. */
export function narInfoFingerprint(info: NarInfo): string {
  return fingerprint(info.storePath, info.narHash, info.narSize, info.references);
}

export interface NixCacheInfo {
  storeDir?: string;
  wantMassQuery?: boolean;
  priority?: number;
}

/** `nix-cache-info`: lines "Key: value", values trimmed; lines without ':' and unknown keys ignored. */
export function parseNixCacheInfo(text: string): NixCacheInfo {
  const info: NixCacheInfo = {};
  let line = 0;
  for (const l of text.split('\n')) {
    line++;
    const colon = l.indexOf(':');
    if (colon < 0) continue;
    const key = l.slice(0, colon);
    const value = l.slice(colon + 1).trim();
    if (key === 'StoreDir') info.storeDir = value;
    else if (key === 'WantMassQuery') info.wantMassQuery = value === '1';
    else if (key === 'Priority') {
      if (!/^[+-]?[0-9]+$/.test(value)) {
        throw new FormatError(
          'BAD_NARINFO',
          `cannot parse nix-cache-info: bad Priority '${value}' at line ${line}`,
        );
      }
      info.priority = Number(value);
    }
  }
  return info;
}

export function printNixCacheInfo(info: NixCacheInfo): string {
  let s = '';
  if (info.storeDir !== undefined) s += `StoreDir: ${info.storeDir}\n`;
  if (info.wantMassQuery !== undefined) s += `WantMassQuery: ${info.wantMassQuery ? 1 : 0}\n`;
  if (info.priority !== undefined) s += `Priority: ${info.priority}\n`;
  return s;
}
