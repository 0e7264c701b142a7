import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeatureCache, canonicalJson, featuresToStream, streamToFeatures } from '../../src/data/cache.js';
import { makeStream } from '../../src/timeline/timeline.js';
import { extractWithCache } from '../../src/data/extract.js';
import { hostArray } from '../../src/io/array.js';
import { loadSafetensors } from '../../src/io/safetensors.js';

const feat = (v: number) => ({
  mel: hostArray('float32', [2, 3], Float32Array.from([v, v + 1, v + 2, v + 3, v + 4, v + 5])),
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'attune-cache-'));
  const a = join(dir, 'a.wav');
  const b = join(dir, 'b.wav');
  writeFileSync(a, 'content A');
  writeFileSync(b, 'content B');
  return { dir, a, b, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('canonical JSON ignores key order', () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] }), canonicalJson({ a: [1, { c: 3, d: 2 }], b: 1 }));
});

test('entries survive reopening; changing content or params misses', async () => {
  const { dir, a, cleanup } = setup();
  try {
    const cacheDir = join(dir, 'cache');
    const c1 = FeatureCache.open(cacheDir);
    let computed = 0;
    const compute = async () => {
      computed++;
      return feat(computed);
    };
    const r1 = await c1.getOrCompute(a, { preset: 'mel', hop: 160 }, compute);
    assert.equal(r1.hit, false);
    c1.flush();

    const c2 = FeatureCache.open(cacheDir);
    const r2 = await c2.getOrCompute(a, { hop: 160, preset: 'mel' }, compute);
    assert.equal(r2.hit, true);
    assert.deepEqual([...r2.features.mel.data], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(r2.features.mel.shape, [2, 3]);

    const r3 = await c2.getOrCompute(a, { preset: 'mel', hop: 256 }, compute);
    assert.equal(r3.hit, false);
    assert.notEqual(r3.key, r2.key);

    writeFileSync(a, 'content A, edited');
    utimesSync(a, new Date(), new Date(Date.now() + 5000));
    const r4 = await c2.getOrCompute(a, { preset: 'mel', hop: 160 }, compute);
    assert.equal(r4.hit, false);
    assert.equal(computed, 3);
    c2.flush();

    // Shards are plain safetensors with "<key>/<name>" tensors; the index names them.
    const shards = readdirSync(cacheDir).filter((f) => f.endsWith('.safetensors'));
    assert.equal(shards.length, 2);
    const index = JSON.parse(readFileSync(join(cacheDir, 'index.json'), 'utf8'));
    assert.equal(Object.keys(index.entries).length, 3);
    const shard = loadSafetensors(join(cacheDir, index.entries[r1.key].shard));
    assert.ok(shard.tensors.has(`${r1.key}/mel`));
    assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith('.tmp')).length, 0);
  } finally {
    cleanup();
  }
});

test('identical content in two files shares one key (content, not path, is hashed)', async () => {
  const { dir, a, cleanup } = setup();
  try {
    const copy = join(dir, 'copy.wav');
    writeFileSync(copy, readFileSync(a));
    const c = FeatureCache.open(join(dir, 'cache'));
    assert.equal(await c.key(a, { p: 1 }), await c.key(copy, { p: 1 }));
    assert.notEqual(await c.key(a, { p: 1 }), await c.key([a, copy], { p: 1 }));
    await assert.rejects(c.key(join(dir, 'nope.wav'), {}), /cannot read/);
  } finally {
    cleanup();
  }
});

test('extractWithCache: incremental, a bad item does not stop the rest, the index is flushed', async () => {
  const { dir, a, b, cleanup } = setup();
  try {
    const cache = FeatureCache.open(join(dir, 'cache'), { shardBytes: 1 }); // a shard per entry
    const items = [
      { id: 'a', audio: a },
      { id: 'missing', audio: join(dir, 'missing.wav') },
      { id: 'b', audio: b },
    ];
    let calls = 0;
    const compute = async () => {
      calls++;
      return feat(calls);
    };
    const r1 = await extractWithCache(items, compute, { cache, params: { v: 1 }, quiet: true });
    assert.equal(r1.computed, 2);
    assert.equal(r1.hits, 0);
    assert.deepEqual(
      r1.failed.map((f) => f.id),
      ['missing'],
    );
    assert.match(r1.failed[0].error, /cannot read .*missing\.wav/);
    const again = await extractWithCache(items, compute, {
      cache: FeatureCache.open(join(dir, 'cache')),
      params: { v: 1 },
      quiet: true,
    });
    assert.equal(again.hits, 2);
    assert.equal(again.computed, 0);
    assert.equal(calls, 2);
  } finally {
    cleanup();
  }
});

test('a Stream stored in the cache comes back on the same timeline', async () => {
  const { dir, a, cleanup } = setup();
  try {
    const cache = FeatureCache.open(join(dir, 'cache'));
    const s = makeStream(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 31.25, 0.5);
    const key = await cache.key(a, { preset: 'x' });
    cache.put(key, streamToFeatures('mel', s));
    cache.flush();
    const back = featuresToStream(FeatureCache.open(join(dir, 'cache')).get(key)!, 'mel');
    assert.deepEqual(
      { ...back, data: [...back.data] },
      { data: [1, 2, 3, 4, 5, 6], frames: 3, dim: 2, rate: 31.25, start: 0.5 },
    );
    assert.throws(() => featuresToStream({}, 'mel'), /no stream 'mel'/);
  } finally {
    cleanup();
  }
});
