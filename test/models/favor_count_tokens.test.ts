/**
 * model.countTokens (count_tokens.ts, docs/favor.md session 15): the query head's per-frame sounds (and hits), 0/1
 * ('frames') or counted ('onsets'), summed over the clip's real frames and handed to the language model as one token
 * per label, each count as a soft one-hot over 0..12. Checked numerically in float64 against the formula, then in the
 * whole model (shapes, windows, training), and the counted labels against the scenes' own counts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, ParamStore, Scope, Session } from '../../src/engine/index.js';
import { hostArray, toFloat32 } from '../../src/io/array.js';
import {
  FRAME_SOUNDS,
  FRAME_VISUAL,
  SOUND_WORDS,
  avqaConfig,
  avqaScene,
  frameLabels,
} from '../../src/data/avqa/index.js';
import { type FavorConfig, avTokenCount, favorTiny } from '../../src/models/favor/config.js';
import { avBatch } from '../../src/models/favor/data.js';
import {
  COUNT_BINS,
  COUNT_SD,
  audioOnsetRates,
  countBins,
  countTokenCount,
  countTokens,
} from '../../src/models/favor/count_tokens.js';
import {
  type QueryHeadOutputs,
  queryAuxLoss,
  queryHeadCounts,
  queryHeadParts,
} from '../../src/models/favor/query_aux.js';
import { avInputs, avTokenWindows, favor } from '../../src/models/favor/model.js';
import { FavorModelSchema } from '../../src/models/favor/task.js';
import { Rng } from '../../src/util/rng.js';
import { randomClip, twoTrainSteps } from './favor_fixtures.js';

/** The soft one-hot of a count over 0..12, in float64. */
function binsOf(count: number): number[] {
  const z = Array.from({ length: COUNT_BINS }, (_, k) => Math.exp(-((count - k) ** 2) / (2 * COUNT_SD ** 2)));
  const sum = z.reduce((a, v) => a + v, 0);
  return z.map((v) => v / sum);
}

test('countBins: a soft one-hot over 0..12 that peaks at the count (rows: count -> peak bin)', async () => {
  const rows: [number, number][] = [
    [0, 0],
    [3, 3],
    [3.4, 3],
    [7.6, 8],
    [12, 12],
    [15, 12], // beyond AVQA's largest count: the top bin
  ];
  const g = new Graph();
  const counts = g.input('counts', 'float32', [1, rows.length]);
  const session = await Session.create(g, { bins: countBins(counts) }, { threads: 1 });
  const r = await session.run({
    counts: hostArray('float32', [1, rows.length], Float32Array.from(rows.map(([c]) => c))),
  });
  await session.release();
  assert.deepEqual(r.bins.shape, [1, rows.length, COUNT_BINS]);
  const got = toFloat32(r.bins);
  rows.forEach(([count, peak], i) => {
    const row = Array.from(got.slice(i * COUNT_BINS, (i + 1) * COUNT_BINS));
    const want = binsOf(count);
    row.forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-5, `count ${count}, bin ${k}: ${v} vs ${want[k]}`));
    assert.equal(row.indexOf(Math.max(...row)), peak, `count ${count}`);
  });
});

