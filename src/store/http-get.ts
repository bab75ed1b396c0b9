// GET over http:// or https://, following redirects (at most 10, as Nix's curl), for
// builtin:fetchurl and prefetch-url. https trusts the CAs of tls-ca.ts; `verifyTls: false` accepts
// any certificate (builtin:fetchurl, as Nix 2.8: the fixed output's hash is the check).
import { get as httpGetRaw, type IncomingMessage } from 'node:http';
import { get as httpsGetRaw } from 'node:https';
import { httpsCaOptions } from './tls-ca.js';

export const MAX_REDIRECTS = 10;

/**
 * The response to GET `url` after redirects: any final status (the caller checks it). Rejects
 * with the connection's error, or "Maximum (10) redirects followed".
 */
export async function httpGet(url: string, opts: { verifyTls?: boolean } = {}): Promise<IncomingMessage> {
  let current = new URL(url);
  for (let redirects = 0; ; redirects++) {
    const res = await getOnce(current, opts.verifyTls ?? true);
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(res.statusCode ?? 0) || location === undefined) return res;
    res.resume();
    if (redirects === MAX_REDIRECTS) throw new Error(`Maximum (${MAX_REDIRECTS}) redirects followed`);
    current = new URL(location, current);
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new Error(`redirect to unsupported URL '${current.href}'`);
    }
  }
}

function getOnce(url: URL, verifyTls: boolean): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    // A connection of its own (agent: false): a pooled one may have been made with other CAs.
    const req =
      url.protocol === 'https:'
        ? httpsGetRaw(url, { agent: false, ...httpsCaOptions(), rejectUnauthorized: verifyTls }, resolve)
        : httpGetRaw(url, { agent: false }, resolve);
    req.on('error', reject);
  });
}
