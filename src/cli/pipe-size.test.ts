import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { growPipe, isPipe, PIPE_BYTES } from './pipe-size.js';

const dir = mkdtempSync(join(tmpdir(), 'tix-pipe-size-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('pipes and sockets are told apart from files and closed descriptors', () => {
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  // O_RDWR opens a FIFO without waiting for a writer (Linux).
  const pipe = openSync(fifo, constants.O_RDWR);
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  const plain = openSync(file, 'r');
  try {
    assert.equal(isPipe(pipe), true);
    assert.equal(isPipe(plain), false);
    assert.equal(isPipe(12345), false); // not open
  } finally {
    for (const fd of [pipe, plain]) closeSync(fd);
  }
});

test('growPipe makes a pipe 1 MiB and leaves a file alone', () => {
  const fifo = join(dir, 'fifo2');
  execFileSync('mkfifo', [fifo]);
  const fd = openSync(fifo, constants.O_RDWR);
  const file = openSync(join(dir, 'file2'), 'w');
  try {
    assert.equal(growPipe(fd), PIPE_BYTES);
    assert.equal(growPipe(file), undefined);
  } finally {
    closeSync(fd);
    closeSync(file);
  }
});