test("count tokens: the expected counts are the query head's sigmoids (frames) or softpluses (onsets) summed over real frames", async () => {
  const [b, f, dim] = [2, 6, 8];
  const rng = new Rng(4);
  const rows: [QueryHeadOutputs, 'frames' | 'onsets'][] = [
    [{ hits: false, onsets: false }, 'frames'],
    [{ hits: true, onsets: false }, 'frames'],
    [{ hits: false, onsets: true }, 'onsets'],
    [{ hits: true, onsets: true }, 'onsets'],
  ];
  for (const [head, mode] of rows) {
    const name = `${mode}, hits ${head.hits}`;
    const classes = queryHeadParts(head).reduce((a, c) => a + c, 0);
    const logits = Float32Array.from({ length: b * f * classes }, () => rng.uniform() * 6 - 3);
    const mask = Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]); // the second clip: 3 real frames
    const g = new Graph();
    const store = new ParamStore(2);
    const counted = queryHeadCounts(g.input('logits', 'float32', [b, f, classes]), head, mode);
    const out = countTokens(new Scope(g, store), counted, g.input('mask', 'float32', [b, f]), dim);
    const session = await Session.create(g, { counts: out.counts, tokens: out.tokens }, { threads: 1 });
    const r = await session.run({
      logits: hostArray('float32', [b, f, classes], logits),
      mask: hostArray('float32', [b, f], mask),
      ...store.feeds(g),
    });
    await session.release();
    const c = FRAME_SOUNDS + (head.hits ? FRAME_VISUAL : 0);
    assert.equal(c, countTokenCount({ countTokens: mode, queryHits: head.hits ? 1 : 0, questionOnly: false }), name);
    assert.deepEqual(r.tokens.shape, [b, c, dim], name);
    // 'frames' reads the 0/1 sounds (+ hits) after the looks; 'onsets' the last c logits, the counts per frame.
    const first = mode === 'frames' ? FRAME_VISUAL : classes - c;
    const perFrame = (z: number) => (mode === 'frames' ? 1 / (1 + Math.exp(-z)) : Math.log1p(Math.exp(z)));
    const counts = toFloat32(r.counts);
    for (let i = 0; i < b; i++)
      for (let k = 0; k < c; k++) {
        let want = 0;
        for (let t = 0; t < f; t++) want += mask[i * f + t] * perFrame(logits[(i * f + t) * classes + first + k]);
        const got = counts[i * c + k];
        assert.ok(Math.abs(got - want) < 1e-4, `${name}, clip ${i}, label ${k}: ${got} vs ${want}`);
      }
  }
});

test("the audio counting head ('audio'): softplus of a linear map of each 50 Hz token and its change, summed over the frame's 25 and the real frames", async () => {
  const [b, f, per, d] = [2, 3, 25, 3];
  const rng = new Rng(5);
  const audio = Float32Array.from({ length: b * f * per * d }, () => rng.uniform() * 2 - 1);
  const mask = Float32Array.from([1, 1, 1, 1, 0, 0]);
  const g = new Graph();
  const store = new ParamStore(4);
  const p = new Scope(g, store);
  const rates = audioOnsetRates(p.scope('head'), g.input('audio', 'float32', [b, f, per, d]));
  const out = countTokens(p.scope('count'), rates, g.input('mask', 'float32', [b, f]), 8);
  const session = await Session.create(g, { counts: out.counts, tokens: out.tokens }, { threads: 1 });
  const r = await session.run({
    audio: hostArray('float32', [b, f, per, d], audio),
    mask: hostArray('float32', [b, f], mask),
    ...store.feeds(g),
  });
  await session.release();
  assert.deepEqual(r.tokens.shape, [b, FRAME_SOUNDS, 8]);
  const [w, bias] = [toFloat32(store.get('head.weight')), toFloat32(store.get('head.bias'))]; // [2d, 4], [4]
  const token = (i: number, n: number, e: number) => (n < 0 ? 0 : audio[(i * f * per + n) * d + e]); // n: 50 Hz index
  const counts = toFloat32(r.counts);
  for (let i = 0; i < b; i++)
    for (let k = 0; k < FRAME_SOUNDS; k++) {
      let want = 0;
      for (let t = 0; t < f; t++)
        for (let j = 0; j < per; j++) {
          const n = t * per + j;
          let z = bias[k];
          for (let e = 0; e < d; e++) {
            z += token(i, n, e) * w[e * FRAME_SOUNDS + k];
            z += (token(i, n, e) - token(i, n - 1, e)) * w[(d + e) * FRAME_SOUNDS + k];
          }
          want += mask[i * f + t] * Math.log1p(Math.exp(z));
        }
      const got = counts[i * FRAME_SOUNDS + k];
      assert.ok(Math.abs(got - want) < 1e-3 * Math.max(1, want), `clip ${i}, sound ${k}: ${got} vs ${want}`);
    }
});

