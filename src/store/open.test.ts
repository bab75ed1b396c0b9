import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalStore } from './local.js';
import { MemoryStore } from './memory.js';
import {
  DAEMON_SOCKET_IN_ROOT,
  defaultStoreRoot,
  openStore,
  opensLocalStore,
  parseStoreUri,
  registerStoreBackend,
  resolveStoreUri,
} from './open.js';
import { removeDir, tempDir } from './test-util.js';

describe('store URIs', () => {
  const dir = tempDir();
  after(() => removeDir(dir));

  it('resolveStoreUri: flag > TIX_STORE > setting > auto', () => {
    assert.equal(resolveStoreUri('ssh://a', { TIX_STORE: 'daemon' }, { store: 'local' }), 'ssh://a');
    assert.equal(resolveStoreUri(undefined, { TIX_STORE: 'daemon' }, { store: 'local' }), 'daemon');
    assert.equal(resolveStoreUri(undefined, {}, new Map([['store', 'local?root=/x']])), 'local?root=/x');
    assert.equal(resolveStoreUri(undefined, {}), 'auto');
  });

  it('parses Nix store URIs', () => {
    assert.deepEqual(parseStoreUri('local?root=/tmp/r&state=/s'), {
      scheme: 'local',
      rest: '',
      params: new Map([
        ['root', '/tmp/r'],
        ['state', '/s'],
      ]),
    });
    assert.equal(parseStoreUri('ssh-ng://user@host?ssh-key=/k').scheme, 'ssh-ng');
    assert.equal(parseStoreUri('ssh-ng://user@host?ssh-key=/k').rest, 'user@host');
    assert.equal(parseStoreUri('/some/root').params.get('root'), '/some/root');
    assert.throws(() => parseStoreUri('no spaces allowed'), { code: 'BAD_URI' });
  });

  it('opensLocalStore tells a local store before opening it, "auto" by the daemon socket', () => {
    const env = { XDG_DATA_HOME: join(dir, 'sock') };
    for (const uri of ['local', 'local?root=/r', '/some/root', 'auto'])
      assert.equal(opensLocalStore(uri, env), true, uri);
    for (const uri of ['daemon', 'ssh://b', 'file:///c', 'memory', 'bad uri'])
      assert.equal(opensLocalStore(uri, env), false, uri);
    const socket = join(defaultStoreRoot(env), DAEMON_SOCKET_IN_ROOT);
    mkdirSync(dirname(socket), { recursive: true });
    writeFileSync(socket, '');
    assert.equal(opensLocalStore('auto', env), false);
    assert.equal(opensLocalStore('local', env), true);
  });

  it('defaults to $XDG_DATA_HOME/tix/root (or ~/.local/share/tix/root)', async () => {
    assert.equal(defaultStoreRoot({ XDG_DATA_HOME: '/d' }), '/d/tix/root');
    assert.equal(defaultStoreRoot({ HOME: '/home/u' }), '/home/u/.local/share/tix/root');
    for (const uri of ['auto', 'local']) {
      const s = await openStore(uri, { env: { XDG_DATA_HOME: join(dir, 'xdg') } });
      assert.ok(s instanceof LocalStore);
      assert.equal(s.realStoreDir, join(dir, 'xdg/tix/root/nix/store'));
      assert.equal(s.uri, `local?root=${join(dir, 'xdg/tix/root')}`);
      await s.close();
    }
  });

  it('opens local stores with explicit dirs, memory stores and registered backends', async () => {
    const s = await openStore(`local?root=${join(dir, 'r')}`, { settings: { 'keep-outputs': 'true' } });
    assert.ok(s instanceof LocalStore && s.keepOutputs && s.stateDir === join(dir, 'r/nix/var/tix'));
    await s.close();
    assert.ok((await openStore('memory')) instanceof MemoryStore);
    await assert.rejects(openStore('gopher://x'), { code: 'BAD_URI' });
    registerStoreBackend('test-scheme', async () => new MemoryStore());
    assert.ok((await openStore('test-scheme://x')) instanceof MemoryStore);
  });
});
