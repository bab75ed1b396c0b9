import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openServeStore } from '../../src/store/serve.js';
import { Harness, TIX_STORE_BIN } from './hosts.js';
import { multiHostSkipReason, NixClient } from './nix-client.js';

const skip = multiHostSkipReason();
const tixStoreBuilt = existsSync(join(dirname(dirname(TIX_STORE_BIN)), 'dist', 'src', 'store', 'open.js'))
  ? undefined
  : 'needs the compiled store layer (dist/src/store/open.js) for bin/tix-store';

describe('serve protocol over the multi-host harness', { skip }, () => {
  let harness: Harness;
  before(() => {
    harness = Harness.create();
  });
  after(() => harness.close());

  test('tix ServeStore over ssh to a nix host, host key pinned; a wrong key is refused', async () => {
    const [host, other] = await Promise.all([harness.startHost(), harness.startHost()]);
    const uri = `${host.uri}?ssh-key=${harness.clientKey.privateKeyFile}&base64-ssh-public-host-key=${host.hostKeyBase64}`;
    const s = await openServeStore(uri, { sshOpts: ['-F', harness.sshConfigFile] });
    try {
      assert.equal(s.remoteVersion, 0x207);
      const p = await s.addTextToStore('over-ssh.txt', 'sent over ssh\n', []);
      const check = await host.run(`cat ${p}`);
      assert.equal(check.stdout, 'sent over ssh\n');
      assert.equal(await s.isValidPath(p), true);
    } finally {
      await s.close();
    }
    const wrong = `${host.uri}?base64-ssh-public-host-key=${other.hostKeyBase64}`;
    await assert.rejects(openServeStore(wrong, { sshOpts: ['-F', harness.sshConfigFile] }), {
      code: 'HOST_KEY',
      message: `host key of '${host.name}' does not match the pinned key`,
    });
    await host.kill();
    await assert.rejects(openServeStore(uri, { sshOpts: ['-F', harness.sshConfigFile] }), {
      code: 'CONNECTION',
    });
    await other.kill();
  });

  test('a real Nix 2.8 client copies to tix-store --serve --write on a tix host', {
    skip: tixStoreBuilt,
  }, async () => {
    const host = await harness.startHost({ flavour: 'tix' });
    assert.ok(host.uri.includes(TIX_STORE_BIN));
    const client = new NixClient(harness.env());
    try {
      const p = await client.addFile('to-tix.txt', 'nix 2.8 to tix\n');
      const copy = await client.run('nix', ['copy', '--to', host.uri, p]);
      assert.equal(copy.code, 0, copy.stderr);
      const check = await host.run(`cat ${p}`);
      assert.equal(check.stdout, 'nix 2.8 to tix\n');
      const ping = await client.run('nix', ['store', 'ping', '--store', host.uri]);
      assert.equal(ping.code, 0, ping.stderr);
    } finally {
      client.close();
      await host.kill();
    }
  });
});