test("the counted labels sum to the scenes' counts; the 0/1 labels lose impacts that share a half second", () => {
  const cfg = avqaConfig({ minDuration: 10, maxDuration: 10 });
  let lost = 0;
  for (let index = 0; index < 20; index++) {
    const l = frameLabels(cfg, index);
    const scene = avqaScene(cfg, index, 10);
    for (let k = 0; k < FRAME_SOUNDS; k++) {
      const heard = scene.objects
        .filter((o) => o.sound === SOUND_WORDS[k])
        .flatMap((o) => o.bounces)
        .filter((t) => t >= 0 && t < 10).length;
      let [onsets, marked] = [0, 0];
      for (let t = 0; t < l.frames; t++) {
        onsets += l.audioOnsets[t * FRAME_SOUNDS + k];
        marked += l.audio[t * FRAME_SOUNDS + k];
        assert.equal(l.audio[t * FRAME_SOUNDS + k], +(l.audioOnsets[t * FRAME_SOUNDS + k] > 0));
      }
      assert.equal(onsets, heard, `scene ${index}, ${SOUND_WORDS[k]}`);
      lost += onsets - marked;
    }
    for (let t = 0; t < l.frames * FRAME_VISUAL; t++) assert.equal(l.hits[t], +(l.hitOnsets[t] > 0));
  }
  assert.ok(lost > 0, 'some half seconds hold two impacts of one sound');
});

test('countTokens: off by default, needs queryAux; on, C tokens follow the windows (window -1) and the head trains', async () => {
  assert.equal(favorTiny().countTokens, 'off');
  const base: FavorConfig = { ...favorTiny(), window: 5, queryAux: 1 };
  assert.equal(FavorModelSchema.parse({ ...base, countTokens: undefined }).countTokens, 'off', 'older runs read off');
  const alone = FavorModelSchema.safeParse({ ...base, queryAux: 0, countTokens: 'onsets' });
  assert.ok(!alone.success && /countTokens needs queryAux/.test(alone.error.message), 'without queryAux: refused');
  assert.ok(!FavorModelSchema.safeParse({ ...base, countTokens: true }).success, 'a boolean is refused');
  const rows: [string, Partial<FavorConfig>, number][] = [
    ['frames: sounds', { countTokens: 'frames' }, FRAME_SOUNDS],
    ['frames: sounds and hits', { countTokens: 'frames', queryHits: 1 }, FRAME_SOUNDS + FRAME_VISUAL],
    ['onsets: sounds and hits', { countTokens: 'onsets', queryHits: 1 }, FRAME_SOUNDS + FRAME_VISUAL],
    ['onsets, window sync', { countTokens: 'onsets', sync: 'window' }, FRAME_SOUNDS],
    ['audio: sounds only, whatever queryHits', { countTokens: 'audio', queryHits: 1 }, FRAME_SOUNDS],
  ];
  for (const [name, over, c] of rows) {
    const cm: FavorConfig = { ...base, ...over };
    const g = new Graph();
    const store = new ParamStore(3);
    const out = favor(new Scope(g, store), avInputs(g, 2, 10), g.input('text', 'int64', [2, 4]), 20, cm);
    const av = out.av as NonNullable<typeof out.av>;
    const windowed = 2 * cm.queries * (cm.sync === 'frame' ? 1 : 2);
    assert.deepEqual(av.tokens.shape, [2, windowed + c, cm.lmDim], name);
    assert.equal(avTokenCount(2, cm), windowed + c, name);
    const windows = avTokenWindows(2, cm);
    assert.equal(windows.length, windowed + c, name);
    assert.ok(windows.slice(windowed).every((w) => w === -1) && windows.slice(0, windowed).every((w) => w >= 0), name);
    const session = await Session.create(g, { tokens: av.tokens, valid: av.valid }, { threads: 1 });
    const r = await session.run({ ...avBatch([randomClip(10, 1), randomClip(7, 2)], 10), ...store.feeds(g) });
    await session.release();
    assert.deepEqual(Array.from(toFloat32(r.valid).slice(windowed, windowed + c)), new Array(c).fill(1), name);
  }
  for (const mode of ['frames', 'onsets'] as const) {
    const on = await twoTrainSteps({ ...base, countTokens: mode }, true);
    for (const n of ['encoder.query_head.weight', 'encoder.count.label', 'encoder.count.weight'])
      assert.ok(on.names.includes(n), `${mode}: ${n} in ${on.names.join(', ')}`);
    assert.ok(!on.names.some((n) => n.startsWith('query_aux.')), `${mode}: one query head, in the encoder`);
    assert.ok(on.metrics.includes('query_audio_acc'), `${mode}: the query loss reads the same head`);
    const counted = ['query_onset_nll', 'query_count_acc'].every((m) => on.metrics.includes(m));
    assert.equal(counted, mode === 'onsets', `${mode}: the per-frame counts are trained for onsets only`);
    assert.ok(on.second < on.first, `${mode}: one step lowers the loss: ${on.first} -> ${on.second}`);
  }
  const audio = await twoTrainSteps({ ...base, countTokens: 'audio' }, true);
  for (const n of ['encoder.count_head.weight', 'encoder.count.label', 'query_aux.weight'])
    assert.ok(audio.names.includes(n), `audio: ${n} in ${audio.names.join(', ')}`);
  assert.ok(!audio.names.some((n) => n.startsWith('encoder.query_head')), 'audio: the query head stays training-only');
  assert.ok(
    ['count_onset_nll', 'count_acc'].every((m) => audio.metrics.includes(m)),
    audio.metrics.join(', '),
  );
  assert.ok(audio.second < audio.first, `audio: one step lowers the loss: ${audio.first} -> ${audio.second}`);
  const off = await twoTrainSteps(base, true);
  assert.ok(off.names.includes('query_aux.weight') && !off.names.some((n) => n.startsWith('encoder.count')), 'off');
});

