/**
 * Stage 1's onset head (model.onsetAux, docs/favor.md session 16): the audio counting head trained with the audio
 * encoder against the impacts heard in each 50 Hz token, scored as clip counts, and handed to stage 2's countTokens
 * 'audio' frozen, counted as peaks; count tokens in the LM's word space (model.countWords). The per-token labels are
 * checked against the scenes, the losses, peaks and word tokens in float64 against their formulas.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Graph, ParamStore, Scope, Session } from '../../src/engine/index.js';
import { adamw } from '../../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import { type HostArray, hostArray, toFloat32 } from '../../src/io/array.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import {
  FRAME_SOUNDS,
  FRAME_VISUAL,
  SOUND_WORDS,
  avqaConfig,
  avqaScene,
  frameLabels,
} from '../../src/data/avqa/index.js';
import { AUDIO_PER_FRAME, type FavorConfig, favorTiny } from '../../src/models/favor/config.js';
import {
  COUNT_BINS,
  COUNT_SD,
  audioPeakCounts,
  audioTokenRates,
  countTokens,
  tokenOnsetLosses,
} from '../../src/models/favor/count_tokens.js';
import { type AvqaExamples, avBatch, frameLabelBatch } from '../../src/models/favor/data.js';
import { encoderStageInference, encoderStageLoss, scoreFrames } from '../../src/models/favor/pretrain.js';
import { avInputs, favor } from '../../src/models/favor/model.js';
import { FavorModelSchema } from '../../src/models/favor/task.js';
import { Rng } from '../../src/util/rng.js';
import { randomClip, twoTrainSteps } from './favor_fixtures.js';

const avqa = avqaConfig({ minDuration: 5, maxDuration: 5 });
const stageOne = (over: Partial<FavorConfig> = {}): FavorConfig => ({
  ...favorTiny(),
  window: 5,
  stage: 'encoders',
  onsetAux: 1,
  ...over,
});

test('audioTokenOnsets: each impact heard in the 20 ms token it starts in; the 25 tokens of a frame sum to its counted label', () => {
  const rows: [string, { offset?: number; foil?: number }][] = [
    ['own audio', {}],
    ['shifted 0.3 s late', { offset: 0.3 }],
    ['a foil scene', { foil: 3 }],
  ];
  for (let index = 0; index < 6; index++)
    for (const [name, audio] of rows) {
      const l = frameLabels(avqa, index, audio);
      assert.equal(l.audioTokenOnsets.length, l.frames * AUDIO_PER_FRAME * FRAME_SOUNDS, name);
      for (let t = 0; t < l.frames; t++)
        for (let k = 0; k < FRAME_SOUNDS; k++) {
          let sum = 0;
          for (let j = 0; j < AUDIO_PER_FRAME; j++)
            sum += l.audioTokenOnsets[(t * AUDIO_PER_FRAME + j) * FRAME_SOUNDS + k];
          assert.equal(sum, l.audioOnsets[t * FRAME_SOUNDS + k], `scene ${index}, ${name}, frame ${t}, sound ${k}`);
        }
      const heard = avqaScene(avqa, audio.foil ?? index, 5)
        .objects.flatMap((o) =>
          o.sound ? o.bounces.map((s) => ({ s: s + (audio.offset ?? 0), k: SOUND_WORDS.indexOf(o.sound!) })) : [],
        )
        .filter(({ s }) => s >= 0 && s < 5);
      for (const { s, k } of heard)
        assert.ok(l.audioTokenOnsets[Math.floor(50 * s) * FRAME_SOUNDS + k] >= 1, `scene ${index}, ${name}: ${s} s`);
      assert.equal(
        l.audioTokenOnsets.reduce((a, v) => a + v, 0),
        heard.length,
        `scene ${index}, ${name}: every impact once`,
      );
    }
  const batch = frameLabelBatch([frameLabels(avqa, 0), frameLabels(avqa, 1)], 12);
  assert.deepEqual(batch.frame_audio_token_onsets.shape, [2, 12, AUDIO_PER_FRAME, FRAME_SOUNDS]);
  const padded = toFloat32(batch.frame_audio_token_onsets).subarray(
    10 * AUDIO_PER_FRAME * FRAME_SOUNDS,
    12 * AUDIO_PER_FRAME * FRAME_SOUNDS,
  );
  assert.ok(
    padded.every((v) => v === 0),
    'frames past the clip hold no impact',
  );
});

test("tokenOnsetLosses: Poisson NLL per real token summed over a frame's 25 (mean over frames); clips whose summed rate is within 0.5", async () => {
  const [b, f, per] = [2, 3, AUDIO_PER_FRAME];
  const rng = new Rng(8);
  const rates = Float32Array.from({ length: b * f * per * FRAME_SOUNDS }, () => rng.uniform() * 0.2);
  const onsets = Float32Array.from({ length: b * f * per * FRAME_SOUNDS }, () => +(rng.uniform() < 0.05));
  const mask = Float32Array.from([1, 1, 1, 1, 1, 0]);
  const g = new Graph();
  const out = tokenOnsetLosses(
    g.input('rates', 'float32', [b, f, per, FRAME_SOUNDS]),
    g.input('onsets', 'float32', [b, f, per, FRAME_SOUNDS]),
    g.input('mask', 'float32', [b, f]),
  );
  const session = await Session.create(g, out, { threads: 1 });
  const r = await session.run({
    rates: hostArray('float32', [b, f, per, FRAME_SOUNDS], rates),
    onsets: hostArray('float32', [b, f, per, FRAME_SOUNDS], onsets),
    mask: hostArray('float32', [b, f], mask),
  });
  await session.release();
  let [nll, frames, close] = [0, 0, 0];
  for (let i = 0; i < b; i++) {
    const said = new Array<number>(FRAME_SOUNDS).fill(0);
    const truth = new Array<number>(FRAME_SOUNDS).fill(0);
    for (let t = 0; t < f; t++) {
      if (!mask[i * f + t]) continue;
      frames++;
      for (let j = 0; j < per; j++)
        for (let k = 0; k < FRAME_SOUNDS; k++) {
          const at = ((i * f + t) * per + j) * FRAME_SOUNDS + k;
          nll += rates[at] - onsets[at] * Math.log(rates[at] + 1e-6);
          said[k] += rates[at];
          truth[k] += onsets[at];
        }
    }
    for (let k = 0; k < FRAME_SOUNDS; k++) close += +(Math.abs(said[k] - truth[k]) < 0.5);
  }
  const got = toFloat32(r.nll)[0];
  assert.ok(Math.abs(got - nll / frames) < 1e-4 * Math.max(1, nll / frames), `NLL ${got} vs ${nll / frames}`);
  assert.ok(Math.abs(toFloat32(r.acc)[0] - close / (b * FRAME_SOUNDS)) < 1e-6, 'count accuracy');
});

test('onsetAux: a stage-1 field; its step trains the counting head and the audio encoder, and inference gives the counts per frame', async () => {
  const refused = FavorModelSchema.safeParse({ ...favorTiny(), onsetAux: 1 });
  assert.ok(!refused.success && /onsetAux is a stage-1 head/.test(refused.error.message), 'stage 2: refused');
  assert.equal(FavorModelSchema.parse({ ...stageOne(), onsetAux: undefined }).onsetAux, 0, 'older runs read 0');
  const model = stageOne({ onsetAux: 0.5 });
  const store = new ParamStore(3);
  const compiled = compileTrainStep((g, p) => encoderStageLoss(g, p, model, 2, 10), store, {
    optimizer: adamw({ weightDecay: 0 }),
  });
  const trainer = await Trainer.create(compiled, { lr: 1e-2, worker: false, session: { threads: 1 } });
  const batch = {
    ...avBatch([randomClip(10, 5), randomClip(10, 6)], 10),
    ...frameLabelBatch([frameLabels(avqa, 0), frameLabels(avqa, 1)], 10),
  };
  const before = await trainer.params();
  const step = await trainer.trainStep(batch);
  const after = await trainer.params();
  await trainer.close();
  const { frame_visual_bce: v, frame_audio_bce: a, count_onset_nll: n } = step.metrics;
  assert.ok(n > 0 && Math.abs(step.loss - (v + a + 0.5 * n)) < 1e-3, JSON.stringify(step.metrics));
  assert.ok(step.metrics.count_acc >= 0 && step.metrics.count_acc <= 1);
  const moved = (prefix: string) =>
    Object.keys(before)
      .filter((k) => k.startsWith(prefix))
      .some((k) => toFloat32(before[k]).some((x, i) => x !== toFloat32(after[k])[i]));
  for (const prefix of ['encoder.count_head.', 'encoder.audio.']) assert.ok(moved(prefix), prefix);

  const g = new Graph();
  const out = encoderStageInference(g, new Scope(g, store), model, 2, 10);
  assert.deepEqual(out.frame_onsets.shape, [2, 10, FRAME_SOUNDS]);
  const session = await Session.create(g, out, { threads: 1 });
  const r = await session.run({ ...avBatch([randomClip(10, 5), randomClip(10, 6)], 10), ...store.feeds(g) });
  await session.release();
  assert.ok(
    toFloat32(r.frame_onsets).every((x) => x > 0 && x < AUDIO_PER_FRAME * 5),
    'softplus rates summed',
  );
  const off = stageOne({ onsetAux: 0 });
  const g2 = new Graph();
  assert.ok(!('frame_onsets' in encoderStageInference(g2, new Scope(g2, new ParamStore(3)), off, 1, 5)), 'off: none');
});

test('scoreFrames with the counting head: clip counts within 0.5, over every (clip, sound) pair and those with an impact', async () => {
  const questions = [0, 1, 2, 3].map((index) => ({ index }));
  const labelsOf = (q: { index: number }) => frameLabels(avqa, q.index);
  const ex = { frames: 10, clip: () => randomClip(10, 1), labels: labelsOf } as unknown as AvqaExamples;
  let heardPairs = 0;
  for (const q of questions)
    for (let k = 0; k < FRAME_SOUNDS; k++) {
      const l = labelsOf(q);
      let n = 0;
      for (let t = 0; t < l.frames; t++) n += l.audioOnsets[t * FRAME_SOUNDS + k];
      heardPairs += +(n > 0);
    }
  assert.ok(heardPairs > 0 && heardPairs < 16, `${heardPairs} of 16 pairs heard`);
  // The fake head says the truth + `extra` in each clip's first frame, for every sound.
  const run = (extra: number) => async (feeds: Record<string, HostArray>) => {
    const b = feeds.video.shape[0];
    const rows = questions.slice(0, b);
    while (rows.length < b) rows.push(rows[rows.length - 1]);
    const labels = frameLabelBatch(rows.map(labelsOf), 10);
    const onsets = toFloat32(labels.frame_audio_onsets).slice();
    for (let i = 0; i < b; i++) for (let k = 0; k < FRAME_SOUNDS; k++) onsets[i * 10 * FRAME_SOUNDS + k] += extra;
    const logit = (x: number) => 2 * x - 1;
    return {
      frame_visual: hostArray('float32', [b, 10, FRAME_VISUAL], toFloat32(labels.frame_visual).map(logit)),
      frame_audio: hostArray('float32', [b, 10, FRAME_SOUNDS], toFloat32(labels.frame_audio).map(logit)),
      frame_onsets: hostArray('float32', [b, 10, FRAME_SOUNDS], onsets),
    };
  };
  const rows: [number, number, number][] = [
    // extra -> count_exact, count_exact_heard
    [0, 1, 1],
    [0.4, 1, 1],
    [-0.6, 0, 0],
    [1, 0, 0],
  ];
  for (const [extra, exact, heard] of rows) {
    const m = await scoreFrames(run(extra), ex, questions as never, 4);
    assert.equal(m.count_exact, exact, `extra ${extra}`);
    assert.equal(m.count_exact_heard, heard, `extra ${extra}`);
    assert.ok(Math.abs(m.count_error_heard - Math.abs(extra)) < 1e-5, `extra ${extra}: ${m.count_error_heard}`);
    assert.ok(Math.abs(m.acc - (m.color_acc + m.shape_acc + m.sound_acc + m.count_exact_heard) / 4) < 1e-12);
  }
});

test("stage 2's countTokens 'audio' starts from the stage-1 counting head and keeps it frozen; a run without one trains its own", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-onset-'));
  try {
    for (const onsetAux of [1, 0]) {
      const stage1 = stageOne({ onsetAux });
      const store1 = new ParamStore(4);
      const g1 = new Graph();
      encoderStageLoss(g1, new Scope(g1, store1), stage1, 1, stage1.window);
      const weights = Object.fromEntries(store1.names().map((n) => [n, store1.get(n)]));
      assert.equal('encoder.count_head.weight' in weights, onsetAux > 0);
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ task: 'favor', model: stage1 }));
      saveSafetensors(join(dir, 'best.safetensors'), weights);
      const model: FavorConfig = {
        ...favorTiny(),
        window: 5,
        encoders: dir,
        freezeEncoders: true,
        queryAux: 1,
        countTokens: 'audio',
      };
      const store = new ParamStore(9);
      const g = new Graph();
      favor(new Scope(g, store), avInputs(g, 1, 10), g.input('text', 'int64', [1, 4]), 20, model);
      const name = 'encoder.count_head.weight';
      const theirs = weights[name] ? toFloat32(weights[name]) : undefined;
      const same = !!theirs && toFloat32(store.get(name)).every((v, i) => v === theirs[i]);
      assert.equal(same, onsetAux > 0, `onsetAux ${onsetAux}: loaded`);
      assert.equal(store.isTrainable(name), onsetAux === 0, `onsetAux ${onsetAux}: frozen with the encoders`);
      assert.ok(!store.isTrainable('encoder.audio.in.weight'), 'the encoders are frozen either way');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audioPeakCounts: tokens above the threshold that are at least the token before and above the token after, per frame', async () => {
  // One clip, one sound, 2 frames of 25 tokens; rows: the token rates that are not 0 -> peaks per frame.
  const rows: [string, [number, number][], [number, number]][] = [
    ['one sharp peak', [[3, 0.9]], [1, 0]],
    ['below the threshold', [[3, 0.1]], [0, 0]],
    [
      'smeared over three tokens: one',
      [
        [9, 0.3],
        [10, 0.6],
        [11, 0.3],
      ],
      [1, 0],
    ],
    [
      'a plateau: its last token',
      [
        [4, 0.5],
        [5, 0.5],
      ],
      [1, 0],
    ],
    [
      'two apart',
      [
        [2, 0.8],
        [4, 0.8],
      ],
      [2, 0],
    ],
    [
      'on the frame edge: counted once, in its token',
      [
        [24, 0.4],
        [25, 0.7],
        [26, 0.2],
      ],
      [0, 1],
    ],
    [
      'the first and last tokens (0 outside the clip)',
      [
        [0, 0.5],
        [49, 0.5],
      ],
      [1, 1],
    ],
  ];
  const [f, per] = [2, AUDIO_PER_FRAME];
  const g = new Graph();
  const rates = g.input('rates', 'float32', [rows.length, f, per, 1]);
  const session = await Session.create(g, { peaks: audioPeakCounts(rates, 0.15) }, { threads: 1 });
  const data = new Float32Array(rows.length * f * per);
  rows.forEach(([, tokens], i) => tokens.forEach(([t, v]) => (data[i * f * per + t] = v)));
  const r = await session.run({ rates: hostArray('float32', [rows.length, f, per, 1], data) });
  await session.release();
  assert.deepEqual(r.peaks.shape, [rows.length, f, 1]);
  const got = toFloat32(r.peaks);
  rows.forEach(([name, , want], i) => assert.deepEqual([got[2 * i], got[2 * i + 1]], want, name));
});

test('countPeaks: needs countTokens audio; the count tokens read the peaks and the Poisson loss still the rates', async () => {
  const base: FavorConfig = { ...favorTiny(), window: 5, queryAux: 1, countTokens: 'audio' };
  const refused = FavorModelSchema.safeParse({ ...base, countTokens: 'onsets', countPeaks: 0.15 });
  assert.ok(!refused.success && /countPeaks counts the audio counting head's peaks/.test(refused.error.message));
  assert.equal(FavorModelSchema.parse({ ...base, countPeaks: undefined }).countPeaks, 0, 'older runs sum');
  const step = await twoTrainSteps({ ...base, countPeaks: 0.15 }, true);
  assert.ok(
    ['count_onset_nll', 'count_acc'].every((m) => step.metrics.includes(m)),
    step.metrics.join(', '),
  );
  assert.ok(step.second < step.first, `one step lowers the loss: ${step.first} -> ${step.second}`);
  // The count tokens encode the peaks of the head's per-token rates, summed over real frames; its loss reads the
  // rates summed per frame. The bias is raised so that random tokens make peaks above the threshold.
  const g = new Graph();
  const store = new ParamStore(3);
  const cm = { ...base, countPeaks: 0.15 };
  const out = favor(new Scope(g, store), avInputs(g, 2, 10), g.input('text', 'int64', [2, 4]), 20, cm);
  const av = out.av as NonNullable<typeof out.av>;
  const rates = audioTokenRates(new Scope(g, store).scope('encoder').scope('count_head'), av.streams.audio);
  store.set('encoder.count_head.bias', hostArray('float32', [FRAME_SOUNDS], new Float32Array(FRAME_SOUNDS).fill(-1.5)));
  const session = await Session.create(g, { rates, counts: av.counts!, onsets: av.onsetRates! }, { threads: 1 });
  const r = await session.run({ ...avBatch([randomClip(10, 1), randomClip(7, 2)], 10), ...store.feeds(g) });
  await session.release();
  const [z, counts, onsets] = [toFloat32(r.rates), toFloat32(r.counts), toFloat32(r.onsets)];
  const [f, per] = [10, AUDIO_PER_FRAME];
  const real = [10, 7];
  let peaks = 0;
  for (let i = 0; i < 2; i++)
    for (let k = 0; k < FRAME_SOUNDS; k++) {
      const at = (t: number) => (t < 0 || t >= f * per ? 0 : z[(i * f * per + t) * FRAME_SOUNDS + k]);
      let want = 0;
      for (let t = 0; t < real[i] * per; t++) want += +(at(t) > 0.15 && at(t) >= at(t - 1) && at(t) > at(t + 1));
      assert.equal(counts[i * FRAME_SOUNDS + k], want, `clip ${i}, sound ${k}`);
      peaks += want;
      for (let t = 0; t < f; t++) {
        let sum = 0;
        for (let j = 0; j < per; j++) sum += at(t * per + j);
        const got = onsets[(i * f + t) * FRAME_SOUNDS + k];
        assert.ok(Math.abs(got - sum) < 1e-4 * Math.max(1, sum), `clip ${i}, sound ${k}, frame ${t}: rates summed`);
      }
    }
  assert.ok(peaks > 0, 'some peaks to count');
});

test("countWords: each count token is the LM's embedding of its sound word plus its number embeddings weighted by the bins", async () => {
  const [b, f, dim, vocab] = [2, 4, 6, 20];
  const ids = { sounds: [1, 2, 3, 4], numbers: Array.from({ length: COUNT_BINS }, (_, n) => 5 + n) };
  const rng = new Rng(12);
  const perFrame = Float32Array.from({ length: b * f * FRAME_SOUNDS }, () => Math.floor(rng.uniform() * 3));
  const mask = Float32Array.from([1, 1, 1, 1, 1, 1, 0, 0]);
  const embed = Float32Array.from({ length: vocab * dim }, () => rng.normal());
  const g = new Graph();
  const store = new ParamStore(1);
  const e = g.input('embed', 'float32', [vocab, dim]);
  const out = countTokens(
    new Scope(g, store),
    g.input('per_frame', 'float32', [b, f, FRAME_SOUNDS]),
    g.input('mask', 'float32', [b, f]),
    dim,
    { embed: e, ids },
  );
  assert.deepEqual(store.names(), [], 'no parameters of its own');
  const session = await Session.create(g, out, { threads: 1 });
  const r = await session.run({
    per_frame: hostArray('float32', [b, f, FRAME_SOUNDS], perFrame),
    mask: hostArray('float32', [b, f], mask),
    embed: hostArray('float32', [vocab, dim], embed),
  });
  await session.release();
  const tokens = toFloat32(r.tokens);
  for (let i = 0; i < b; i++)
    for (let k = 0; k < FRAME_SOUNDS; k++) {
      let count = 0;
      for (let t = 0; t < f; t++) count += mask[i * f + t] * perFrame[(i * f + t) * FRAME_SOUNDS + k];
      const z = Array.from({ length: COUNT_BINS }, (_, n) => Math.exp(-((count - n) ** 2) / (2 * COUNT_SD ** 2)));
      const sum = z.reduce((a, v) => a + v, 0);
      for (let d = 0; d < dim; d++) {
        let want = embed[ids.sounds[k] * dim + d];
        for (let n = 0; n < COUNT_BINS; n++) want += (z[n] / sum) * embed[ids.numbers[n] * dim + d];
        const got = tokens[(i * FRAME_SOUNDS + k) * dim + d];
        assert.ok(Math.abs(got - want) < 1e-4, `clip ${i}, sound ${k}, dim ${d}: ${got} vs ${want}`);
      }
    }
  const hits = new Graph();
  assert.throws(
    () =>
      countTokens(
        new Scope(hits, new ParamStore(1)),
        hits.input('counts', 'float32', [b, f, FRAME_SOUNDS + FRAME_VISUAL]),
        hits.input('mask', 'float32', [b, f]),
        dim,
        { embed: hits.input('embed', 'float32', [vocab, dim]), ids },
      ),
    /countWords makes one token per kind of sound/,
  );
});

test('countWords: needs sound-only count tokens and the vocabulary ids; trains through the LM embedding', async () => {
  const base: FavorConfig = { ...favorTiny(), window: 5, queryAux: 1, countTokens: 'audio', countPeaks: 0.15 };
  const refusals: [Partial<FavorConfig>, boolean][] = [
    [{ countWords: true }, true],
    [{ countWords: true, countTokens: 'off', countPeaks: 0 }, false],
    [{ countWords: true, countTokens: 'onsets', countPeaks: 0, queryHits: 1 }, false],
    [{ countWords: true, countTokens: 'onsets', countPeaks: 0 }, true],
  ];
  for (const [over, ok] of refusals) {
    const parsed = FavorModelSchema.safeParse({ ...base, ...over });
    assert.equal(parsed.success, ok, JSON.stringify(over));
    if (!ok) assert.match(parsed.error!.message, /countWords makes count tokens of sound words/);
  }
  assert.equal(FavorModelSchema.parse(base).countWords, false, 'off by default');
  const cm = { ...base, countWords: true };
  const g = new Graph();
  assert.throws(
    () => favor(new Scope(g, new ParamStore(1)), avInputs(g, 2, 10), g.input('text', 'int64', [2, 4]), 20, cm),
    /model\.countWords needs the count words' ids/,
  );
  const ids = { sounds: [1, 2, 3, 4], numbers: Array.from({ length: COUNT_BINS }, (_, n) => 5 + n) };
  const step = await twoTrainSteps(cm, true, ids);
  assert.ok(!step.names.some((n) => n.startsWith('encoder.count.')), step.names.join(', '));
  assert.ok(step.names.includes('lm.embed') && step.names.includes('encoder.count_head.weight'));
  assert.ok(step.second < step.first, `one step lowers the loss: ${step.first} -> ${step.second}`);
});
