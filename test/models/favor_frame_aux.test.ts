/** Per-frame supervision of FAVOR's encoders and Q-Former: the labels against the rendered clip, the probe vs training switch, the query head. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParamStore } from '../../src/engine/index.js';
import { adamw } from '../../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import { type HostArray, hostArray, toFloat32 } from '../../src/io/array.js';
import {
  FRAME_LOOKS,
  FRAME_SOUNDS,
  FRAME_VISUAL,
  LOOK_COLORS,
  FAMILY_WORD,
  SOUND_WORDS,
  avqaConfig,
  avqaScene,
  frameLabels,
  MIN_VISIBLE,
  lookIndex,
  sceneDuration,
  sceneSynthConfig,
  visibleFractions,
} from '../../src/data/avqa/index.js';
import { insideShape } from '../../src/data/synth/render.js';
import { type SceneObject, positionAt, simulateScene } from '../../src/data/synth/scene.js';
import { Rng } from '../../src/util/rng.js';
import { generateClip, sceneVoices, sceneKey } from '../../src/data/synth/clip.js';
import { SHAPES, type Shape, synthClasses } from '../../src/data/synth/classes.js';
import { type FavorConfig, favorTiny } from '../../src/models/favor/config.js';
import { avBatch, frameLabelBatch } from '../../src/models/favor/data.js';
import { frameLabelInputs } from '../../src/models/favor/frame_aux.js';
import { avInputs, favorLoss } from '../../src/models/favor/model.js';
import { FavorModelSchema } from '../../src/models/favor/task.js';
import { randomClip } from './favor_fixtures.js';

const cfg = avqaConfig({ minDuration: 5, maxDuration: 8 });

/** Frame labels of the sounds heard, derived from the renderer's own audio events (an independent path). */
function renderedSoundLabels(index: number, offset: number, soundsOf = index): Float32Array {
  const duration = sceneDuration(cfg, index);
  const synth = sceneSynthConfig(cfg, soundsOf, duration);
  const clip = generateClip(synth, soundsOf, { offset, video: false });
  const classes = synthClasses(synth.classes);
  const voices = sceneVoices(sceneKey(synth, soundsOf), synth.classes);
  const out = new Float32Array(2 * duration * FRAME_SOUNDS);
  for (const e of clip.audioEvents) {
    const word = FAMILY_WORD[classes[voices[e.cls]].family];
    out[Math.floor(2 * e.time) * FRAME_SOUNDS + SOUND_WORDS.indexOf(word)] = 1;
  }
  return out;
}

/** The label ids of an object's look, color and shape. */
const labelsOf = (o: { color: string; shape: string }) => [
  lookIndex(o.color, o.shape),
  FRAME_LOOKS + LOOK_COLORS.indexOf(o.color),
  FRAME_LOOKS + LOOK_COLORS.length + SHAPES.indexOf(o.shape as (typeof SHAPES)[number]),
];

/** Pixels of a `size` px frame inside an object's shape at time `t` (whether covered or not). */
function pixelsInside(o: SceneObject, shape: Shape, t: number, size: number): number {
  const [cx, cy] = positionAt(o, t);
  let n = 0;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) if (insideShape(shape, x + 0.5 - cx, y + 0.5 - cy, o.radius)) n++;
  return n;
}

/** A scene's frame labels beside its simulation and ground truth (what the label tests compare them with). */
function sceneTruth(index: number) {
  const l = frameLabels(cfg, index);
  const duration = sceneDuration(cfg, index);
  const synth = sceneSynthConfig(cfg, index, duration);
  const sim = simulateScene(synth, new Rng(sceneKey(synth, index)));
  return { l, duration, synth, sim, objects: avqaScene(cfg, index).objects };
}

