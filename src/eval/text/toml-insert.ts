// insert_nested_key of Nix 2.8's TOML reader (toml11 3.7, parser.hpp): how a value joins the table
// being built, and which earlier definitions it may not override. toml11 judges a table by the text
// that defined it last (its region): an inline table ({…}) is closed, a [header] may be given once,
// a table implied by a dotted key or a longer header may be defined by a header later.
import { Fail, syntaxError } from './toml-error.js';
import { type Key, parseHeader, parseKey } from './toml-key.js';
import { Cursor, type Node, text, typeName } from './toml-scalar.js';

export type Table = Map<string, Node>;

const sameKeys = (a: string[], b: string[]) => a.length === b.length && a.every((k, i) => k === b[i]);

/**
 * is_valid_forward_table_definition: whether `inserting` (a table) may be merged into the table
 * `fwd` already at its key. toml11 decides by the text each was defined by: never an inline table;
 * a [header] only if the earlier header named another path; a dotted key always (it named a
 * longer path).
 */
function isValidForwardTableDefinition(fwd: Node, inserting: Node, keys: string[]): boolean {
  // toml11 reads the inserted table's text again as an inline table, which succeeds exactly when it
  // was one (the text of a table from a [header] starts with '[').
  if (inserting.r.src[inserting.r.first] === '{') return false;
  const def = new Cursor(text(fwd.r));
  const header = parseHeader(def, false);
  if (!(header instanceof Fail)) return !sameKeys(header.keys, keys);
  const dotted = parseKey(def);
  if (!(dotted instanceof Fail)) return !sameKeys(dotted.keys, keys.slice(-1));
  return false;
}

/** insert_nested_key: puts `v` at the dotted path `key` into `root`, or throws what conflicts. */
export function insertNestedKey(root: Table, v: Node, key: Key, arrayOfTables: boolean) {
  const { keys } = key;
  const fail = (what: string, old: Node, oldNote: string, newNote: string) =>
    syntaxError(`toml::insert_value: ${what}`, [
      [old.r, oldNote],
      [v.r, newNote],
    ]);
  let tab = root;
  for (let n = 1; n < keys.length; n++) {
    // An intermediate key: a table (created if missing) or an array whose last element is a table.
    const k = keys[n - 1]!;
    const path = () => keys.slice(0, n).join('.');
    let next = tab.get(k);
    if (next === undefined) {
      next = { t: 'table', v: new Map(), r: key.r };
      tab.set(k, next);
    }
    if (next.t === 'table') {
      if (next.r.src[next.r.first] === '{')
        throw fail(
          `inserting to an inline table (${path()}) but inline tables are immutable`,
          next,
          'inline tables are immutable',
          'inserting this',
        );
      tab = next.v;
      continue;
    }
    // Nix 2.8 crashes on an empty array here; tix reports it as not a table.
    const last = next.t === 'array' ? (next.v[next.v.length - 1] ?? next) : next;
    if (last.t !== 'table')
      throw fail(
        `target (${path()}) is neither table nor an array of tables`,
        last,
        `actual type is ${typeName(last)}`,
        'inserting this',
      );
    tab = last.v;
  }

  const k = keys[keys.length - 1]!;
  const path = keys.join('.');
  const old = tab.get(k);
  if (arrayOfTables) {
    if (old === undefined) {
      tab.set(k, { t: 'array', v: [v], r: key.r });
      return;
    }
    if (old.t === 'table')
      throw fail(
        `array of table ("${path}") cannot be defined`,
        old,
        'table already defined',
        'this conflicts with the previous table',
      );
    if (old.t !== 'array' || old.v[0]?.t !== 'table')
      throw fail(
        `array of table ("${path}") collides with existing value`,
        old,
        `this ${typeName(old)} value already exists`,
        'while inserting this array-of-tables',
      );
    // An array of inline tables (`a = [{}]`) has a fixed size.
    if (!text(old.v[0].r).startsWith('[['))
      throw fail(
        `array of table ("${path}") collides with existing array-of-tables`,
        old,
        `this ${typeName(old)} value has static size`,
        'appending it to the statically sized array',
      );
    old.v.push(v);
    return;
  }
  if (old === undefined) {
    tab.set(k, v);
    return;
  }
  if (old.t === 'table' && v.t === 'table') {
    if (!isValidForwardTableDefinition(old, v, keys))
      throw fail(
        `table ("${path}") already exists.`,
        old,
        'table already exists here',
        'table defined twice',
      );
    for (const [name, value] of v.v) {
      const clash = old.v.get(name);
      if (clash)
        throw fail(`value ("${path}") already exists.`, clash, 'already exists here', 'this defined twice');
      old.v.set(name, value);
    }
    old.r = key.r;
    return;
  }
  if (v.t === 'table' && old.t === 'array' && old.v[0]?.t === 'table')
    throw fail(
      `array of tables ("${path}") already exists.`,
      old,
      'array of tables defined here',
      'table conflicts with the previous array of table',
    );
  throw fail(`value ("${path}") already exists.`, old, 'value already exists here', 'value defined twice');
}