test("the query head with onsets: Poisson NLL of each real frame's counts, and the clips whose summed rate is within 0.5", async () => {
  const [b, f] = [2, 5];
  const head: QueryHeadOutputs = { hits: false, onsets: true };
  const classes = queryHeadParts(head).reduce((a, c) => a + c, 0);
  const rng = new Rng(6);
  const logits = Float32Array.from({ length: b * f * classes }, () => rng.uniform() * 4 - 2);
  const onsets = Float32Array.from({ length: b * f * FRAME_SOUNDS }, () => Math.floor(rng.uniform() * 3));
  const mask = Float32Array.from([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  const g = new Graph();
  const zeros = (n: number) => new Float32Array(b * f * n);
  const labels = {
    visual: g.input('visual', 'float32', [b, f, FRAME_VISUAL]),
    audio: g.input('audio', 'float32', [b, f, FRAME_SOUNDS]),
    audioOnsets: g.input('onsets', 'float32', [b, f, FRAME_SOUNDS]),
  };
  const { metrics } = queryAuxLoss(
    g.input('logits', 'float32', [b, f, classes]),
    g.input('mask', 'float32', [b, f]),
    labels,
    head,
  );
  const session = await Session.create(g, metrics, { threads: 1 });
  const r = await session.run({
    logits: hostArray('float32', [b, f, classes], logits),
    mask: hostArray('float32', [b, f], mask),
    visual: hostArray('float32', [b, f, FRAME_VISUAL], zeros(FRAME_VISUAL)),
    audio: hostArray('float32', [b, f, FRAME_SOUNDS], zeros(FRAME_SOUNDS)),
    onsets: hostArray('float32', [b, f, FRAME_SOUNDS], onsets),
  });
  await session.release();
  const first = classes - FRAME_SOUNDS;
  let [nll, frames, close] = [0, 0, 0];
  for (let i = 0; i < b; i++) {
    const sums = new Array<number>(FRAME_SOUNDS).fill(0);
    const truth = new Array<number>(FRAME_SOUNDS).fill(0);
    for (let t = 0; t < f; t++) {
      if (!mask[i * f + t]) continue;
      frames++;
      for (let k = 0; k < FRAME_SOUNDS; k++) {
        const rate = Math.log1p(Math.exp(logits[(i * f + t) * classes + first + k]));
        const n = onsets[(i * f + t) * FRAME_SOUNDS + k];
        nll += rate - n * Math.log(rate + 1e-6);
        sums[k] += rate;
        truth[k] += n;
      }
    }
    for (let k = 0; k < FRAME_SOUNDS; k++) close += +(Math.abs(sums[k] - truth[k]) < 0.5);
  }
  const got = toFloat32(r.query_onset_nll)[0];
  assert.ok(Math.abs(got - nll / frames) < 1e-4, `NLL ${got} vs ${nll / frames}`);
  assert.ok(Math.abs(toFloat32(r.query_count_acc)[0] - close / (b * FRAME_SOUNDS)) < 1e-6, 'count accuracy');
  assert.throws(
    () =>
      queryAuxLoss(
        g.input('l2', 'float32', [b, f, classes]),
        g.input('m2', 'float32', [b, f]),
        { ...labels, audioOnsets: undefined },
        head,
      ),
    /declares no such labels/,
  );
});