test("the visual labels are the looks, colors and shapes of the scene's objects at least half visible", () => {
  let checked = 0;
  let partly = 0;
  for (let index = 0; index < 30; index++) {
    const { l, duration, synth, sim, objects } = sceneTruth(index);
    const visible = visibleFractions(cfg, index, duration, l.frames);
    assert.equal(l.frames, 2 * duration);
    // The rendered frames themselves (an independent path): a sounding object whose colour no other object has and
    // that is not flashing shows exactly its visible fraction of its own pixels in that colour.
    const clip = generateClip(synth, index, { audio: false });
    const classes = synthClasses(synth.classes);
    const px = synth.size * synth.size;
    for (let t = 0; t < l.frames; t++) {
      const on = new Set(objects.filter((_, i) => visible[t][i] >= MIN_VISIBLE).flatMap(labelsOf));
      for (let k = 0; k < FRAME_VISUAL; k++) assert.equal(l.visual[t * FRAME_VISUAL + k], on.has(k) ? 1 : 0, `${k}`);
      const frame = clip.video.subarray(t * (clip.fps / 2) * px * 3, (t * (clip.fps / 2) + 1) * px * 3);
      sim.objects.forEach((o, i) => {
        const color = classes[o.cls].color;
        const flashing = sim.events.some((e) => e.object === o.id && t / 2 >= e.time && t / 2 - e.time < synth.flash);
        if (!o.sounding || flashing || objects.some((x, j) => j !== i && x.color === objects[i].color)) return;
        let shown = 0;
        for (let p = 0; p < px; p++)
          if (frame[3 * p] === color[0] && frame[3 * p + 1] === color[1] && frame[3 * p + 2] === color[2]) shown++;
        const area = pixelsInside(o, classes[o.cls].shape, t / 2, synth.size);
        assert.ok(Math.abs(shown / area - visible[t][i]) < 1e-9, `scene ${index} frame ${t} object ${i}`);
        checked++;
        if (visible[t][i] < 1) partly++;
      });
    }
  }
  assert.ok(checked > 300 && partly > 10, `${checked} objects checked, ${partly} partly hidden: too few to mean much`);
});

test("the audio labels mark the frames of the renderer's heard impacts: own, shifted and foil audio", () => {
  let hits = 0;
  for (const index of [0, 1, 2, 3]) {
    for (const audio of [{}, { offset: 1 }, { offset: -0.6 }, { foil: index + 10 }]) {
      const l = frameLabels(cfg, index, audio);
      const expected = renderedSoundLabels(
        index,
        ('offset' in audio ? audio.offset : undefined) ?? 0,
        ('foil' in audio ? audio.foil : undefined) ?? index,
      );
      assert.deepEqual(Array.from(l.audio), Array.from(expected), `scene ${index} ${JSON.stringify(audio)}`);
      hits += l.audio.reduce((a, v) => a + v, 0);
    }
  }
  assert.ok(hits > 10, `only ${hits} labelled hits: the comparison would be vacuous`);
});

test("the hit labels mark each object's wall impacts by look, whatever the audio: the renderer's sounding events, gray ones at a wall", () => {
  let sounding = 0;
  let gray = 0;
  for (let index = 0; index < 10; index++) {
    const { l, synth, sim, objects } = sceneTruth(index);
    for (const audio of [{ offset: 1 }, { foil: index + 10 }])
      assert.deepEqual(Array.from(frameLabels(cfg, index, audio).hits), Array.from(l.hits), 'seen, not heard');
    const hitAt = (t: number, o: number) => labelsOf(objects[o]).every((k) => l.hits[t * FRAME_VISUAL + k] === 1);
    // Sounding objects: exactly the frames of the renderer's own impact events (an independent path).
    const frames = (o: number, times: number[]) =>
      new Set(times.map((x) => Math.floor(2 * x)).filter((t) => t >= 0 && t < l.frames));
    objects.forEach((o, i) => {
      const expected = o.sounding
        ? frames(
            i,
            sim.events.filter((e) => e.object === i).map((e) => e.time),
          )
        : frames(i, o.bounces);
      for (let t = 0; t < l.frames; t++) {
        const unique = objects.filter((x) => x.color === o.color && x.shape === o.shape).length === 1;
        if (unique) assert.equal(hitAt(t, i), expected.has(t), `scene ${index} object ${i} frame ${t}`);
        else if (expected.has(t)) assert.ok(hitAt(t, i));
      }
      if (o.sounding) sounding += expected.size;
      else gray += expected.size;
      // Gray ones: each impact puts the object against a wall of the square scene.
      for (const time of o.bounces) {
        const [x, y] = positionAt(sim.objects[i], time);
        const r = sim.objects[i].radius;
        const gap = Math.min(x - r, y - r, synth.size - x - r, synth.size - y - r);
        assert.ok(Math.abs(gap) < 1e-6, `scene ${index} object ${i} at ${time}: ${gap} px from a wall`);
      }
    });
    // Nothing else: every labelled look is some object's impact.
    for (let t = 0; t < l.frames; t++)
      for (let k = 0; k < FRAME_LOOKS; k++)
        if (l.hits[t * FRAME_VISUAL + k])
          assert.ok(
            objects.some((o, i) => lookIndex(o.color, o.shape) === k && hitAt(t, i)),
            `${index} ${t} ${k}`,
          );
  }
  assert.ok(sounding > 20 && gray > 5, `${sounding} sounding and ${gray} gray hit frames: too few to mean much`);
});

