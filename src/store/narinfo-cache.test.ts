import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashBytes } from '../formats/hash.js';
import type { NarInfo } from '../formats/narinfo.js';
import { NarInfoCache } from './narinfo-cache.js';

const info: NarInfo = {
  storePath: '/nix/store/vj560xbrqv9ps9b0ypgmsvjdmylg20y1-tinydir',
  url: 'nar/x.nar',
  compression: 'none',
  narHash: hashBytes('sha256', 'x'),
  narSize: 1,
  references: [],
  sigs: [],
};

describe('NarInfoCache', () => {
  it("forgets absence after the negative TTL and presence after the positive TTL (Nix's defaults)", () => {
    let now = 1000;
    const c = new NarInfoCache({ now: () => now });
    assert.equal(c.lookup('a'), undefined);
    c.remember('a', undefined);
    c.remember('b', info);
    assert.deepEqual(c.lookup('a'), { info: undefined });
    now += 3599;
    assert.deepEqual(c.lookup('a'), { info: undefined });
    now += 1;
    assert.equal(c.lookup('a'), undefined);
    assert.deepEqual(c.lookup('b'), { info });
    now += 30 * 24 * 3600;
    assert.equal(c.lookup('b'), undefined);
  });

  it('honours configured TTLs (0 = never remember)', () => {
    const c = new NarInfoCache({ positiveTtl: 0, negativeTtl: 0 });
    c.remember('a', info);
    assert.equal(c.lookup('a'), undefined);
  });
});
