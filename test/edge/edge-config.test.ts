/**
 * The gate unit's config file: the plate regions it reads (all by default,
 * or a list such as ["CN"]), and a bad entry refused with the setting named.
 */
import { allCountries, parseRegions } from '../../proto/regions.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EdgeConfigError, parseEdgeConfig } from '../../edge/edge-config.js';

const GATE_ID = 'gat_' + '1'.repeat(32);

const minimal = {
  gateId: GATE_ID,
  cloudUrl: 'ws://127.0.0.1:8080/v1/gates/ws',
  keyFile: 'gate.key',
  journal: 'edge.db',
  lanes: [
    {
      laneId: 'lan_' + '0'.repeat(32),
      direction: 'entry',
      camera: { type: 'replay', dir: 'cam' },
      barrier: { type: 'simulated' },
    },
  ],
};

describe('edge config: regions', () => {
  it('reads every region by default', () => {
    assert.deepEqual(parseEdgeConfig(minimal, '/tmp').regions, allCountries);
  });

  it('takes a list of countries and groups', () => {
    assert.deepEqual(parseEdgeConfig({ ...minimal, regions: ['CN'] }, '/tmp').regions, ['CN']);
    assert.deepEqual(parseEdgeConfig({ ...minimal, regions: ['BR', 'AR'] }, '/tmp').regions, ['BR', 'AR']);
    assert.deepEqual(parseEdgeConfig({ ...minimal, regions: ['US', 'EU'] }, '/tmp').regions, [
      'US',
      ...parseRegions('EU'),
    ]);
  });

  for (const [what, regions, message] of [
    ['an unknown region', ['CN', 'XX'], /config\.regions: "XX" is not a known region \(countries CN, US/],
    ['an empty list', [], /config\.regions: expected a list of regions/],
    ['a number', 3, /config\.regions: expected a list of regions/],
  ] as const) {
    it(`refuses ${what}, naming config.regions`, () => {
      assert.throws(
        () => parseEdgeConfig({ ...minimal, regions }, '/tmp'),
        (err: Error) => err instanceof EdgeConfigError && message.test(err.message),
      );
    });
  }
});

describe('edge config: recognizer', () => {
  it('is plate (the trained head) by default and takes generic', () => {
    assert.equal(parseEdgeConfig(minimal, '/tmp').recognizer, 'plate');
    assert.equal(parseEdgeConfig({ ...minimal, recognizer: 'generic' }, '/tmp').recognizer, 'generic');
  });

  it('refuses anything else, naming the setting', () => {
    for (const bad of ['fancy', 1, null, '']) {
      assert.throws(
        () => parseEdgeConfig({ ...minimal, recognizer: bad }, '/tmp'),
        (e: unknown) => e instanceof EdgeConfigError && /config\.recognizer/.test(e.message),
      );
    }
  });
});

describe('edge config: plateOrNot', () => {
  it('is 3 by default, takes 0 (off) to 10', () => {
    assert.equal(parseEdgeConfig(minimal, '/tmp').plateOrNot, 3);
    assert.equal(parseEdgeConfig({ ...minimal, plateOrNot: 0 }, '/tmp').plateOrNot, 0);
    assert.equal(parseEdgeConfig({ ...minimal, plateOrNot: 1.5 }, '/tmp').plateOrNot, 1.5);
  });

  it('refuses anything else, naming the setting', () => {
    for (const bad of [-1, 11, '3', null, Number.NaN, true]) {
      assert.throws(
        () => parseEdgeConfig({ ...minimal, plateOrNot: bad }, '/tmp'),
        (e: unknown) => e instanceof EdgeConfigError && /config\.plateOrNot/.test(e.message),
      );
    }
  });
});

describe('edge config: missing and null values', () => {
  const lane = minimal.lanes[0]!;
  for (const [what, config, message] of [
    [
      'a region of interest without its size',
      { ...minimal, lanes: [{ ...lane, roi: { x: 1, y: 1 } }] },
      /lanes\[0\]\.roi\.width: required, an integer from 16 to 20000/,
    ],
    [
      'a null thread count',
      { ...minimal, threads: null },
      /config\.threads: expected an integer from 1 to 64, got null/,
    ],
    ['a null cloud URL', { ...minimal, cloudUrl: null }, /config\.cloudUrl: expected/],
    ['a null http block', { ...minimal, http: null }, /config\.http: expected an object/],
  ] as const) {
    it(`refuses ${what}, naming the setting`, () => {
      assert.throws(
        () => parseEdgeConfig(config, '/tmp'),
        (err: Error) => err instanceof EdgeConfigError && message.test(err.message),
      );
    });
  }
});

describe('edge config: the key file', () => {
  it('an unreadable or malformed keyFile stops the start naming config.keyFile and the path', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { startGateUnit } = await import('../../edge/gate-unit.js');
    const dir = await mkdtemp(join(tmpdir(), 'platepay-keyfile-'));
    try {
      const missing = parseEdgeConfig({ ...minimal, keyFile: 'no-such.key' }, dir);
      await assert.rejects(
        startGateUnit(missing, { logger: false }),
        (err: Error) =>
          err instanceof EdgeConfigError && /config\.keyFile: cannot read .*no-such\.key/.test(err.message),
      );
      await writeFile(join(dir, 'bad.key'), 'not a key\n');
      const bad = parseEdgeConfig({ ...minimal, keyFile: 'bad.key' }, dir);
      await assert.rejects(
        startGateUnit(bad, { logger: false }),
        (err: Error) =>
          err instanceof EdgeConfigError &&
          /config\.keyFile: .*bad\.key: a gate key file starts with/.test(err.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
