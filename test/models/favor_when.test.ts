/**
 * What the Q-Former's tokens carry of *when* (docs/favor.md, session 8): model.audioContext, what each audio token
 * carries of its frame before synchronization (audio_context.ts), and model.framePos, a learned embedding per frame of
 * a window (qformer.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, ParamStore, Scope, Session } from '../../src/engine/index.js';
import { hostArray, toFloat32 } from '../../src/io/array.js';
import { audioContext } from '../../src/models/favor/audio_context.js';
import { AUDIO_PER_FRAME, type FavorConfig, favorSmall, favorTiny } from '../../src/models/favor/config.js';
import { avBatch } from '../../src/models/favor/data.js';
import { avInputs, favor } from '../../src/models/favor/model.js';
import { FavorModelSchema } from '../../src/models/favor/task.js';
import { Rng } from '../../src/util/rng.js';
import { randomClip, twoTrainSteps } from './favor_fixtures.js';

const [B, F, S, D] = [2, 3, AUDIO_PER_FRAME, 4];
const VOCAB = 20;
const LT = 5;

async function runContext(values: Float32Array, context: FavorConfig['audioContext']): Promise<Float32Array> {
  const g = new Graph();
  const store = new ParamStore(1);
  const audio = g.input('audio_tokens', 'float32', [B, F, S, D]);
  const out = audioContext(new Scope(g, store), audio, { audioContext: context, heads: 2 }); // [B, F, 25, D]
  const session = await Session.create(g, { out }, { threads: 1 });
  const r = await session.run({ audio_tokens: hostArray('float32', [B, F, S, D], values), ...store.feeds(g) });
  await session.release();
  return toFloat32(r.out);
}

test("frameMax adds the frame's max over its 25 audio tokens to every one of them, per feature and frame", async () => {
  const rng = new Rng(4);
  const x = Float32Array.from({ length: B * F * S * D }, () => rng.uniform() * 2 - 1);
  x[((1 * F + 2) * S + 17) * D + 3] = 9; // one sparse onset: clip 1, frame 2, slot 17, feature 3
  const out = await runContext(x, 'frameMax');
  assert.equal(out.length, x.length);
  for (let b = 0; b < B; b++)
    for (let f = 0; f < F; f++)
      for (let d = 0; d < D; d++) {
        let max = -Infinity;
        for (let s = 0; s < S; s++) max = Math.max(max, x[((b * F + f) * S + s) * D + d]);
        for (let s = 0; s < S; s++) {
          const i = ((b * F + f) * S + s) * D + d;
          assert.ok(Math.abs(out[i] - (x[i] + max)) < 1e-6, `b${b} f${f} s${s} d${d}: ${out[i]} vs ${x[i] + max}`);
        }
      }
  // The onset reaches every slot of its own frame and no slot of the frame before it.
  assert.ok(out[((1 * F + 2) * S + 0) * D + 3] > 8, 'slot 0 of the onset frame carries it');
  assert.ok(out[((1 * F + 1) * S + 0) * D + 3] < 2, 'the frame before does not');
});

test('frameBlock mixes the 25 tokens of a frame and nothing across frames', async () => {
  const rng = new Rng(6);
  const x = Float32Array.from({ length: B * F * S * D }, () => rng.uniform() * 2 - 1);
  const moved = Float32Array.from(x);
  moved[((0 * F + 1) * S + 3) * D] += 5; // clip 0, frame 1, slot 3
  const [a, b] = [await runContext(x, 'frameBlock'), await runContext(moved, 'frameBlock')];
  assert.equal(a.length, B * F * S * D);
  const changed = (f: number, s: number) =>
    Array.from({ length: D }, (_, d) => ((0 * F + f) * S + s) * D + d).some((i) => Math.abs(a[i] - b[i]) > 1e-6);
  for (let s = 0; s < S; s++) assert.ok(changed(1, s), `slot ${s} of the frame sees the change`);
  for (const f of [0, 2]) for (let s = 0; s < S; s++) assert.ok(!changed(f, s), `frame ${f} slot ${s} does not`);
});

test("'none' leaves the audio tokens as they are (the default, so older runs trace the same graph)", async () => {
  assert.equal(favorSmall().audioContext, 'none');
  const rng = new Rng(5);
  const x = Float32Array.from({ length: B * F * S * D }, () => rng.uniform());
  assert.deepEqual(await runContext(x, 'none'), x);
  const parsed = FavorModelSchema.parse({ ...favorSmall(), audioContext: undefined });
  assert.equal(parsed.audioContext, 'none', 'a config.json saved before the field parses as none');
  const bad = FavorModelSchema.safeParse({ ...favorSmall(), audioContext: 'mean' });
  assert.ok(!bad.success && bad.error.issues[0].path.includes('audioContext'), 'an unknown context names the field');
});

const TINY: FavorConfig = { ...favorTiny(), window: 5 };

/** Logits of one 5-frame clip, parameters from a store seeded 3 (values by name: a new parameter moves no other). */
async function logits(cfg: FavorConfig): Promise<{ logits: Float32Array; store: ParamStore }> {
  const g = new Graph();
  const x = avInputs(g, 1, 5);
  const text = g.input('text', 'int64', [1, LT]);
  const store = new ParamStore(3);
  const out = favor(new Scope(g, store), x, text, VOCAB, cfg);
  const session = await Session.create(g, { logits: out.logits }, { threads: 1 });
  const ids = BigInt64Array.from({ length: LT }, (_, i) => BigInt(i + 1));
  const r = await session.run({
    ...avBatch([randomClip(5, 1)], 5),
    text: hostArray('int64', [1, LT], ids),
    ...store.feeds(g),
  });
  await session.release();
  return { logits: toFloat32(r.logits), store };
}

const differ = (a: Float32Array, b: Float32Array) => a.some((v, i) => Math.abs(v - b[i]) > 1e-5);

test('frameMax reaches the answer: same weights, other logits; a step lowers the loss with frameMax and frameBlock', async () => {
  const [plain, withMax] = [await logits(TINY), await logits({ ...TINY, audioContext: 'frameMax' })];
  assert.ok(differ(plain.logits, withMax.logits), 'frameMax changes what the model reads');
  for (const context of ['frameMax', 'frameBlock'] as const) await stepLowersLoss({ ...TINY, audioContext: context });
});

test('framePos: no parameter by default; else one embedding per frame of the window, shared by its slots, that trains', async () => {
  const plain = await logits(TINY);
  assert.ok(!plain.store.names().some((n) => n.includes('frame_pos')), 'framePos 0 declares nothing');
  const withPos = await logits({ ...TINY, framePos: 1 });
  const pos = withPos.store.get('encoder.qformer.frame_pos');
  assert.deepEqual(pos.shape, [5, 1, TINY.visualDim + TINY.audioDim]);
  const v = toFloat32(pos);
  const std = Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
  assert.ok(std > 0.6 && std < 1.4, `initial scale ${std} is the tokens' (framePos = 1), not nn.qFormer's 0.02`);
  assert.ok(differ(plain.logits, withPos.logits), 'the frame embedding reaches the logits');
  assert.ok(!FavorModelSchema.safeParse({ ...favorSmall(), framePos: -1 }).success, 'a negative scale is refused');
  await stepLowersLoss({ ...TINY, framePos: 1 });
});

async function stepLowersLoss(cm: FavorConfig): Promise<void> {
  const { first, second } = await twoTrainSteps(cm);
  assert.ok(second < first, `${cm.audioContext} framePos ${cm.framePos}: loss ${first} -> ${second}`);
}
