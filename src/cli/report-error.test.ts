import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { reportError } from './report-error.js';

function sink(): { stream: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

test('an error formatted as bytes is written byte for byte (bytes that are not UTF-8 kept)', () => {
  const out = sink();
  const e = Object.assign(new Error('x'), {
    code: 'THROW',
    formatBytes: () => 'error: a\xff\xfeb',
    format: () => 'error: a\ufffd\ufffdb',
  });
  assert.equal(reportError(e, out.stream, { showTrace: false }), 1);
  assert.deepEqual([...out.bytes()], [...Buffer.from('error: a'), 0xff, 0xfe, 0x62, 0x0a]);
});

test('other domain errors print one line; anything else is internal', () => {
  const out = sink();
  const e = Object.assign(new Error('no such path'), { code: 'NOT_FOUND', exitCode: 3 });
  assert.equal(reportError(e, out.stream, { showTrace: false }), 3);
  assert.equal(out.bytes().toString(), 'error: no such path\n');
  const other = sink();
  assert.equal(reportError(new TypeError('bug'), other.stream, { showTrace: false }), 1);
  assert.match(other.bytes().toString(), /^error \(internal\): TypeError: bug/);
});