test('frameLabelBatch pads short clips with zeros', () => {
  const a = frameLabels(cfg, 0);
  const b = frameLabelBatch([a], a.frames + 3);
  for (const [name, part] of [
    ['frame_visual', a.visual],
    ['frame_hits', a.hits],
  ] as const) {
    assert.deepEqual(b[name].shape, [1, a.frames + 3, FRAME_VISUAL]);
    const v = toFloat32(b[name]);
    assert.deepEqual(Array.from(v.subarray(0, part.length)), Array.from(part));
    assert.ok(v.subarray(part.length).every((x) => x === 0));
  }
});

/** One compiled training step on random streams with labels; returns the trainer and the batch. */
async function trainerFor(c: FavorConfig) {
  const b = 2;
  const lt = 4;
  const vocab = 20;
  const compiled = compileTrainStep(
    (g, p) =>
      favorLoss(
        p,
        avInputs(g, b, 10),
        g.input('text', 'int64', [b, lt]),
        g.input('target', 'int64', [b, lt]),
        g.input('target_mask', 'float32', [b, lt]),
        vocab,
        c,
        undefined,
        frameLabelInputs(g, b, 10, { hits: c.queryHits > 0 }),
      ),
    new ParamStore(3),
    { optimizer: adamw({ weightDecay: 0 }) },
  );
  const trainer = await Trainer.create(compiled, { lr: 1e-2, worker: false, session: { threads: 1 } });
  const ids = (n: number) => BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7) % vocab));
  const labels = [frameLabels(cfg, 0), frameLabels(cfg, 1, { offset: 0.5 })];
  const batch = {
    ...avBatch([randomClip(10, 5), randomClip(7, 15)], 10),
    text: hostArray('int64', [b, lt], ids(b * lt)),
    target: hostArray('int64', [b, lt], ids(b * lt)),
    // No answer positions: the answer loss is 0 and gives no gradient, so only the frame heads can move the encoders.
    target_mask: hostArray('float32', [b, lt], new Float32Array(b * lt)),
    ...frameLabelBatch(labels, 10),
  };
  // Host truth of the "no hit anywhere" baseline over the real frames (10 and 7).
  const silent = labels.map((l, i) =>
    Array.from({ length: i ? 7 : 10 }, (_, t) => (l.audio.subarray(t * 4, t * 4 + 4).some((x) => x) ? 0 : 1)),
  );
  const silentShare = silent.flat().reduce((a: number, v) => a + v, 0) / 17;
  return { trainer, batch, silentShare };
}

const changed = (a: Record<string, unknown>, b: Record<string, unknown>, prefix: string): boolean =>
  Object.keys(a)
    .filter((k) => k.startsWith(prefix))
    .some((k) => {
      const x = toFloat32(a[k] as never);
      const y = toFloat32(b[k] as never);
      return x.some((v, i) => v !== y[i]);
    });

test('frameProbe trains its heads only; frameAux trains the encoders (and the pixel MLP); loss = factor x the BCEs', async () => {
  for (const [over, encoderMoves] of [
    [{ frameProbe: true }, false],
    [{ frameAux: 2, pixelDim: 4 }, true],
  ] as const) {
    const c: FavorConfig = { ...favorTiny(), window: 5, diversity: 0, answerAux: 0, ...over };
    const { trainer, batch, silentShare } = await trainerFor(c);
    const before = await trainer.params();
    const step = await trainer.trainStep(batch);
    const m = step.metrics;
    const after = await trainer.params();
    const factor = c.frameProbe ? 1 : c.frameAux;
    assert.equal(m.answer_ce, 0);
    const parts = factor * (m.frame_visual_bce + m.frame_audio_bce);
    assert.ok(Math.abs(step.loss - parts) < 1e-4, `loss ${step.loss} vs ${parts}`);
    assert.ok(m.frame_visual_bce > 0 && m.frame_audio_bce > 0, JSON.stringify(m));
    for (const k of ['frame_look_acc', 'frame_color_acc', 'frame_shape_acc', 'frame_audio_acc'])
      assert.ok(m[k] >= 0 && m[k] <= 1, `${k} ${m[k]}`);
    assert.ok(Math.abs(m.frame_audio_silent - silentShare) < 1e-6, `${m.frame_audio_silent} vs ${silentShare}`);
    assert.ok(changed(before, after, 'frame_aux.visual'), 'the visual head learns');
    assert.equal(changed(before, after, 'encoder.visual'), encoderMoves, 'visual encoder');
    assert.equal(changed(before, after, 'encoder.audio.'), encoderMoves, 'audio encoder');
    if (c.pixelDim) assert.ok(changed(before, after, 'encoder.visual.pixel.l1'), 'the pixel MLP learns');
    await trainer.close();
  }
});

