/**
 * Whether a stage-1 run's frozen audio tokens tell apart the voices a sound word covers (docs/favor.md, session 22).
 * AVQA asks "how many times did the {object} make a sound" of objects whose sound word ('piano') another object
 * also makes, with another voice (another synth class, another pitch): the counter counts per word, so it adds both
 * objects' impacts (bench/favor_count_truth: a count per voice would answer every such question). Here each impact
 * of a sounding object, in N AVQA scenes heard with their own audio, is read off the encoder's 50 Hz tokens (the
 * token it starts in and the two after, as the counting head reads them), and a linear softmax over the 48 voices is
 * fitted on the train scenes' impacts and scored on the val and test scenes' ones: over all held-out impacts, those
 * with no other impact within 0.1 s, those with one, and, within each held-out scene, among only the voices of the
 * impact's own word there (what telling two objects with one word apart needs), beside chance among those voices.
 *
 *   node dist/bench/favor_voice_probe.js STAGE1_RUN [--scenes 1500] [--duration 10] [--json]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Graph, ParamStore, Scope, Session } from '../src/engine/index.js';
import { toFloat32 } from '../src/io/array.js';
import { type AvqaConfig, FAVOR_AUDIO_RATE, avqaConfig, avqaScene, avqaStreams } from '../src/data/avqa/index.js';
import { MAX_CLASSES } from '../src/data/synth/classes.js';
import type { FavorConfig } from '../src/models/favor/config.js';
import { avBatch, clipFromStreams } from '../src/models/favor/data.js';
import { avInputs, encodeStreams } from '../src/models/favor/model.js';
import { FavorModelSchema } from '../src/models/favor/task.js';
import { loadRun } from '../src/train/files.js';
import { scenesAndDuration } from './favor_count_truth.js';
import { InputError } from '../src/util/errors.js';

/** Audio tokens read per impact: the one it starts in and the ones after it. */
export const TOKENS_READ = 3;
/** An impact is 'near' another when one lies within this many seconds. */
const NEAR = 0.1;

/** One impact: its features, its voice (synth class), its word, its scene, and whether another impact is near. */
export interface ImpactRow {
  x: Float64Array;
  voice: number;
  word: string;
  scene: number;
  heldOut: boolean;
  near: boolean;
}

export interface VoiceProbe {
  run: string;
  scenes: number;
  impacts: { train: number; heldOut: number };
  voices: number;
  trainAcc: number;
  heldOutAcc: number;
  isolatedAcc: number;
  nearAcc: number;
  /** Held-out impacts whose scene has two or more voices of their word: accuracy among those voices, and chance. */
  sharedWord: { impacts: number; acc: number; chance: number };
}

/**
 * A linear softmax over `classes` fitted by full-batch gradient descent (features standardised on `x`, L2 1e-4,
 * deterministic): returns a scorer of a row's class logits.
 */
export function fitSoftmax(
  x: Float64Array[],
  y: number[],
  classes: number,
  steps = 300,
  lr = 0.5,
): (row: Float64Array) => Float64Array {
  const n = x.length;
  const d = x[0].length;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const row of x) for (let j = 0; j < d; j++) mean[j] += row[j] / n;
  for (const row of x) for (let j = 0; j < d; j++) sd[j] += (row[j] - mean[j]) ** 2 / n;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]) + 1e-6;
  const z = (row: Float64Array) => {
    const out = new Float64Array(d + 1);
    for (let j = 0; j < d; j++) out[j] = (row[j] - mean[j]) / sd[j];
    out[d] = 1;
    return out;
  };
  const zs = x.map(z);
  const w = new Float64Array((d + 1) * classes); // [d+1, classes]
  const logits = (zr: Float64Array) => {
    const out = new Float64Array(classes);
    for (let j = 0; j <= d; j++)
      if (zr[j] !== 0) for (let k = 0; k < classes; k++) out[k] += zr[j] * w[j * classes + k];
    return out;
  };
  const grad = new Float64Array(w.length);
  for (let step = 0; step < steps; step++) {
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      const p = logits(zs[i]);
      const top = Math.max(...p);
      let total = 0;
      for (let k = 0; k < classes; k++) total += p[k] = Math.exp(p[k] - top);
      for (let k = 0; k < classes; k++) p[k] = p[k] / total - (k === y[i] ? 1 : 0);
      for (let j = 0; j <= d; j++) for (let k = 0; k < classes; k++) grad[j * classes + k] += (zs[i][j] * p[k]) / n;
    }
    for (let m = 0; m < w.length; m++) w[m] -= lr * (grad[m] + 1e-4 * w[m]);
  }
  return (row) => logits(z(row));
}

