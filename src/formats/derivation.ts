import { compareUtf8, firstInvalidUtf8, sortedUniqueUtf8 } from './byte-order.js';
import { FormatError } from './errors.js';
import { isHashAlgo, parseHashUnprefixed } from './hash.js';
import { parseStorePathExact } from './store-path.js';

/** One output tuple exactly as the ATerm holds it; "" where absent. */
export interface DerivationOutput {
  /** Full store path, or "" (deferred / floating / impure). */
  path: string;
  /** "" (input-addressed), or "<prefix><algo>" with prefix "" (flat), "r:", "text:", "git:". */
  hashAlgo: string;
  /** Base16 digest (fixed), "impure", or "". */
  hash: string;
}

export interface BasicDerivation {
  /** The name without ".drv". */
  name: string;
  outputs: Map<string, DerivationOutput>;
  /** Full store paths, sorted byte-wise. */
  inputSrcs: string[];
  system: string;
  builder: string;
  args: string[];
  env: Map<string, string>;
}

export interface Derivation extends BasicDerivation {
  /** Input `.drv` path → the output names used from it (sorted byte-wise, no duplicates). */
  inputDrvs: Map<string, string[]>;
}

export const DRV_EXTENSION = '.drv';

export interface ParseDerivationOptions {
  /** The derivation name (the `.drv` base name minus hash part and ".drv"). */
  name: string;
  /** Shown in errors. */
  path?: string;
  /** Store dir the paths inside must belong to; default "/nix/store". */
  storeDir?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Recursive-descent ATerm reader over a JS string; every failure is FormatError('BAD_DRV'). */
class AtermReader {
  pos = 0;
  #nextQuote = -1;
  #nextBackslash = -1;

  constructor(
    readonly s: string,
    readonly where: string,
  ) {}

  fail(expected: string, at = this.pos): never {
    const s = this.s;
    const found = at >= s.length ? 'end of input' : `'${s[at]}'`;
    throw new FormatError(
      'BAD_DRV',
      `${this.prefix()}: expected ${expected} but found ${found} ${this.place(at)}`,
    );
  }

  failAt(detail: string, at: number): never {
    throw new FormatError('BAD_DRV', `${this.prefix()}: ${detail} ${this.place(at)}`);
  }

  prefix(): string {
    return `cannot parse derivation '${this.where}'`;
  }

  place(at: number): string {
    const before = this.s.slice(0, at);
    const line = before.split('\n').length;
    const col = at - before.lastIndexOf('\n');
    return `at byte ${Buffer.byteLength(before)} (line ${line}, column ${col})`;
  }

  lit(text: string): void {
    if (!this.s.startsWith(text, this.pos)) {
      let i = 0;
      while (i < text.length && this.s[this.pos + i] === text[i]) i++;
      this.fail(`'${text[i]}'${text.length > 1 ? ` (of '${text}')` : ''}`, this.pos + i);
    }
    this.pos += text.length;
  }

