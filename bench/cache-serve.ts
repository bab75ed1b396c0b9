// Benchmark (issue: binary caches): `tix cache serve` streaming 1 GiB of uncompressed NARs over
// loopback to one client (curl), against reading the same bytes from disk with `cat`. Measured
// twice: from disk (page cache dropped before every run of either side, when this process may
// write /proc/sys/vm/drop_caches) and from a warm page cache. Goal: serve throughput >= 0.8x of
// the disk read.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { measure, tempDir, timeShell, tixBin } from './lib.js';

const dir = tempDir('cache-serve');
const files = 4;
const size = 256 << 20;
let server: ReturnType<typeof spawn> | undefined;
try {
  const src = join(dir, 'src');
  mkdirSync(src);
  const chunk = randomBytes(16 << 20);
  for (let i = 0; i < files; i++) {
    const buf = Buffer.alloc(size);
    for (let off = 0; off < size; off += chunk.length) chunk.copy(buf, off);
    buf.writeUInt32LE(i, 0);
    writeFileSync(join(src, `f${i}.bin`), buf);
  }
  const store = `local?root=${join(dir, 'root')}`;
  const paths: string[] = [];
  for (let i = 0; i < files; i++) {
    const out = spawn(tixBin, ['--store', store, 'store', 'add', join(src, `f${i}.bin`)]);
    let text = '';
    out.stdout.on('data', (d: Buffer) => {
      text += d.toString();
    });
    await new Promise((r) => out.on('close', r));
    paths.push(text.trim());
  }
  server = spawn(tixBin, ['--store', store, 'cache', 'serve', '--port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    server!.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    server!.on('close', () => reject(new Error(`cache serve exited: ${err}`)));
  });
  const narUrls: string[] = [];
  for (const p of paths) {
    const r = await fetch(`${url}/${p.slice(11, 43)}.narinfo`);
    const m = /^URL: (.*)$/m.exec(await r.text());
    narUrls.push(`${url}/${m![1]}`);
  }
  const realFiles = paths.map((p) => join(dir, 'root', p));
  timeShell(`cat ${realFiles.join(' ')} > /dev/null`);
  const curl = `for u in ${narUrls.join(' ')}; do curl -sf "$u" -o /dev/null || exit 1; done`;
  // The server must run while curl does: time asynchronously.
  const timeAsync = (script: string) =>
    new Promise<number>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const c = spawn('bash', ['-c', script], { stdio: 'ignore' });
      c.on('close', (code) =>
        code === 0
          ? resolve(Number(process.hrtime.bigint() - t0) / 1e9)
          : reject(new Error(`${script} failed`)),
      );
    });
  const serveTimes: number[] = [];
  for (let i = 0; i < 3; i++) serveTimes.push(await timeAsync(curl));
  serveTimes.sort((a, b) => a - b);
  const serve = serveTimes[1]!;
  // The loopback ceiling: a Node server sending one buffer from memory, same total bytes, same client.
  const mem = Buffer.alloc(1 << 20, 7);
  const ceilingServer = createServer(async (_req, res) => {
    res.writeHead(200, { 'content-length': size });
    for (let i = 0; i < size / mem.length; i++)
      if (!res.write(mem)) await new Promise((r) => res.once('drain', r));
    res.end();
  });
  await new Promise<void>((r) => ceilingServer.listen(0, '127.0.0.1', r));
  const ceilingUrl = `http://127.0.0.1:${(ceilingServer.address() as AddressInfo).port}/`;
  const ceilingTimes: number[] = [];
  for (let i = 0; i < 3; i++)
    ceilingTimes.push(
      await timeAsync(`for i in 1 2 3 4; do curl -sf ${ceilingUrl} -o /dev/null || exit 1; done`),
    );
  ceilingServer.close();
  const ceiling = ceilingTimes.sort((a, b) => a - b)[1]!;
  const disk = measure(3, () => timeShell(`cat ${realFiles.join(' ')} > /dev/null`));
  // Cold: both sides read from the disk itself.
  let canDrop = true;
  try {
    accessSync('/proc/sys/vm/drop_caches', constants.W_OK);
  } catch {
    canDrop = false;
  }
  const dropCaches = () => timeShell('sync; echo 3 > /proc/sys/vm/drop_caches');
  let cold: { serve: number; disk: number } | undefined;
  if (canDrop) {
    const coldServe: number[] = [];
    for (let i = 0; i < 3; i++) {
      dropCaches();
      coldServe.push(await timeAsync(curl));
    }
    const coldDisk = measure(3, () => timeShell(`cat ${realFiles.join(' ')} > /dev/null`), dropCaches);
    cold = { serve: coldServe.sort((a, b) => a - b)[1]!, disk: coldDisk };
  }
  const gib = (files * size) / 2 ** 30;
  console.log(
    `# ${new Date().toISOString().slice(0, 10)}, ${gib} GiB of NARs (${files} x 256 MiB), loopback, curl client`,
  );
  if (cold) {
    console.log(
      `cache-serve (from disk, caches dropped): tix ${((gib * 1024) / cold.serve).toFixed(0)} MiB/s (${cold.serve.toFixed(3)} s), disk read ${((gib * 1024) / cold.disk).toFixed(0)} MiB/s (${cold.disk.toFixed(3)} s), ratio ${(cold.disk / cold.serve).toFixed(2)}x of disk (goal >= 0.8x)`,
    );
  } else {
    console.log('cache-serve (from disk): not measured, /proc/sys/vm/drop_caches is not writable');
  }
  console.log(
    `cache-serve (warm page cache): tix ${((gib * 1024) / serve).toFixed(0)} MiB/s (${serve.toFixed(3)} s), disk read ${((gib * 1024) / disk).toFixed(0)} MiB/s (${disk.toFixed(3)} s), ratio ${(disk / serve).toFixed(2)}x of disk (for information)`,
  );
  console.log(
    `cache-serve: loopback ceiling (Node server sending memory to curl) ${((gib * 1024) / ceiling).toFixed(0)} MiB/s; tix reaches ${(ceiling / serve).toFixed(2)}x of it`,
  );
} finally {
  server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