test('queryAux trains a head on each window of Q-Former queries and, through them, the Q-Former; loss = factor x its BCEs', async () => {
  for (const sync of ['frame', 'window'] as const) {
    const c: FavorConfig = { ...favorTiny(), window: 5, diversity: 0, answerAux: 0, queryAux: 3, sync };
    const { trainer, batch } = await trainerFor(c);
    const before = await trainer.params();
    const { loss, metrics: m } = await trainer.trainStep(batch);
    const after = await trainer.params();
    const parts = 3 * (m.query_visual_bce + m.query_audio_bce);
    assert.ok(Math.abs(loss - parts) < 1e-4 * Math.max(1, parts), `${sync}: loss ${loss} vs ${parts}`);
    assert.ok(m.query_visual_bce > 0 && m.query_audio_bce > 0, JSON.stringify(m));
    for (const k of ['query_color_acc', 'query_shape_acc', 'query_audio_acc'])
      assert.ok(m[k] >= 0 && m[k] <= 1, `${k} ${m[k]}`);
    assert.equal(m.frame_visual_bce, undefined, 'the encoders get no per-frame loss of their own');
    assert.ok(changed(before, after, 'query_aux'), 'the query head learns');
    assert.ok(changed(before, after, 'encoder.qformer'), 'the Q-Former learns from it');
    if (sync === 'window') assert.ok(changed(before, after, 'encoder.audio_qformer'), 'so does the audio Q-Former');
    // The encoders learn too (they are not frozen here): the gradient reaches them through the queries.
    assert.ok(changed(before, after, 'encoder.visual'), 'visual encoder');
    await trainer.close();
  }
});

test("queryHits adds the query head's BCE against the hit labels: loss = queryAux x (looks + sounds) + queryHits x hits", async () => {
  const c: FavorConfig = { ...favorTiny(), window: 5, diversity: 0, answerAux: 0, queryAux: 2, queryHits: 3 };
  const { trainer, batch } = await trainerFor(c);
  const { loss, metrics: m } = await trainer.trainStep(batch);
  const parts = 2 * (m.query_visual_bce + m.query_audio_bce) + 3 * m.query_hit_bce;
  assert.ok(Math.abs(loss - parts) < 1e-4 * parts, `loss ${loss} vs ${parts}`);
  assert.ok(m.query_hit_bce > 0 && m.query_hit_acc >= 0 && m.query_hit_acc <= 1, JSON.stringify(m));
  await trainer.close();
  const off = await trainerFor({ ...c, queryHits: 0 });
  const without = (await off.trainer.trainStep(off.batch)).metrics;
  assert.equal(without.query_hit_bce, undefined, 'no hit loss without queryHits');
  await off.trainer.close();
  const parsed = FavorModelSchema.safeParse({ ...c, queryAux: 0 });
  assert.ok(!parsed.success && /queryHits needs queryAux/.test(parsed.error.message), 'queryHits alone is refused');
  assert.ok(FavorModelSchema.safeParse(c).success);
});

test('the query head scores the padded frames of a window as nothing: labels beyond the clip are ignored', async () => {
  // Two steps from the same start, one with junk labels on the second clip's padded frames (7..9): same loss.
  const c: FavorConfig = { ...favorTiny(), window: 5, diversity: 0, answerAux: 0, queryAux: 1 };
  const losses: number[] = [];
  for (const junk of [false, true]) {
    const { trainer, batch } = await trainerFor(c);
    if (junk) {
      const feeds = batch as Record<string, HostArray>;
      const v = toFloat32(feeds.frame_visual).slice();
      for (let t = 7; t < 10; t++) v.fill(1, (10 + t) * FRAME_VISUAL, (10 + t + 1) * FRAME_VISUAL);
      feeds.frame_visual = hostArray('float32', feeds.frame_visual.shape, v);
    }
    losses.push((await trainer.trainStep(batch)).loss);
    await trainer.close();
  }
  assert.ok(Math.abs(losses[0] - losses[1]) < 1e-5, `${losses[0]} vs ${losses[1]}`);
});