  /** A quoted string; `\n`, `\r`, `\t` map to control characters and `\x` to x. */
  str(): string {
    const s = this.s;
    if (s.charCodeAt(this.pos) !== 34) this.fail("'\"'");
    const start = this.pos;
    let p = start + 1;
    let out = '';
    for (;;) {
      if (this.#nextQuote < p) {
        this.#nextQuote = s.indexOf('"', p);
        if (this.#nextQuote < 0) this.#nextQuote = Number.POSITIVE_INFINITY;
      }
      if (this.#nextBackslash < p) {
        this.#nextBackslash = s.indexOf('\\', p);
        if (this.#nextBackslash < 0) this.#nextBackslash = Number.POSITIVE_INFINITY;
      }
      const q = this.#nextQuote;
      const b = this.#nextBackslash;
      if (q === Number.POSITIVE_INFINITY && b === Number.POSITIVE_INFINITY) {
        this.failAt('unterminated string starting', start);
      }
      if (q < b) {
        this.pos = q + 1;
        return out === '' ? s.slice(p, q) : out + s.slice(p, q);
      }
      if (b + 1 >= s.length) this.failAt('unterminated string starting', start);
      out += s.slice(p, b);
      const c = s[b + 1]!;
      out += c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c;
      p = b + 2;
    }
  }

  /** `[` item {`,` item} `]`, or `[]`. */
  list(item: () => void): void {
    this.lit('[');
    if (this.s.charCodeAt(this.pos) === 93) {
      this.pos++;
      return;
    }
    for (;;) {
      item();
      const c = this.s.charCodeAt(this.pos);
      if (c === 44) this.pos++;
      else if (c === 93) {
        this.pos++;
        return;
      } else this.fail("',' or ']'");
    }
  }

  strings(): string[] {
    const out: string[] = [];
    this.list(() => out.push(this.str()));
    return out;
  }
}

function checkOutput(r: AtermReader, name: string, o: DerivationOutput, at: number, storeDir: string): void {
  const bad = (detail: string): never => r.failAt(`output '${name}' ${detail}`, at);
  if (o.hashAlgo !== '') {
    const colon = o.hashAlgo.indexOf(':');
    const prefix = colon >= 0 ? o.hashAlgo.slice(0, colon + 1) : '';
    const algo = o.hashAlgo.slice(prefix.length);
    if (prefix !== '' && prefix !== 'r:' && prefix !== 'text:' && prefix !== 'git:') {
      bad(`has unknown ingestion method '${prefix}'`);
    }
    if (!isHashAlgo(algo)) {
      bad(`has unknown hash algorithm '${algo}'`);
      return;
    }
    if (o.hash === '' || o.hash === 'impure') {
      if (o.path !== '') bad(`is floating or impure but has the path '${o.path}'`);
      return;
    }
    try {
      parseHashUnprefixed(o.hash, algo);
    } catch (e) {
      bad(`has a bad hash: ${(e as Error).message}`);
    }
  } else if (o.hash !== '') bad(`has the hash '${o.hash}' but no hash algorithm`);
  if (o.path === '') {
    if (o.hashAlgo !== '') bad('is fixed but has no path');
    return;
  }
  try {
    parseStorePathExact(o.path, storeDir);
  } catch (e) {
    bad(`has a bad path: ${(e as Error).message}`);
  }
}

function storePathAt(r: AtermReader, path: string, at: number, storeDir: string): string {
  try {
    parseStorePathExact(path, storeDir);
  } catch (e) {
    r.failAt((e as Error).message, at);
  }
  return path;
}

/**
 * Parses a `.drv` file (Nix 2.8 `Derive(…)` ATerm). Stricter than Nix where Nix is lenient
 * by accident: separators must be exactly one ',', duplicates are rejected, store paths are
 * validated, and the input must be valid UTF-8 (tix keeps strings as JS strings).
 */
export function parseDerivation(text: string | Uint8Array, opts: ParseDerivationOptions): Derivation {
  const where = opts.path ?? opts.name;
  const storeDir = opts.storeDir ?? '/nix/store';
  let s: string;
  if (typeof text === 'string') s = text;
  else {
    try {
      s = utf8.decode(text);
    } catch {
      const at = firstInvalidUtf8(text);
      throw new FormatError('BAD_DRV', `cannot parse derivation '${where}': invalid UTF-8 at byte ${at}`);
    }
  }
  const r = new AtermReader(s, where);
  if (s.startsWith('DrvWithVersion(')) {
    r.failAt('versioned derivations (DrvWithVersion, dynamic derivations) are not supported by Nix 2.8', 0);
  }
  r.lit('Derive(');

  const outputs = new Map<string, DerivationOutput>();
  r.list(() => {
    const at = r.pos;
    r.lit('(');
    const name = r.str();
    r.lit(',');
    const path = r.str();
    r.lit(',');
    const hashAlgo = r.str();
    r.lit(',');
    const hash = r.str();
    r.lit(')');
    if (outputs.has(name)) r.failAt(`duplicate output '${name}'`, at);
    const o = { path, hashAlgo, hash };
    checkOutput(r, name, o, at, storeDir);
    outputs.set(name, o);
  });

  r.lit(',');
  const inputDrvs = new Map<string, string[]>();
  r.list(() => {
    r.lit('(');
    const at = r.pos;
    const drvPath = storePathAt(r, r.str(), at, storeDir);
    r.lit(',');
    const names = r.strings();
    r.lit(')');
    if (inputDrvs.has(drvPath)) r.failAt(`duplicate input derivation '${drvPath}'`, at);
    inputDrvs.set(drvPath, sortedUniqueUtf8(names));
  });

  r.lit(',');
  const srcs: string[] = [];
  r.list(() => {
    const at = r.pos;
    srcs.push(storePathAt(r, r.str(), at, storeDir));
  });
  r.lit(',');
  const system = r.str();
  r.lit(',');
  const builder = r.str();
  r.lit(',');
  const args = r.strings();
  r.lit(',');
  const env = new Map<string, string>();
  r.list(() => {
    const at = r.pos;
    r.lit('(');
    const key = r.str();
    r.lit(',');
    const value = r.str();
    r.lit(')');
    if (env.has(key)) r.failAt(`duplicate environment variable '${key}'`, at);
    env.set(key, value);
  });
  r.lit(')');
  if (r.pos !== s.length) r.fail('end of input');
  return {
    name: opts.name,
    outputs,
    inputDrvs,
    inputSrcs: sortedUniqueUtf8(srcs),
    system,
    builder,
    args,
    env,
  };
}

const ESCAPE_ALL_RE = /["\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A string with the ATerm escapes, without its quotes. */
export function escapeATerm(s: string): string {
  // A scan of char codes is cheaper than a regex test for the short strings of a derivation.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 92 || c === 10 || c === 13 || c === 9)
      return s.replace(ESCAPE_ALL_RE, (x) => ESCAPES[x]!);
  }
  return s;
}

function escaped(s: string): string {
  return `"${escapeATerm(s)}"`;
}

/** Keys in byte order; maps built in order (the usual case) are not sorted again. */
function sortedKeys<V>(m: Map<string, V>): string[] {
  const keys = [...m.keys()];
  for (let i = 1; i < keys.length; i++)
    if (compareUtf8(keys[i - 1]!, keys[i]!) >= 0) return keys.sort(compareUtf8);
  return keys;
}

/** Sorted and unique already (the usual case): the array itself, else a sorted unique copy. */
function sortedUnique(items: string[]): string[] {
  for (let i = 1; i < items.length; i++)
    if (compareUtf8(items[i - 1]!, items[i]!) >= 0) return sortedUniqueUtf8(items);
  return items;
}

export interface PrintDerivationOptions {
  /** Blank every output tuple and every env entry named after an output (that is present). */
  maskOutputs?: boolean;
  /** Print these instead of `drv.inputDrvs` (hashDerivationModulo passes hex hashes as keys). */
  inputDrvs?: Map<string, string[]>;
}

/** Prints the ATerm exactly as Nix writes it: sorted maps and sets, no trailing newline. */
export function printDerivation(drv: Derivation, opts: PrintDerivationOptions = {}): string {
  // Built by concatenation: V8 joins the pieces once, when the text is first read (hashed).
  const mask = opts.maskOutputs === true;
  return `Derive([${outputsSection(drv, mask)}],[${inputsSection(opts.inputDrvs ?? drv.inputDrvs)}],[${tailSection(drv, mask)}])`;
}

function outputsSection(drv: Derivation, mask: boolean): string {
  let s = '';
  let first = true;
  for (const name of sortedKeys(drv.outputs)) {
    const o = drv.outputs.get(name)!;
    s += `${first ? '("' : ',("'}${name}${mask ? '","","","")' : `","${o.path}","${o.hashAlgo}","${o.hash}")`}`;
    first = false;
  }
  return s;
}

function inputsSection(inputDrvs: Map<string, string[]>): string {
  let s = '';
  let first = true;
  for (const p of sortedKeys(inputDrvs)) {
    s += `${first ? '("' : ',("'}${p}",[`;
    first = false;
    const names = sortedUnique(inputDrvs.get(p)!);
    for (let i = 0; i < names.length; i++) s += `${i === 0 ? '"' : ',"'}${names[i]!}"`;
    s += '])';
  }
  return s;
}

/** Input sources, system, builder, args and env entries (their list left open). */
function tailSection(drv: Derivation, mask: boolean): string {
  let s = '';
  const srcs = sortedUnique(drv.inputSrcs);
  for (let i = 0; i < srcs.length; i++) s += `${i === 0 ? '"' : ',"'}${srcs[i]!}"`;
  s += `],"${drv.system}",${escaped(drv.builder)},[`;
  for (let i = 0; i < drv.args.length; i++) s += (i === 0 ? '' : ',') + escaped(drv.args[i]!);
  s += '],[';
  let first = true;
  for (const k of sortedKeys(drv.env)) {
    const v = mask && drv.outputs.has(k) ? '' : drv.env.get(k)!;
    s += `${first ? '(' : ',('}${escaped(k)},${escaped(v)})`;
    first = false;
  }
  return s;
}

/** True if the path's name ends in ".drv". */
export function isDerivationPath(path: string): boolean {
  return path.endsWith(DRV_EXTENSION);
}

/** The derivation name of a `.drv` path: base name minus the hash part and ".drv". */
export function derivationName(drvPath: string): string {
  const base = drvPath.slice(drvPath.lastIndexOf('/') + 1);
  if (!base.endsWith(DRV_EXTENSION) || base.length < 34 + DRV_EXTENSION.length || base[32] !== '-') {
    throw new FormatError('BAD_STORE_PATH', `invalid derivation path '${drvPath}': not '<hash>-<name>.drv'`);
  }
  return base.slice(33, -DRV_EXTENSION.length);
}
