/**
 * bench/favor_voice_probe: the softmax it fits separates classes a linear map can separate (and only on what it was
 * given), and on a stage-1 run it reads every impact of a sounding object once, split by scene, and refuses a
 * stage-2 run by name. Its counts mode: the peaks, a voice among a word's and the clip's voices by hand, its look
 * count equal to the model's own objectCounts graph, and every object count question in one row.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  boundSound,
  fitSoftmax,
  likeliest,
  lookCount,
  peakTokens,
  presentVoices,
  voiceCountProbe,
  voiceProbe,
  wordPosterior,
} from '../../bench/favor_voice_probe.js';
import { Graph, Session } from '../../src/engine/index.js';
import { hostArray, toFloat32 } from '../../src/io/array.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { FAVOR_AUDIO_RATE, FRAME_LOOKS, avqaConfig, avqaScene, generateAvqa } from '../../src/data/avqa/index.js';
import { bindSounds, objectCounts } from '../../src/models/favor/object_answers.js';
import { favorTiny } from '../../src/models/favor/config.js';
import { Rng } from '../../src/util/rng.js';
import { writeStageOneRun, writeStageTwoRun } from '../models/favor_fixtures.js';

test('fitSoftmax: three classes apart along different features are all told apart; noise labels are not', () => {
  const rng = new Rng('voice-probe');
  const rows = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const y = i % 3;
      return { y, x: Float64Array.from({ length: 4 }, (_, j) => (j === y ? 8 : 0) + rng.normal()) };
    });
  const [train, held] = [rows(150), rows(60)];
  const score = fitSoftmax(
    train.map((r) => r.x),
    train.map((r) => r.y),
    3,
  );
  const argmax = (l: Float64Array) => l.indexOf(Math.max(...l));
  assert.equal(held.filter((r) => argmax(score(r.x)) === r.y).length, held.length);
  // Labels drawn apart from the features, for the held-out rows too: held-out accuracy near chance (1/3).
  const noise = fitSoftmax(
    train.map((r) => r.x),
    train.map(() => rng.int(3)),
    3,
  );
  const right = held.filter((r) => argmax(noise(r.x)) === rng.int(3)).length;
  assert.ok(right < 0.6 * held.length, `${right} of ${held.length}`);
});

test('voiceProbe: every impact of a sounding object read once, train and held-out scenes apart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-voice-probe-'));
  try {
    const model = { ...favorTiny(), window: 5, onsetAux: 1 };
    writeStageOneRun(dir, model, 3);
    const [scenes, duration] = [30, 5];
    const p = await voiceProbe(dir, scenes, duration);
    const cfg = avqaConfig({ minDuration: duration, maxDuration: duration });
    const last = 2 * duration * (FAVOR_AUDIO_RATE / 2) - 3;
    const count = { train: 0, heldOut: 0 };
    for (let i = 0; i < scenes; i++) {
      const s = avqaScene(cfg, i);
      const n = s.objects
        .filter((o) => o.voice !== null)
        .flatMap((o) => o.bounces)
        .filter((t) => t >= 0 && Math.floor(FAVOR_AUDIO_RATE * t) <= last).length;
      count[s.split === 'train' ? 'train' : 'heldOut'] += n;
    }
    assert.deepEqual(p.impacts, count);
    for (const a of [p.trainAcc, p.heldOutAcc, p.sharedWord.acc, p.sharedWord.chance]) assert.ok(a >= 0 && a <= 1);
    assert.ok(p.voices > 1 && p.voices <= 48, `${p.voices}`);
    writeStageTwoRun(dir);
    await assert.rejects(voiceProbe(dir, scenes, duration), /not a stage-1 run/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('peakTokens, wordPosterior, presentVoices, likeliest: by hand', () => {
  // Two channels over five tokens: channel 0 is 0.2, 0.5, 0.5, 0.1, 0 (a plateau peaks at its last token: >= the
  // one before, > the one after), channel 1 is 0 until 0.3 at the last token.
  const rates = Float32Array.from([0.2, 0, 0.5, 0, 0.5, 0, 0.1, 0, 0, 0.3]);
  assert.deepEqual(peakTokens(rates, 5, 2, 0.15), [
    [2, 0],
    [4, 1],
  ]);
  assert.deepEqual(peakTokens(rates, 5, 2, 0.4), [[2, 0]]);
  // Voices 0-3: words 0, 1, 0, 1. The posterior of word 0 is over voices 0 and 2 only.
  const wordOfVoice = [0, 1, 0, 1];
  const p = wordPosterior(Float64Array.from([Math.log(3), 9, 0, 9]), wordOfVoice, 0);
  assert.deepEqual(
    Array.from(p, (x) => Math.round(x * 1e12) / 1e12),
    [0.75, 0, 0.25, 0],
  );
  // Held: posteriors over the clip's impacts adding up to one impact or more. Four impacts like p give voice 2
  // 4 x 0.25 = 1: held; q gives voices 1 and 3 0.6 and 0.4: neither.
  const q = Float64Array.from([0, 0.6, 0, 0.4]);
  const held = presentVoices([p, p, p, p, q]);
  assert.deepEqual([...held].sort(), [0, 2]);
  // The likeliest held voice the posterior allows; with none of them held, its likeliest.
  assert.equal(likeliest(p, new Set([2])), 2);
  assert.equal(likeliest(p, held), 0);
  assert.equal(likeliest(q, held), 1);
  // boundSound: look 3 hits in frames 0 and 1; sound 1 is heard in frames 0, 1 and 2 (Jaccard 2/3), sound 0 in 2.
  const hits = new Float32Array(3 * FRAME_LOOKS);
  hits[3] = hits[FRAME_LOOKS + 3] = 1;
  const impacts = Float64Array.from([0, 1, 0, 2, 1, 1]); // [3 frames, 2 sounds]
  const e = { hits, impacts, frames: 3, channels: 2 };
  assert.equal(boundSound(e, 3), 1);
  assert.equal(lookCount(e, 3) > 3.9, true); // sound 1's 4 impacts, sound 0's 1 at e^-6.7 weight
  assert.equal(boundSound(e, 4), -1); // look 4 never hits
  assert.equal(likeliest(p, new Set([1, 3])), 0);
});

test("lookCount equals the model's objectCounts (bindSounds, then objectCounts) on random evidence", async () => {
  const [frames, channels] = [6, 5];
  const rng = new Rng('look-count');
  const g = new Graph();
  const hitsIn = g.input('hits', 'float32', [1, frames, FRAME_LOOKS]);
  const soundsIn = g.input('sounds', 'float32', [1, frames, channels]);
  const mask = g.input('mask', 'float32', [1, frames]);
  const session = await Session.create(g, { counts: objectCounts(bindSounds(hitsIn, soundsIn, mask)) }, { threads: 1 });
  try {
    for (let trial = 0; trial < 4; trial++) {
      const hits = Float32Array.from({ length: frames * FRAME_LOOKS }, () => +(rng.uniform() < 0.3));
      const sounds = Float32Array.from({ length: frames * channels }, () => (rng.uniform() < 0.4 ? rng.int(3) : 0));
      const out = await session.run({
        hits: hostArray('float32', [1, frames, FRAME_LOOKS], hits),
        sounds: hostArray('float32', [1, frames, channels], sounds),
        mask: hostArray('float32', [1, frames], new Float32Array(frames).fill(1)),
      });
      const counts = toFloat32(out.counts);
      for (let look = 0; look < FRAME_LOOKS; look++)
        assert.ok(
          Math.abs(lookCount({ hits, impacts: Float64Array.from(sounds), frames, channels }, look) - counts[look]) <
            1e-4,
          `trial ${trial}, look ${look}`,
        );
    }
  } finally {
    await session.release();
  }
});

test('voiceCountProbe: every count.sounds and count.wall question of the split in one row', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-voice-counts-'));
  try {
    const weights = writeStageOneRun(dir, { ...favorTiny(), window: 5, onsetAux: 1, hitAux: 1 }, 3);
    // An untrained counter (bias -6) has no peaks to fit voices at: bias 0 and weights 20 times larger make some.
    const bias = weights['encoder.count_head.bias'];
    const weight = weights['encoder.count_head.weight'];
    saveSafetensors(join(dir, 'best.safetensors'), {
      ...weights,
      'encoder.count_head.bias': hostArray('float32', bias.shape, new Float32Array(bias.shape[0])),
      'encoder.count_head.weight': hostArray(
        'float32',
        weight.shape,
        toFloat32(weight).map((x) => 20 * x),
      ),
    });
    const [fit, scenes, duration] = [30, 60, 5];
    const rows = await voiceCountProbe(dir, fit, scenes, duration, 'val');
    const asked = generateAvqa(avqaConfig({ minDuration: duration, maxDuration: duration }), scenes).questions.filter(
      (q) => q.split === 'val' && (q.template === 'count.sounds' || q.template === 'count.wall'),
    );
    assert.ok(asked.length > 0, 'some object count questions');
    assert.equal(
      rows.reduce((a, r) => a + r.questions, 0),
      asked.length,
    );
    for (const r of rows)
      for (const right of [r.byWord, r.byVoice, r.byVoiceWhereShared])
        assert.ok(right <= r.questions, `${r.template} ${r.kind}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