/** Every impact of a sounding object in the first `scenes` scenes of `cfg`, read off the run's frozen audio tokens. */
async function impactRows(store: ParamStore, c: FavorConfig, cfg: AvqaConfig, scenes: number): Promise<ImpactRow[]> {
  const frames = Math.round(2 * cfg.maxDuration);
  const g = new Graph();
  const streams = encodeStreams(new Scope(g, store).scope('encoder'), avInputs(g, 1, frames, c.frameSize), c);
  const session = await Session.create(g, { audio_tokens: streams.audio }, { threads: 1 });
  const rows: ImpactRow[] = [];
  try {
    for (let index = 0; index < scenes; index++) {
      const scene = avqaScene(cfg, index);
      const s = avqaStreams(cfg, index, {}, { size: c.frameSize });
      const clip = clipFromStreams(s.video.data, s.audio.data, c.frameSize);
      const out = await session.run({ ...avBatch([clip], frames, c.frameSize), ...store.feeds(g) });
      const tokens = toFloat32(out.audio_tokens); // [1, F', 25, Da]
      const width = c.audioDim;
      const last = clip.frames * (FAVOR_AUDIO_RATE / 2) - TOKENS_READ; // the last token an impact's read fits after
      for (const o of scene.objects) {
        if (o.voice === null || o.sound === null) continue;
        for (const t of o.bounces) {
          const k = Math.floor(FAVOR_AUDIO_RATE * t);
          if (t < 0 || k > last) continue;
          rows.push({
            x: Float64Array.from(tokens.subarray(k * width, (k + TOKENS_READ) * width)),
            voice: o.voice,
            word: o.sound,
            scene: index,
            heldOut: scene.split !== 'train',
            near: scene.impacts.some((e) => e.time !== t && Math.abs(e.time - t) < NEAR),
          });
        }
      }
    }
  } finally {
    await session.release();
  }
  return rows;
}

/** The probe on the first `scenes` AVQA scenes of `duration` s (the run's AVQA settings otherwise). */
export async function voiceProbe(dir: string, scenes: number, duration: number): Promise<VoiceProbe> {
  const run = loadRun(dir, { tasks: ['favor'] });
  const c = FavorModelSchema.parse(run.config.model) as FavorConfig;
  if (c.stage !== 'encoders')
    throw new InputError(`${dir}: not a stage-1 run (model.stage=encoders)`, { field: 'model.stage' });
  const data = (run.config.data ?? {}) as { avqa?: Partial<AvqaConfig> };
  const cfg = avqaConfig({ ...(data.avqa ?? {}), minDuration: duration, maxDuration: duration });
  const store = new ParamStore(0);
  store.load(run.params);
  const rows = await impactRows(store, c, cfg, scenes);
  const train = rows.filter((r) => !r.heldOut);
  const held = rows.filter((r) => r.heldOut);
  if (!train.length || !held.length)
    throw new InputError(`${scenes} scenes leave no train or no held-out impacts; use more scenes`, {
      field: '--scenes',
    });
  const score = fitSoftmax(
    train.map((r) => r.x),
    train.map((r) => r.voice),
    MAX_CLASSES,
  );
  const argmaxOf = (r: ImpactRow, among?: number[]) => {
    const l = score(r.x);
    const options = among ?? Array.from(l, (_, k) => k);
    return options.reduce((best, k) => (l[k] > l[best] ? k : best), options[0]);
  };
  const acc = (rs: ImpactRow[]) => (rs.length ? rs.filter((r) => argmaxOf(r) === r.voice).length / rs.length : NaN);
  let shared = 0;
  let sharedRight = 0;
  let chance = 0;
  for (const r of held) {
    const among = [...new Set(held.filter((o) => o.scene === r.scene && o.word === r.word).map((o) => o.voice))];
    if (among.length < 2) continue;
    shared++;
    sharedRight += +(argmaxOf(r, among) === r.voice);
    chance += 1 / among.length;
  }
  return {
    run: dir,
    scenes,
    impacts: { train: train.length, heldOut: held.length },
    voices: new Set(rows.map((r) => r.voice)).size,
    trainAcc: acc(train),
    heldOutAcc: acc(held),
    isolatedAcc: acc(held.filter((r) => !r.near)),
    nearAcc: acc(held.filter((r) => r.near)),
    sharedWord: { impacts: shared, acc: sharedRight / (shared || 1), chance: chance / (shared || 1) },
  };
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scenes: { type: 'string', default: '1500' },
      duration: { type: 'string', default: '10' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1 || values.help)
    return void console.log(
      'usage: node dist/bench/favor_voice_probe.js STAGE1_RUN [--scenes 1500] [--duration 10] [--json]',
    );
  const { scenes, duration } = scenesAndDuration(values);
  const p = await voiceProbe(positionals[0], scenes, duration);
  if (values.json) return void console.log(JSON.stringify(p, null, 2));
  const pct = (x: number) => (100 * x).toFixed(1);
  console.log(`| ${p.run} | impacts (train / held out) | voices | % right |`);
  console.log('|---|---|---|---|');
  console.log(`| train | ${p.impacts.train} | ${p.voices} | ${pct(p.trainAcc)} |`);
  console.log(`| held out | ${p.impacts.heldOut} | | ${pct(p.heldOutAcc)} |`);
  console.log(`| held out, no other impact within ${NEAR} s | | | ${pct(p.isolatedAcc)} |`);
  console.log(`| held out, another impact within ${NEAR} s | | | ${pct(p.nearAcc)} |`);
  console.log(
    `| held out, among its word's voices in its scene | ${p.sharedWord.impacts} | | ${pct(p.sharedWord.acc)} (chance ${pct(p.sharedWord.chance)}) |`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main(process.argv.slice(2));
