import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseHash, printHash } from '../formats/hash.js';
import type { ValidPathInfo } from '../store/store.js';
import { formatSize, pathInfoJson, pathInfoText } from './path-info-format.js';

function info(path: string, narSize: number, extra: Partial<ValidPathInfo> = {}): ValidPathInfo {
  return {
    path,
    narHash: 'sha256:7bdbc9e6407d9d3ed40adc64d746be6366b5f58ee668c6b02866008bbef57202',
    narSize,
    references: [],
    registrationTime: 1,
    ultimate: false,
    sigs: [],
    ...extra,
  };
}

describe('path-info output', () => {
  it('reproduces the 2.8 `nix path-info --json --sigs` vector byte for byte', () => {
    const text = readFileSync('/work/shared/vectors/worked/json/path-info-json-sigs.json', 'utf8');
    const rows = (JSON.parse(text) as Record<string, unknown>[]).map((o) => ({
      path: o.path as string,
      info: {
        path: o.path as string,
        narHash: printHash(parseHash(o.narHash as string), 'base16', { prefix: true }),
        narSize: o.narSize as number,
        references: o.references as string[],
        ca: o.ca as string | undefined,
        deriver: o.deriver as string | undefined,
        registrationTime: o.registrationTime as number,
        ultimate: o.ultimate === true,
        sigs: (o.signatures as string[] | undefined) ?? [],
      },
    }));
    assert.equal(pathInfoJson(rows), text);
  });

  it('prints sizes as 2.8 does (captured output)', () => {
    const dep = '/nix/store/8khmaj1p3b5rg2bvk8ybhrxwsp6wvdmd-dep';
    const top = '/nix/store/qhpyv746fp6pcl8p10ljaqg8w5hh2p09-top';
    const dev = '/nix/store/x3vvibsbh185kgvcl9s3pkjhn17icr91-top-dev';
    const opts = { size: true, closureSize: true, sigs: false, humanReadable: false };
    assert.equal(
      pathInfoText(
        [
          { path: dep, info: info(dep, 120), closureSize: 120 },
          { path: top, info: info(top, 160), closureSize: 280 },
        ],
        opts,
      ),
      `${dep}\t        120\t        120\n${top}\t        160\t        280\n`,
    );
    assert.equal(
      pathInfoText(
        [
          { path: top, info: info(top, 160) },
          { path: dev, info: info(dev, 160) },
        ],
        { ...opts, closureSize: false },
      ),
      `${top}    \t        160\n${dev}\t        160\n`,
    );
    assert.equal(
      pathInfoText([{ path: dep, info: info(dep, 120), closureSize: 120 }], { ...opts, humanReadable: true }),
      `${dep}\t 120.0 \t 120.0 \n`,
    );
    assert.equal(
      pathInfoText(
        [{ path: top, info: info(top, 160, { ultimate: true, ca: 'fixed:sha256:x', sigs: ['k:s'] }) }],
        {
          ...opts,
          size: false,
          closureSize: false,
          sigs: true,
        },
      ),
      `${top}\tultimate ca:fixed:sha256:x k:s\n`,
    );
    assert.equal(
      pathInfoText([{ path: dep, info: info(dep, 1) }], { ...opts, size: false, closureSize: false }),
      `${dep}\n`,
    );
  });

  it('scales human-readable sizes by 1024 only above 1024', () => {
    assert.equal(formatSize(1024, true), '\t1024.0 ');
    assert.equal(formatSize(1536, true), '\t   1.5K');
    assert.equal(formatSize(5 * 1024 * 1024 * 1024, true), '\t   5.0G');
  });
});
