// Keys and table headers of Nix 2.8's TOML reader (toml11 3.7, parser.hpp): parse_simple_key,
// parse_key, parse_table_key and parse_array_table_key.
import { Fail, type Spot, syntaxError } from './toml-error.js';
import * as lex from './toml-lex.js';
import { Cursor, parseBasicString, parseLiteralString, text } from './toml-scalar.js';

/** A key as written: its parts (a dotted key has several) and its text. */
export interface Key {
  keys: string[];
  r: Spot;
}

/** parse_simple_key: a basic string, a literal string or a bare key. */
function parseSimpleKey(c: Cursor): { k: string; r: Spot } | Fail {
  // (Only a quote can start a quoted key; the check spares building failures that are dropped.)
  const quoted =
    c.s[c.i] === '"' ? parseBasicString(c) : c.s[c.i] === "'" ? parseLiteralString(c) : undefined;
  if (quoted && !(quoted instanceof Fail)) return { k: (quoted as { v: string }).v, r: quoted.r };
  const r = c.take(lex.unquotedKey);
  if (r) return { k: text(r), r };
  return new Fail('toml::parse_simple_key: ', [[c.here(), 'the next token is not a simple key']]);
}

/** parse_key: a dotted key is matched whole, then its parts are read from that token alone. */
export function parseKey(c: Cursor): Key | Fail {
  const r = c.take(lex.dottedKey);
  if (r) {
    const inner = new Cursor(text(r));
    const keys: string[] = [];
    while (!inner.atEnd) {
      inner.skip(lex.ws);
      const k = parseSimpleKey(inner);
      if (k instanceof Fail) throw new Error('toml: a dotted key holds an invalid key');
      keys.push(k.k);
      inner.skip(lex.ws);
      if (inner.s[inner.i] === '.') inner.i++;
    }
    return { keys, r };
  }
  const k = parseSimpleKey(c);
  if (!(k instanceof Fail)) return { keys: [k.k], r: k.r };
  return new Fail(
    'toml::parse_key: an invalid key appeared.',
    [[c.here(), 'is not a valid key']],
    [
      'bare keys  : non-empty strings composed only of [A-Za-z0-9_-].',
      'quoted keys: same as "basic strings" or \'literal strings\'.',
      'dotted keys: sequence of bare or quoted keys joined with a dot.',
    ],
  );
}

/** parse_table_key ([a.b]) and parse_array_table_key ([[a.b]]): a header must end its line. */
export function parseHeader(c: Cursor, array: boolean): Key | Fail {
  const name = array ? 'parse_array_table_key' : 'parse_table_key';
  const r = c.take(array ? lex.arrayTable : lex.stdTable);
  if (!r) return new Fail(`toml::${name}: not a valid table key`, [[c.here(), 'here']]);
  const inner = new Cursor(text(r), array ? 2 : 1);
  inner.skip(lex.ws);
  const key = parseKey(inner) as Key;
  if (!c.atEnd && !c.skip(lex.blankLine))
    throw syntaxError(`toml::${name}: newline required after ${array ? '[[table.key]]' : '[table.key]'}`, [
      [c.here(), 'expected newline'],
    ]);
  return { keys: key.keys, r };
}
