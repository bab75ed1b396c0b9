// https with a certificate authority of the test's own (openssl): httpGet and the https binary-cache
// transport trust it through NODE_EXTRA_CA_CERTS or NIX_SSL_CERT_FILE / SSL_CERT_FILE, read when
// the first connection is made; redirects; and bin/tix, which starts node without
// NODE_EXTRA_CA_CERTS and puts it back for https.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpCacheTransport } from './binary-cache-http.js';
import { httpGet } from './http-get.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
const repo = new URL('../../../', import.meta.url).pathname.replace(/\/dist\/$/, '/');
const built = existsSync(join(repo, 'dist/src/cli/tix.js'));

const SERVER = `const https = require('node:https'), fs = require('node:fs');
const [key, cert] = process.argv.slice(1).map((f) => fs.readFileSync(f));
const s = https.createServer({ key, cert }, (q, r) => {
  if (q.url === '/hello.txt') return r.writeHead(200).end('hello over tls\\n');
  if (q.url === '/nix-cache-info') return r.writeHead(200).end('StoreDir: /nix/store\\n');
  if (q.url === '/moved') return r.writeHead(302, { location: '/hello.txt' }).end();
  if (q.url.startsWith('/loop')) return r.writeHead(301, { location: '/loop' + (q.url.length) }).end();
  r.writeHead(404, 'Not Found').end();
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;

describe('https with an extra certificate authority', { skip: haveOpenssl ? false : 'no openssl' }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tix-tls-'));
  const ca = join(tmp, 'ca.pem');
  let server: ChildProcess;
  let base = '';
  const saved = {
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
    NIX_SSL_CERT_FILE: process.env.NIX_SSL_CERT_FILE,
    SSL_CERT_FILE: process.env.SSL_CERT_FILE,
  };
  /** Sets (or, with undefined, removes) the CA variables of this process. */
  const caEnv = (vars: Partial<typeof saved>) => {
    for (const k of Object.keys(saved) as (keyof typeof saved)[]) {
      if (vars[k] === undefined) delete process.env[k];
      else process.env[k] = vars[k];
    }
  };
  before(async () => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: tmp, stdio: 'pipe' });
    ssl(
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'],
      ...['-subj', '/CN=tix test CA', '-keyout', 'ca.key', '-out', 'ca.pem'],
    );
    ssl(
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'],
      ...['-subj', '/CN=another CA', '-keyout', 'other-ca.key', '-out', 'other-ca.pem'],
    );
    ssl(
      ...['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1'],
      ...['-keyout', 'server.key', '-out', 'server.csr'],
    );
    writeFileSync(join(tmp, 'ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl(
      ...['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'],
      ...['-days', '2', '-extfile', 'ext', '-out', 'server.pem'],
    );
    server = spawn(process.execPath, ['-e', SERVER, join(tmp, 'server.key'), join(tmp, 'server.pem')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<string>((resolve) =>
      server.stdout!.once('data', (d) => resolve(String(d).trim())),
    );
    base = `https://127.0.0.1:${port}`;
  });
  after(() => {
    server?.kill();
    caEnv(saved);
    rmSync(tmp, { recursive: true, force: true });
  });

  const body = async (res: AsyncIterable<Uint8Array>) => {
    let s = '';
    for await (const c of res) s += Buffer.from(c).toString();
    return s;
  };

  test('httpGet trusts the CA named by NODE_EXTRA_CA_CERTS, and only then', async () => {
    caEnv({});
    await assert.rejects(httpGet(`${base}/hello.txt`), /self-signed certificate|unable to (get|verify)/);
    // Unchecked, as builtin:fetchurl fetches.
    assert.equal(await body(await httpGet(`${base}/hello.txt`, { verifyTls: false })), 'hello over tls\n');
    caEnv({ NODE_EXTRA_CA_CERTS: ca });
    const res = await httpGet(`${base}/hello.txt`);
    assert.equal(res.statusCode, 200);
    assert.equal(await body(res), 'hello over tls\n');
  });

  test('NIX_SSL_CERT_FILE, else SSL_CERT_FILE, names the CA file, as for Nix 2.8', async () => {
    for (const vars of [{ NIX_SSL_CERT_FILE: ca }, { SSL_CERT_FILE: ca }]) {
      caEnv(vars);
      assert.equal(await body(await httpGet(`${base}/hello.txt`)), 'hello over tls\n', JSON.stringify(vars));
    }
    // NIX_SSL_CERT_FILE wins, and it replaces the roots (here: a bundle without the test's CA).
    caEnv({ NIX_SSL_CERT_FILE: join(tmp, 'other-ca.pem'), SSL_CERT_FILE: ca });
    await assert.rejects(httpGet(`${base}/hello.txt`), /self-signed certificate|unable to (get|verify)/);
  });

  test('redirects are followed, at most 10', async () => {
    caEnv({ NODE_EXTRA_CA_CERTS: ca });
    const res = await httpGet(`${base}/moved`);
    assert.equal(res.statusCode, 200);
    assert.equal(await body(res), 'hello over tls\n');
    await assert.rejects(httpGet(`${base}/loop`), /^Error: Maximum \(10\) redirects followed$/);
    const missing = await httpGet(`${base}/nothere`);
    assert.equal(missing.statusCode, 404);
    missing.resume();
  });

  test('an https binary cache trusts the extra CA too', async () => {
    caEnv({ NODE_EXTRA_CA_CERTS: ca });
    const t = new HttpCacheTransport(base);
    try {
      assert.equal((await t.get('nix-cache-info'))?.toString(), 'StoreDir: /nix/store\n');
      assert.equal(await t.get('nothere'), undefined);
    } finally {
      await t.close();
    }
  });

  test('bin/tix starts node without NODE_EXTRA_CA_CERTS, then uses it for https', {
    skip: built ? false : 'dist/ is not built',
  }, () => {
    const tix = (args: string[], extra: string | undefined) => {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: tmp, TIX_CONF_DIR: join(tmp, 'etc') };
      if (extra !== undefined) env.NODE_EXTRA_CA_CERTS = extra;
      const r = spawnSync(join(repo, 'bin/tix'), ['--store', `local?root=${join(tmp, 'root')}`, ...args], {
        cwd: tmp,
        env,
      });
      return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    };
    // Node warns at start-up about an unreadable extra-certificates file; through bin/tix it never
    // sees one at start-up, and the run's children see the variable as it was.
    const missing = join(tmp, 'no-such-ca.pem');
    const plainNode = spawnSync(process.execPath, ['-e', '0'], { env: { NODE_EXTRA_CA_CERTS: missing } });
    assert.match(plainNode.stderr.toString(), /Ignoring extra certs/);
    const evalRun = tix(['eval', '-E', 'builtins.getEnv "NODE_EXTRA_CA_CERTS"'], missing);
    assert.deepEqual(evalRun, { status: 0, stdout: `"${missing}"\n`, stderr: '' });
    // prefetch-url checks the certificate (as nix-prefetch-url does).
    const ok = tix(['prefetch-url', `${base}/hello.txt`], ca);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^[0-9a-z]{52}\n$/);
    const refused = tix(['prefetch-url', `${base}/hello.txt`], undefined);
    assert.equal(refused.status, 1);
    assert.match(
      refused.stderr,
      /unable to download '[^']*hello\.txt': .*(self-signed|unable to (get|verify))/,
    );
  });
});
