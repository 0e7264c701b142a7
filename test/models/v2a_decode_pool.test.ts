import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAudio, encodeAudio, latentFrames } from '../../src/models/v2a/audio.js';
import { abortBarrier, atomicsBarrier, DecoderPool } from '../../src/models/v2a/decode_pool.js';
import { generateClip } from '../../src/data/synth/index.js';
import { v2aSynthConfig } from '../../src/models/v2a/data.js';

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length &&
  Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  ) === 0;

test('the decoder on 2 and 3 threads gives the one-thread waveform bit for bit (AV-Synth clips, odd lengths)', async () => {
  const pools = [DecoderPool.create(2), DecoderPool.create(3)];
  try {
    for (const [index, seconds, length] of [
      [3, 2, undefined],
      [7, 1.3, 20_001], // frames and samples that do not split evenly; a length past what the frames cover
    ] as const) {
      const wave = generateClip(v2aSynthConfig(seconds, 0), index, { video: false }).audio;
      const count = latentFrames(seconds);
      const frames = encodeAudio(wave, count);
      const one = decodeAudio(frames, count, { iterations: 6, length });
      assert.ok(
        one.some((v) => Math.abs(v) > 0.01),
        'the decoded clip is not silent',
      );
      for (const pool of pools) {
        const many = await pool.decode(frames, count, { iterations: 6, length });
        assert.ok(sameBits(one, many), `${pool.threads} threads differ from one on clip ${index}`);
      }
    }
    // clips queue: two at once on one pool, each still its own one-thread result
    const count = latentFrames(1);
    const a = encodeAudio(generateClip(v2aSynthConfig(1, 0), 1, { video: false }).audio, count);
    const b = encodeAudio(generateClip(v2aSynthConfig(1, 0), 2, { video: false }).audio, count);
    const [x, y] = await Promise.all([
      pools[0].decode(a, count, { iterations: 3 }),
      pools[0].decode(b, count, { iterations: 3 }),
    ]);
    assert.ok(
      sameBits(x, decodeAudio(a, count, { iterations: 3 })) && sameBits(y, decodeAudio(b, count, { iterations: 3 })),
    );
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
});

test('the decoder pool names a bad input and keeps working; bad thread counts are refused', async () => {
  const pool = DecoderPool.create(2);
  try {
    await assert.rejects(
      pool.decode(new Float32Array(10), 3),
      /v2a decoder thread 0 of 2: v2a decode: 10 values for 3 frames of 64 mels/,
    );
    const count = latentFrames(0.5);
    const frames = encodeAudio(generateClip(v2aSynthConfig(1, 0), 4, { video: false }).audio, count);
    assert.ok(
      sameBits(await pool.decode(frames, count, { iterations: 2 }), decodeAudio(frames, count, { iterations: 2 })),
    );
  } finally {
    await pool.close();
  }
  assert.throws(() => DecoderPool.create(0), /decoder threads must be a positive integer, got 0/);
});

test('atomicsBarrier: one party passes through; once aborted every caller throws instead of waiting', () => {
  const state = new Int32Array(new SharedArrayBuffer(12));
  const solo = atomicsBarrier(state, 1);
  solo();
  solo();
  assert.equal(state[1], 2, 'two generations passed');
  const pair = atomicsBarrier(state, 2);
  abortBarrier(state);
  assert.throws(pair, /another share failed/);
});
