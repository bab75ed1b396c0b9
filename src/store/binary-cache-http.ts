// http:// and https:// binary caches: GET (404/403 = absent, as Nix treats them), PUT to upload
// (what Nix's HTTP binary cache store does). Keep-alive connections are shared by every request.
import { randomBytes } from 'node:crypto';
import { createReadStream, statSync, unlinkSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { CacheTransport } from './binary-cache-transport.js';
import { StoreError } from './errors.js';
import { httpsCaOptions } from './tls-ca.js';

export interface HttpTransportOptions {
  /** Seconds allowed to connect (Nix's connect-timeout); 0 = no limit. */
  connectTimeout?: number;
  /** Parallel connections per cache (Nix's http-connections). */
  maxSockets?: number;
}

export class HttpCacheTransport implements CacheTransport {
  readonly uri: string;
  readonly #base: URL;
  readonly #agent: HttpAgent;
  readonly #timeoutMs: number;

  constructor(uri: string, opts: HttpTransportOptions = {}) {
    this.uri = uri.replace(/\/+$/, '');
    this.#base = new URL(`${this.uri}/`);
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 25 };
    this.#agent =
      this.#base.protocol === 'https:'
        ? new HttpsAgent({ ...agentOpts, ...httpsCaOptions() })
        : new HttpAgent(agentOpts);
    this.#timeoutMs = (opts.connectTimeout ?? 0) * 1000;
  }

  #url(rel: string): URL {
    return new URL(rel, this.#base);
  }

  #request(
    method: string,
    rel: string,
    body?: { stream: Readable; length: number; mime: string },
  ): Promise<IncomingMessage> {
    const url = this.#url(rel);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = {};
      if (body) {
        headers['content-type'] = body.mime;
        headers['content-length'] = body.length;
      }
      const req = send(url, { method, agent: this.#agent, headers }, resolve);
      const fail = (e: Error) =>
        reject(new StoreError('IO', `cannot ${method} '${url.href}': ${e.message}`, { cause: e }));
      req.on('error', fail);
      if (this.#timeoutMs > 0) {
        req.setTimeout(this.#timeoutMs, () =>
          req.destroy(new Error(`no response within ${this.#timeoutMs / 1000} s`)),
        );
      }
      if (body) {
        body.stream.on('error', (e) => req.destroy(e));
        body.stream.pipe(req);
      } else req.end();
    });
  }

  async #failed(res: IncomingMessage, method: string, rel: string): Promise<never> {
    let text = '';
    for await (const c of res) if (text.length < 500) text += c.toString();
    throw new StoreError(
      'IO',
      `cannot ${method} '${this.#url(rel).href}': HTTP error ${res.statusCode}${text ? ` (${text.trim().slice(0, 200)})` : ''}`,
    );
  }

  async get(rel: string): Promise<Buffer | undefined> {
    const res = await this.#request('GET', rel);
    if (res.statusCode === 404 || res.statusCode === 403) {
      res.resume();
      return undefined;
    }
    if (res.statusCode !== 200) return this.#failed(res, 'GET', rel);
    const parts: Buffer[] = [];
    for await (const c of res) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  async *getStream(rel: string): AsyncIterable<Uint8Array> {
    const res = await this.#request('GET', rel);
    if (res.statusCode === 404 || res.statusCode === 403) {
      res.resume();
      throw new StoreError('INVALID_PATH', `file '${rel}' does not exist in binary cache '${this.uri}'`);
    }
    if (res.statusCode !== 200) await this.#failed(res, 'GET', rel);
    const expected = Number(res.headers['content-length'] ?? Number.NaN);
    let seen = 0;
    try {
      for await (const c of res) {
        seen += (c as Buffer).length;
        yield c as Buffer;
      }
    } catch (e) {
      throw new StoreError('IO', `cannot download '${this.#url(rel).href}': ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (!Number.isNaN(expected) && seen !== expected) {
      throw new StoreError(
        'IO',
        `cannot download '${this.#url(rel).href}': connection closed after ${seen} of ${expected} bytes`,
      );
    }
  }

  async put(rel: string, data: Uint8Array | string, mime: string): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    const res = await this.#request('PUT', rel, { stream: Readable.from([buf]), length: buf.length, mime });
    if (res.statusCode! < 200 || res.statusCode! >= 300) return this.#failed(res, 'PUT', rel);
    res.resume();
  }

  stagingFile(): string {
    return join(tmpdir(), `tix-upload-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  async putStaged(staged: string, rel: string, mime: string): Promise<void> {
    try {
      const length = statSync(staged).size;
      const res = await this.#request('PUT', rel, { stream: createReadStream(staged), length, mime });
      if (res.statusCode! < 200 || res.statusCode! >= 300) return this.#failed(res, 'PUT', rel);
      res.resume();
    } finally {
      unlinkSync(staged);
    }
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }
}
