/**
 * The `builders` setting / machines file, parsed with Nix 2.8.0's exact semantics
 * (src/libstore/machines.cc at tag 2.8.0; distributed-builds.md §2):
 * - the text is split on runs of '\n' and ';' first, then '#' cuts each piece, so a
 *   comment ends at the next ';' (`# a ; ssh://h` yields a machine);
 * - pieces are not trimmed: a whitespace-only piece is an error (no store URL);
 * - `@path` (the '@' must be the piece's first character) includes a file, recursively;
 *   a missing file contributes nothing;
 * - fields: URI, systems, SSH key, max jobs, speed factor (both unsigned integers),
 *   supported features, mandatory features, base64 host key; '-' or absent = default.
 */
import { FormatError } from './errors.js';

export interface Machine {
  storeUri: string;
  systems: string[];
  sshKey: string;
  maxJobs: number;
  speedFactor: number;
  supportedFeatures: string[];
  mandatoryFeatures: string[];
  sshPublicHostKey: string;
  source?: { file: string; line: number };
}

export interface ParseMachinesOptions {
  /** The system used when a row leaves the systems column unset (Nix's `system` setting). */
  localSystem: string;
  /** Where `text` came from, for error messages; default 'builders'. */
  file?: string;
  /** Reads an `@file` include; undefined means the file does not exist. */
  readFile?: (path: string) => string | undefined;
}

const FIELD_NAMES = [
  'store URI',
  'systems',
  'SSH key',
  'max jobs',
  'speed factor',
  'supported features',
  'mandatory features',
  'SSH public host key',
];
const MAX_INCLUDE_DEPTH = 32;
const BASE64 = /^[A-Za-z0-9+/\n]*/;

interface Row {
  text: string;
  file: string;
  line: number;
}

function fail(row: Row, detail: string): FormatError {
  return new FormatError(
    'BAD_MACHINES',
    `cannot parse machine specification at ${row.file}:${row.line}: ${detail}`,
  );
}

/** Splits like Nix's tokenizeString: runs of separator characters, no empty pieces. */
function tokenize(s: string, seps: RegExp): string[] {
  return s.split(seps).filter((t) => t !== '');
}

function byteOrderSet(items: string[]): string[] {
  const enc = new TextEncoder();
  return [...new Set(items)].sort((a, b) => Buffer.compare(enc.encode(a), enc.encode(b)));
}

function expandRows(text: string, file: string, opts: ParseMachinesOptions, depth: number, out: Row[]): void {
  const re = /[^\n;]+/g;
  let line = 1;
  let scanned = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    for (; scanned < m.index; scanned++) if (text.charCodeAt(scanned) === 10) line++;
    const hash = m[0].indexOf('#');
    const piece = hash < 0 ? m[0] : m[0].slice(0, hash);
    if (piece === '') continue;
    const row = { text: piece, file, line };
    if (piece[0] !== '@') {
      out.push(row);
      continue;
    }
    const path = piece.slice(1).replace(/^[ \n\r\t]+|[ \n\r\t]+$/g, '');
    if (!opts.readFile) throw fail(row, `cannot include '${path}': no file reader was given`);
    if (depth >= MAX_INCLUDE_DEPTH)
      throw fail(row, `includes nest deeper than ${MAX_INCLUDE_DEPTH} (a cycle?)`);
    const included = opts.readFile(path);
    if (included !== undefined) expandRows(included, path, opts, depth + 1, out);
  }
}

/** boost::lexical_cast<unsigned int> after Nix's string2Int: optional '+', digits, <= 2^32 - 1. */
function parseUnsigned(row: Row, tokens: string[], i: number): number {
  const s = tokens[i]!;
  const m = /^\+?([0-9]+)$/.exec(s);
  const n = m ? Number(m[1]) : Number.NaN;
  if (!(n <= 0xffffffff)) {
    throw fail(
      row,
      `failed to convert column #${i} (${FIELD_NAMES[i]}) '${s}' to 'unsigned int' in row '${row.text}'`,
    );
  }
  return n;
}

function parseHostKey(row: Row, key: string): string {
  const valid = BASE64.exec(key)![0].length;
  if (valid < key.length && key[valid] !== '=') {
    const detail = `invalid character '${key[valid]}'`;
    throw fail(
      row,
      `column #7 (${FIELD_NAMES[7]}) in row '${row.text}' is not a valid base64 string: ${detail}`,
    );
  }
  return key;
}

function storeUri(uri: string): string {
  const keep =
    uri.includes('://') ||
    uri.includes('/') ||
    ['auto', 'daemon', 'local'].includes(uri) ||
    ['auto?', 'daemon?', 'local?', '?'].some((p) => uri.startsWith(p));
  return keep ? uri : `ssh://${uri}`;
}

/** One row; fields are checked left to right, as Nix's braced initialiser evaluates them. */
function parseRow(row: Row, localSystem: string): Machine {
  const tokens = tokenize(row.text, /[ \t\n\r]+/);
  const isSet = (i: number) => tokens.length > i && tokens[i] !== '' && tokens[i] !== '-';
  if (!isSet(0)) throw fail(row, `store URL was not found at the first column of a row: '${row.text}'`);
  return {
    storeUri: storeUri(tokens[0]!),
    systems: isSet(1) ? tokenize(tokens[1]!, /,+/) : [localSystem],
    sshKey: isSet(2) ? tokens[2]! : '',
    maxJobs: isSet(3) ? parseUnsigned(row, tokens, 3) : 1,
    speedFactor: Math.max(1, isSet(4) ? parseUnsigned(row, tokens, 4) : 1),
    supportedFeatures: isSet(5) ? byteOrderSet(tokenize(tokens[5]!, /,+/)) : [],
    mandatoryFeatures: isSet(6) ? byteOrderSet(tokenize(tokens[6]!, /,+/)) : [],
    sshPublicHostKey: isSet(7) ? parseHostKey(row, tokens[7]!) : '',
    source: { file: row.file, line: row.line },
  };
}

/** Parses a `builders` value or machines file; throws FormatError('BAD_MACHINES') naming file:line and field. */
export function parseMachines(text: string, opts: ParseMachinesOptions): Machine[] {
  const rows: Row[] = [];
  expandRows(text, opts.file ?? 'builders', opts, 0, rows);
  return rows.map((row) => parseRow(row, opts.localSystem));
}

/** Every required feature is supported or mandatory on the machine. */
export function allSupported(m: Machine, required: Iterable<string>): boolean {
  for (const f of required)
    if (!m.supportedFeatures.includes(f) && !m.mandatoryFeatures.includes(f)) return false;
  return true;
}

/** Every mandatory feature of the machine is among the required ones. */
export function mandatoryMet(m: Machine, required: Iterable<string>): boolean {
  const req = new Set(required);
  return m.mandatoryFeatures.every((f) => req.has(f));
}

/** The machine builds for `system` ("builtin" derivations run anywhere). */
export function systemSupported(m: Machine, system: string): boolean {
  return system === 'builtin' || m.systems.includes(system);
}
