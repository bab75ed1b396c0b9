// Messages on stderr are written as Nix 2.8's logger writes them: escape sequences, CR and BEL
// dropped (colours kept on a colour terminal), tabs expanded from the start of each message.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { colourTerminal, filterMessage, LogStream } from './log-filter.js';
import { noNix, runCliOnStore, runNix } from './run-cli.test-util.js';

const f = (s: string, colours = false) =>
  Buffer.from(filterMessage(Buffer.from(s, 'latin1'), colours)).toString('latin1');

test('escape sequences, CR and BEL are dropped; colours kept only when asked', () => {
  const s = 'a\x1b[1mb\rc\x07d\x1b]x\x1bMe';
  assert.equal(f(s), 'abcdxe');
  assert.equal(f(s, true), 'a\x1b[1mbcdxe');
  assert.equal(f('\x1b[2K\x1b[1;35mwarn\x1b[0m', true), '\x1b[1;35mwarn\x1b[0m');
  assert.equal(f('\x1b[2K\x1b[1;35mwarn\x1b[0m'), 'warn');
  // A sequence cut short at the end, or an ESC before a byte no escape uses.
  assert.equal(f('x\x1b['), 'x');
  assert.equal(f('x\x1b[12'), 'x');
  assert.equal(f('x\x1b'), 'x');
  assert.equal(f('x\x1bay'), 'xay');
});

test('a tab reaches the next multiple of 8 characters from the start of the message', () => {
  assert.equal(f('trace: a\tb'), 'trace: a        b');
  assert.equal(f('\t'), '        ');
  assert.equal(f('1234567\tx'), '1234567 x');
  // Columns run on across lines; escapes and CR take none; a UTF-8 character takes one.
  assert.equal(f('ab\ncd\te'), 'ab\ncd   e');
  assert.equal(f('\x1b[1mab\r\tc'), 'ab      c');
  assert.equal(f('\xc3\xa9\tx'), '\xc3\xa9       x');
  assert.equal(f('\xe2\x82\xac\xf0\x9f\x98\x80\tx'), '\xe2\x82\xac\xf0\x9f\x98\x80      x');
});

test('text with nothing to filter is passed on as it is', () => {
  const b = Buffer.from('error: plain message\n');
  assert.equal(filterMessage(b, false), b);
});

test('colours are kept only on a terminal with a TERM other than dumb and without NO_COLOR', () => {
  assert.equal(colourTerminal({ isTTY: true }, { TERM: 'xterm' }), true);
  assert.equal(colourTerminal({ isTTY: true }, {}), false);
  assert.equal(colourTerminal({ isTTY: true }, { TERM: 'dumb' }), false);
  assert.equal(colourTerminal({ isTTY: true }, { TERM: 'xterm', NO_COLOR: '' }), false);
  assert.equal(colourTerminal({ isTTY: false }, { TERM: 'xterm' }), false);
});

test('LogStream filters each write and passes it on at once', () => {
  const to = new PassThrough();
  const got: Buffer[] = [];
  to.on('data', (c: Buffer) => got.push(c));
  const s = new LogStream(to, false);
  s.write('a\tb\n');
  s.write(Buffer.from('\x1b[31mred\x1b[0m\n'));
  assert.equal(Buffer.concat(got).toString(), 'a       b\nred\n');
});

const tmp = mkdtempSync(join(tmpdir(), 'tix-log-filter-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('traces and errors with escapes and tabs read as with nix-instantiate', { skip: noNix }, async () => {
  const esc = 'builtins.fromJSON "\\"\\\\u001b[1;35mwarn\\\\u001b[0m\\\\tx\\\\ry\\\\u0007z\\""';
  for (const expr of [
    `builtins.trace (${esc}) 1`,
    `throw (${esc})`,
    `builtins.trace "a\\tb\\tc" (throw "x\\ty")`,
  ]) {
    const ours = await runCliOnStore(tmp, 'tix-root', ['eval', '-E', expr]);
    const theirs = runNix(tmp, 'nix-instantiate', ['--eval', '-E', expr]);
    assert.equal(ours.code, theirs.status, expr);
    assert.equal(ours.stderr, theirs.stderr, expr);
  }
});
