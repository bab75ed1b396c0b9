// builders-use-substitutes end to end: a tix builder host whose own settings name a file:// binary
// cache inside its own namespace (written by Nix 2.8's `nix copy --to file://…`) fetches a build
// input from there when the client asks (serve protocol QueryValidPaths with substitute set), so
// the client uploads none of that input's bytes; without the setting the input is uploaded. Bytes
// are counted by a remote-program wrapper that records everything the client sends to the host.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/run-cli.test-util.js';
import { TEST_PUBLIC, TEST_SECRET } from '../../src/store/binary-cache.test-util.js';
import { Harness, type Host, TIX_STORE_BIN } from '../harness/hosts.js';
import { multiHostSkipReason, NixClient } from '../harness/nix-client.js';
import { Client, placements } from './support.js';

const skip = multiHostSkipReason();
/** Where the builder's cache lives inside its namespace (its private /tmp). */
const CACHE = '/tmp/builder-cache';
/** What the wrapper records: every byte the client sends to the host's tix-store, and its stderr. */
const RECORD = '/tmp/serve-stdin';
const STDERR = '/tmp/serve-stderr';
const PAYLOAD_SIZE = 512 * 1024;

/** Configures a tix host: the cache as its substituter, and a recording remote program. */
function setUpHost(host: Host): string {
  appendFileSync(
    join(host.base, 'conf/etc/tix/tix.conf'),
    `substituters = file://${CACHE}\ntrusted-public-keys = ${TEST_PUBLIC}\n`,
  );
  const wrapper = join(host.base, 'conf/record-serve.sh');
  writeFileSync(wrapper, `#!/bin/sh\ntee -a ${RECORD} | exec ${TIX_STORE_BIN} "$@" 2>>${STDERR}\n`);
  chmodSync(wrapper, 0o755);
  // The conf dir is the host's /run/tix-host.
  return host
    .machinesLine()
    .replace(`remote-program=${TIX_STORE_BIN}`, 'remote-program=/run/tix-host/record-serve.sh');
}

describe('builders-use-substitutes', { skip }, () => {
  let harness: Harness;
  let hosts: Host[];
  let lines: string[];
  let nixClient: NixClient;
  let client: Client;
  let payload: Buffer;
  let payloadPath: string;

  before(async () => {
    harness = Harness.create();
    hosts = await Promise.all([
      harness.startHost({ flavour: 'tix', name: 'subst-with' }),
      harness.startHost({ flavour: 'tix', name: 'subst-without' }),
    ]);
    lines = hosts.map(setUpHost);
    client = new Client(harness);
    nixClient = new NixClient();
    // The same source path in the client's tix store and, through Nix 2.8, in each host's cache.
    payload = randomBytes(PAYLOAD_SIZE);
    writeFileSync(join(client.dir, 'payload'), payload);
    const add = await runCli(['--store', client.storeUri, 'store', 'add', join(client.dir, 'payload')], {
      cwd: join(client.dir, 'cwd'),
      env: client.env,
    });
    assert.equal(add.code, 0, add.stderr);
    payloadPath = add.stdout.trim();
    assert.equal(await nixClient.addFile('payload', payload), payloadPath);
    writeFileSync(join(nixClient.dir, 'sk'), TEST_SECRET);
    for (const h of hosts) {
      const to = `file://${h.base}/tmp/builder-cache?secret-key=${join(nixClient.dir, 'sk')}`;
      const cp = await nixClient.run('nix', ['copy', '--to', to, payloadPath]);
      assert.equal(cp.code, 0, cp.stderr);
    }
    assert.equal(existsSync(CACHE), false, 'the cache is only inside the hosts');
  });
  after(async () => {
    client?.close();
    nixClient?.close();
    await harness?.close();
  });

  /** A derivation that needs the payload, named so each test builds its own. */
  function useDrv(name: string): string {
    const [drv] = client.addDerivations([
      {
        name,
        script: 'test -s $payload && echo "read $payload" > $out',
        env: { payload: payloadPath },
        inputSrcs: [payloadPath],
      },
    ]);
    return drv!;
  }

  const sent = (host: Host) => readFileSync(join(host.base, RECORD));
  const slice = () => payload.subarray(PAYLOAD_SIZE / 2, PAYLOAD_SIZE / 2 + 64);

  test('with the setting the builder fetches the input from its cache: zero payload bytes uploaded', async () => {
    const drv = useDrv('use-payload-substituted');
    const r = await client.build([
      '--max-jobs',
      '0',
      '--builders',
      lines[0]!,
      '--option',
      'builders-use-substitutes',
      'true',
      drv,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      placements(r.stderr).get(drv),
      hosts[0]!.uri.replace(TIX_STORE_BIN, '/run/tix-host/record-serve.sh'),
    );
    assert.match(readFileSync(join(client.dir, 'tix', r.stdout.trim()), 'utf8'), /^read .*-payload\n$/);
    const bytes = sent(hosts[0]!);
    assert.equal(bytes.indexOf(slice()), -1, 'no part of the payload was sent');
    assert.ok(bytes.length < PAYLOAD_SIZE / 8, `only protocol traffic went up (${bytes.length} bytes)`);
    assert.equal(
      readFileSync(join(hosts[0]!.base, STDERR), 'utf8'),
      `copying path '${payloadPath}' from 'file://${CACHE}'...\n`,
    );
    // The builder has the path, registered from the cache (with the cache's signature).
    const info = await hosts[0]!.run(
      `${TIX_STORE_BIN.replace(/tix-store$/, 'tix')} path-info --json ${payloadPath}`,
    );
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /research-cache-1:/);
  });

  test('without the setting the input is uploaded', async () => {
    const drv = useDrv('use-payload-uploaded');
    const r = await client.build(['--max-jobs', '0', '--builders', lines[1]!, drv]);
    assert.equal(r.code, 0, r.stderr);
    const bytes = sent(hosts[1]!);
    assert.notEqual(bytes.indexOf(slice()), -1, 'the payload was sent');
    assert.ok(bytes.length >= PAYLOAD_SIZE);
  });
});
