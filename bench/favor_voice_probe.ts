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
 *
 * `--counts val|test --questions N` then counts with it: for each count.sounds and count.wall question of that split
 * of N scenes (the softmax fitted at the counter's peaks, not at the onsets), the frozen counter's peaks (each
 * impact of a word) get the likeliest voice of their word among the
 * voices the clip holds (those its impacts' posteriors put one impact or more on), the looks are bound to voices
 * by the Jaccard of their hit frames and the voices' impact frames, and the asked look is counted as
 * objectCounts counts it (object_answers.ts: its bound voice's impacts, or its hit frames when bound to none). The
 * same reading per word, as the model counts now, is printed beside it, and a mix: per voice only where another look
 * is bound to the asked look's word. Per kind of object asked about.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Graph, ParamStore, Scope, Session } from '../src/engine/index.js';
import { toFloat32 } from '../src/io/array.js';
import {
  type AvqaConfig,
  FAMILY_WORD,
  FAVOR_AUDIO_RATE,
  FRAME_LOOKS,
  FRAME_SOUNDS,
  SOUND_WORDS,
  avqaConfig,
  avqaScene,
  avqaStreams,
  generateAvqa,
  lookIndex,
} from '../src/data/avqa/index.js';
import { MAX_CLASSES, synthClasses } from '../src/data/synth/classes.js';
import { objectHitFrames } from '../src/models/favor/count_objects.js';
import { audioTokenRates } from '../src/models/favor/count_tokens.js';
import { SHARPNESS, SOUNDING } from '../src/models/favor/object_answers.js';
import type { FavorConfig } from '../src/models/favor/config.js';
import { avBatch, clipFromStreams } from '../src/models/favor/data.js';
import { avInputs, encodeStreams } from '../src/models/favor/model.js';
import { FavorModelSchema } from '../src/models/favor/task.js';
import { loadRun } from '../src/train/files.js';
import { type ObjectKind, countedObject, scenesAndDuration } from './favor_count_truth.js';
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
async function impactRows(
  store: ParamStore,
  c: FavorConfig,
  cfg: AvqaConfig,
  scenes: number,
  at: 'onset' | 'peak' = 'onset',
): Promise<ImpactRow[]> {
  const frames = Math.round(2 * cfg.maxDuration);
  const g = new Graph();
  const encoder = new Scope(g, store).scope('encoder');
  const streams = encodeStreams(encoder, avInputs(g, 1, frames, c.frameSize), c);
  const outputs = {
    audio_tokens: streams.audio, // [1, F', 25, Da]
    ...(at === 'peak' ? { rates: audioTokenRates(encoder.scope('count_head'), streams.audio) } : {}), // [1, F', 25, 4]
  };
  const session = await Session.create(g, outputs, { threads: 1 });
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
      const peaks = out.rates ? peakTokens(toFloat32(out.rates), tokens.length / width, FRAME_SOUNDS, PEAK) : [];
      for (const o of scene.objects) {
        if (o.voice === null || o.sound === null) continue;
        const word = SOUND_WORDS.indexOf(o.sound);
        for (const t of o.bounces) {
          const onset = Math.floor(FAVOR_AUDIO_RATE * t);
          // 'peak': read where the counter puts the impact (its word's peak within PEAK_REACH tokens), as counts do.
          const k = at === 'onset' ? onset : nearestPeak(peaks, word, onset);
          if (t < 0 || k === null || k > last) continue;
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

/** Tokens from an impact's onset within which the counter's peak of its word is taken as that impact's. */
const PEAK_REACH = 2;

/** The token of `word`'s peak nearest `onset` within PEAK_REACH, or null. */
function nearestPeak(peaks: [number, number][], word: number, onset: number): number | null {
  let best: number | null = null;
  for (const [t, k] of peaks)
    if (
      k === word &&
      Math.abs(t - onset) <= PEAK_REACH &&
      (best === null || Math.abs(t - onset) < Math.abs(best - onset))
    )
      best = t;
  return best;
}

/** The probe on the first `scenes` AVQA scenes of `duration` s (the run's AVQA settings otherwise). */
export async function voiceProbe(dir: string, scenes: number, duration: number): Promise<VoiceProbe> {
  const { c, cfg, store } = stageOneRun(dir, duration);
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

/** One row of the counts mode: a count template and kind of object, and how often each reading counts right. */
export interface VoiceCountRow {
  template: string;
  kind: ObjectKind;
  questions: number;
  /** objectCounts over the counter's words, as the model counts now. */
  byWord: number;
  /** The same over voices: each of the counter's impacts given the likeliest voice of its word. */
  byVoice: number;
  /** Per voice where another look is bound to the asked look's word, else per word. */
  byVoiceWhereShared: number;
}

/** Tokens [t, channel] where rates [T, C] peak as audioPeakCounts counts them: above `threshold`, >= before, > after. */
export function peakTokens(
  rates: Float32Array,
  tokens: number,
  channels: number,
  threshold: number,
): [number, number][] {
  const at = (t: number, k: number) => (t < 0 || t >= tokens ? 0 : rates[t * channels + k]);
  const out: [number, number][] = [];
  for (let t = 0; t < tokens; t++)
    for (let k = 0; k < channels; k++) {
      const x = at(t, k);
      if (x > threshold && x >= at(t - 1, k) && x > at(t + 1, k)) out.push([t, k]);
    }
  return out;
}

/** What lookCount reads: hit frames [F, 54] 0/1 and the impacts per frame [F, C] of C sounds (words or voices). */
export interface LookEvidence {
  hits: Float32Array;
  impacts: Float64Array;
  frames: number;
  channels: number;
}

/**
 * objectCounts' count of one look (object_answers.ts, bindSounds then objectCounts), in float64. Bound to a sound (best Jaccard of its hit
 * frames and the sound's impact frames above SOUNDING): the sounds' impacts under a softmax of SHARPNESS x Jaccard;
 * else its hit frames.
 */
export function lookCount(e: LookEvidence, look: number): number {
  const { seen, jaccard, total } = lookBinding(e, look);
  const best = Math.max(...jaccard);
  if (!(best > SOUNDING)) return seen;
  const weights = jaccard.map((j) => Math.exp(SHARPNESS * (j - best)));
  const sum = weights.reduce((a, w) => a + w, 0);
  return weights.reduce((a, w, k) => a + (w / sum) * total[k], 0);
}

/** The sound (word or voice) a look is bound to (best Jaccard above SOUNDING), or -1 (lookCount's binding). */
export function boundSound(e: LookEvidence, look: number): number {
  const { jaccard } = lookBinding(e, look);
  const best = jaccard.reduce((b, j, k) => (j > jaccard[b] ? k : b), 0);
  return jaccard[best] > SOUNDING ? best : -1;
}

/** A look's hit frames, its Jaccard with each sound's impact frames, and each sound's impacts (bindSounds). */
function lookBinding(
  { hits, impacts, frames, channels }: LookEvidence,
  look: number,
): { seen: number; jaccard: number[]; total: Float64Array } {
  let seen = 0;
  const shared = new Float64Array(channels);
  const framesWith = new Float64Array(channels);
  const total = new Float64Array(channels);
  for (let f = 0; f < frames; f++) {
    const h = hits[f * FRAME_LOOKS + look];
    seen += h;
    for (let k = 0; k < channels; k++) {
      const x = impacts[f * channels + k];
      total[k] += x;
      framesWith[k] += Math.min(x, 1);
      shared[k] += h * Math.min(x, 1);
    }
  }
  return { seen, jaccard: Array.from(shared, (sh, k) => sh / Math.max(seen + framesWith[k] - sh, 1)), total };
}

/**
 * The counts mode: a voice softmax fitted on the train impacts of the first `fitScenes` scenes, then every `split`
 * count.sounds and count.wall question of `questionScenes` scenes counted per word and per voice (lookCount).
 */
export async function voiceCountProbe(
  dir: string,
  fitScenes: number,
  questionScenes: number,
  duration: number,
  split: 'val' | 'test',
): Promise<VoiceCountRow[]> {
  const { c, cfg, store } = stageOneRun(dir, duration);
  // Fitted where the counts read: at the counter's peaks, not at the true onsets.
  const train = (await impactRows(store, c, cfg, fitScenes, 'peak')).filter((r) => !r.heldOut);
  if (!train.length) throw new InputError(`${fitScenes} scenes leave no train impacts`, { field: '--scenes' });
  const score = fitSoftmax(
    train.map((r) => r.x),
    train.map((r) => r.voice),
    MAX_CLASSES,
  );
  const wordOfVoice = synthClasses(MAX_CLASSES).map((k) => SOUND_WORDS.indexOf(FAMILY_WORD[k.family]));
  const questions = generateAvqa({ ...cfg, perFamily: 1 }, questionScenes).questions.filter(
    (q) => q.split === split && (q.template === 'count.sounds' || q.template === 'count.wall'),
  );
  const frames = Math.round(2 * cfg.maxDuration);
  const g = new Graph();
  const root = new Scope(g, store);
  const encoder = root.scope('encoder');
  const streams = encodeStreams(encoder, avInputs(g, 1, frames, c.frameSize), c);
  const outputs = {
    audio_tokens: streams.audio, // [1, F', 25, Da]
    rates: audioTokenRates(encoder.scope('count_head'), streams.audio), // [1, F', 25, 4]
    hits: objectHitFrames(root.scope('frame_aux.hits'), streams.visual, streams.frameMask), // [1, F', 54]
  };
  const session = await Session.create(g, outputs, { threads: 1 });
  const rows = new Map<string, VoiceCountRow>();
  const per = FAVOR_AUDIO_RATE / 2;
  try {
    for (const q of questions) {
      const scene = avqaScene(cfg, q.index);
      const { object, kind } = countedObject(scene, q);
      const s = avqaStreams(cfg, q.index, q.audio ?? {}, { size: c.frameSize });
      const clip = clipFromStreams(s.video.data, s.audio.data, c.frameSize);
      const out = await session.run({ ...avBatch([clip], frames, c.frameSize), ...store.feeds(g) });
      const [tokens, rates, hits] = [toFloat32(out.audio_tokens), toFloat32(out.rates), toFloat32(out.hits)];
      const padded = hits.length / FRAME_LOOKS;
      const byWord = new Float64Array(padded * FRAME_SOUNDS);
      const byVoice = new Float64Array(padded * MAX_CLASSES);
      // Each impact's voice posterior among its word's voices; then its voice among the voices the clip holds.
      const impacts = peakTokens(rates, padded * per, FRAME_SOUNDS, PEAK).map(([t, word]) => {
        const x = new Float64Array(TOKENS_READ * c.audioDim); // tokens past the clip's last read as 0
        x.set(tokens.subarray(t * c.audioDim, Math.min(t + TOKENS_READ, padded * per) * c.audioDim));
        return { frame: Math.floor(t / per), word, posterior: wordPosterior(score(x), wordOfVoice, word) };
      });
      const held = presentVoices(impacts.map((i) => i.posterior));
      for (const { frame, word, posterior } of impacts) {
        byWord[frame * FRAME_SOUNDS + word]++;
        byVoice[frame * MAX_CLASSES + likeliest(posterior, held)]++;
      }
      const look = lookIndex(object.color, object.shape);
      const truth = Number(q.answer);
      const key = `${q.template} ${kind}`;
      const row = rows.get(key) ?? {
        template: q.template,
        kind,
        questions: 0,
        byWord: 0,
        byVoice: 0,
        byVoiceWhereShared: 0,
      };
      const words = { hits, impacts: byWord, frames: padded, channels: FRAME_SOUNDS };
      const voices = { hits, impacts: byVoice, frames: padded, channels: MAX_CLASSES };
      const [wordCount, voiceCount] = [Math.round(lookCount(words, look)), Math.round(lookCount(voices, look))];
      const word = boundSound(words, look);
      const shared =
        word >= 0 &&
        Array.from({ length: FRAME_LOOKS }, (_, l) => l).some((l) => l !== look && boundSound(words, l) === word);
      row.questions++;
      row.byWord += +(wordCount === truth);
      row.byVoice += +(voiceCount === truth);
      row.byVoiceWhereShared += +((shared ? voiceCount : wordCount) === truth);
      rows.set(key, row);
    }
  } finally {
    await session.release();
  }
  return [...rows.values()].sort((a, b) => (a.template + a.kind).localeCompare(b.template + b.kind));
}

/** A voice is held by a clip when its impacts' posteriors add up to at least this: one impact's worth. */
export const PRESENT_MASS = 1;

/** Voice logits [48] -> the posterior over the voices of `word` (0 for the others). */
export function wordPosterior(logits: Float64Array, wordOfVoice: number[], word: number): Float64Array {
  const top = Math.max(...logits.filter((_, v) => wordOfVoice[v] === word));
  const p = logits.map((l, v) => (wordOfVoice[v] === word ? Math.exp(l - top) : 0));
  const sum = p.reduce((a, x) => a + x, 0);
  return p.map((x) => x / sum);
}

/** The voices a clip holds: those whose posteriors over its impacts add up to PRESENT_MASS or more. */
export function presentVoices(posteriors: Float64Array[]): Set<number> {
  const mass = new Float64Array(MAX_CLASSES);
  for (const p of posteriors) p.forEach((x, v) => (mass[v] += x));
  return new Set(Array.from(mass.keys()).filter((v) => mass[v] >= PRESENT_MASS));
}

/** An impact's voice: the likeliest of the held voices its posterior allows, else its likeliest voice. */
export function likeliest(posterior: Float64Array, held: Set<number>): number {
  const argmax = (vs: number[]) => vs.reduce((best, v) => (posterior[v] > posterior[best] ? v : best), vs[0]);
  const allowed = [...held].filter((v) => posterior[v] > 0);
  return argmax(allowed.length ? allowed : Array.from(posterior.keys()));
}

/** The counter's peak threshold the runs count with (model.countPeaks in session 16 on). */
const PEAK = 0.15;

/** A stage-1 run's model config, its AVQA config at `duration` s, and its weights; refuses any other run. */
function stageOneRun(dir: string, duration: number): { c: FavorConfig; cfg: AvqaConfig; store: ParamStore } {
  const run = loadRun(dir, { tasks: ['favor'] });
  const c = FavorModelSchema.parse(run.config.model) as FavorConfig;
  if (c.stage !== 'encoders')
    throw new InputError(`${dir}: not a stage-1 run (model.stage=encoders)`, { field: 'model.stage' });
  const data = (run.config.data ?? {}) as { avqa?: Partial<AvqaConfig> };
  const cfg = avqaConfig({ ...(data.avqa ?? {}), minDuration: duration, maxDuration: duration });
  const store = new ParamStore(0);
  store.load(run.params);
  return { c, cfg, store };
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scenes: { type: 'string', default: '1500' },
      duration: { type: 'string', default: '10' },
      counts: { type: 'string' },
      questions: { type: 'string', default: '20000' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1 || values.help)
    return void console.log(
      'usage: node dist/bench/favor_voice_probe.js STAGE1_RUN [--scenes 1500] [--duration 10] [--json]\n' +
        '       node dist/bench/favor_voice_probe.js STAGE1_RUN --counts val|test [--questions 20000] [--scenes 1500] [--json]',
    );
  const { scenes, duration } = scenesAndDuration(values);
  if (values.counts !== undefined) {
    const split = values.counts;
    if (split !== 'val' && split !== 'test')
      throw new InputError(`--counts ${split}: expected val or test`, { field: '--counts', got: split });
    const questions = scenesAndDuration({ scenes: values.questions, duration: values.duration }).scenes;
    const rows = await voiceCountProbe(positionals[0], scenes, questions, duration, split);
    if (values.json) return void console.log(JSON.stringify(rows, null, 2));
    console.log(`| ${split} | object | questions | counted per word | per voice | per voice where a word is shared |`);
    console.log('|---|---|---|---|---|---|');
    for (const r of rows)
      console.log(
        `| ${r.template} | ${r.kind} | ${r.questions} | ${r.byWord} | ${r.byVoice} | ${r.byVoiceWhereShared} |`,
      );
    return;
  }
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
