/**
 * How well a FAVOR run with count tokens counts (docs/favor.md, session 15). The run's per-frame counts are read on
 * every val scene of its AVQA data, heard with the scene's own audio, and summed over the clip:
 * - the query head's 0/1 sounds (`frames`), or its softplus counts per frame (`onsets`);
 * - or the audio counting head's impacts (`audio`).
 * Each sum is checked against the scene's impacts of each kind of sound (frameLabels' audioOnsets). The table gives
 * the share of (clip, sound) pairs within 0.5 of the truth, over all pairs and over the pairs with at least one
 * impact, and the quartiles of the error on those. Answering 0 everywhere is the baseline of the first figure. An
 * `onsets` run is also read through its 0/1 sounds. A stage-1 run that trained the counting head (`model.onsetAux`,
 * session 16) is read through that head; `--scenes N --duration S` score any run on the val scenes of N AVQA scenes
 * of S seconds instead of its own data (a stage-1 run trained on 5 s clips, scored on stage 2's 10 s ones). The audio
 * head is read twice: its rates summed, and its peaks above a rate counted (`--peak`; default the run's countPeaks,
 * else 0.15).
 *
 *   node dist/bench/favor_count_probe.js RUN [RUN ...] [--scenes N --duration S] [--peak RATE] [--json]
 *
 * A run with a hit head (a stage-1 run with `model.hitAux`, a stage-2 run with `model.countObjects`) is also read
 * through it: each object's wall hits, the frames whose hit probability is above 1/2 counted (count_objects.ts),
 * checked against the scene's (frameLabels' hitOnsets) over every (clip, look on screen) pair.
 *
 * `--answers val|test` asks instead whether the language model reads its count tokens: for each count.heard and
 * count.sounds question of the split, the count its token of the asked sound holds, the truth and the greedy answer,
 * and how much of the first answer token's attention goes to the count tokens (probeAnswers).
 *
 *   node dist/bench/favor_count_probe.js RUN [RUN ...] --answers test [--json]
 *
 * `--objects val|test` scores what the frozen heads answer on their own for the questions `model.objectAnswers`,
 * `model.countObjects`, `model.visualAnswers` and `model.eventAnswers` copy onto (probeObjects): the ceiling of those
 * paths, for a stage-1 run before any stage 2. The count templates are scored as the run counts, with
 * `model.splitSounds`, and with the voice head where the run has one (`model.voiceCounts`), and again per kind of object asked about (it owns its sound, shares it, or is silent).
 *
 *   node dist/bench/favor_count_probe.js STAGE1_RUN --objects test --scenes 1000 --duration 10 [--json]
 */
import { Graph, ParamStore, Scope, Session, type Tensor } from '../src/engine/index.js';
import { toFloat32 } from '../src/io/array.js';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type AvqaConfig,
  type AvqaQuestion,
  FRAME_SOUNDS,
  FRAME_VISUAL,
  LOOK_COLORS,
  SOUND_WORDS,
  avqaConfig,
  avqaScene,
  avqaStreams,
  avqaTokenizer,
  frameLabels,
  generateAvqa,
  lookIndex,
  sceneSplit,
} from '../src/data/avqa/index.js';
import type { FavorConfig } from '../src/models/favor/config.js';
import { answerClipsByLength, loadFavorModel } from '../src/models/favor/infer.js';
import { FavorModelSchema } from '../src/models/favor/task.js';
import { audioPeakCounts, audioPeaks, audioTokenRates, countWordIds } from '../src/models/favor/count_tokens.js';
import { voiceImpacts, voiceLogits, voiceObjectCounts } from '../src/models/favor/voices.js';
import { HIT_PROBABILITY, namedLooks, objectHitCounts, objectHitFrames } from '../src/models/favor/count_objects.js';
import {
  bindSounds,
  namedSeconds,
  objectAnswers,
  objectCounts,
  soundPositions,
  withEvents,
} from '../src/models/favor/object_answers.js';
import { eventAnswers } from '../src/models/favor/event_answers.js';
import { namedSounds } from '../src/models/favor/count_asked.js';
import { lookTokens, visualAnswers } from '../src/models/favor/visual_answers.js';
import { OBJECT_KINDS, countedObject } from './favor_count_truth.js';
import { runAvqa } from './favor_rescore.js';
import { prefixFeed } from '../src/models/favor/evaluate.js';
import { SHAPES } from '../src/data/synth/classes.js';
import { avInputs, countWordsOf, encodeStreams, favorEncode } from '../src/models/favor/model.js';
import { avBatch, clipFromStreams } from '../src/models/favor/data.js';
import { queryHeadCounts, queryHeadOutputs } from '../src/models/favor/query_aux.js';
import { loadRun } from '../src/train/files.js';
import { InputError } from '../src/util/errors.js';

interface CountScore {
  run: string;
  /** What was summed: the run's own count source, 'frames' read off an 'onsets' run's 0/1 sounds, or the audio head's peaks. */
  read: string;
  pairs: number;
  nonZero: number;
  /** Answering 0 for every pair. */
  zeroShare: number;
  within: number;
  withinNonZero: number;
  /** Error (sum - truth) quartiles over the non-zero pairs. */
  errorQuartiles: [number, number, number];
}

/** The audio head's peak threshold when the run does not count peaks itself (session 16's choice on val). */
const DEFAULT_PEAK = 0.15;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** The run's per-frame counts summed over every val scene of its data, scored against the scenes' impacts. */
export async function probeRun(
  dir: string,
  over: { scenes?: number; duration?: number; peak?: number } = {},
): Promise<CountScore[]> {
  const run = loadRun(dir, { tasks: ['favor'] });
  // A stage-1 run is read as saved (loadFavorModel takes stage-2 runs only, the ones that answer).
  const stageOne = (run.config.model as { stage?: string } | undefined)?.stage === 'encoders';
  const model = stageOne
    ? { config: FavorModelSchema.parse(run.config.model) as FavorConfig, weights: run.params, tokenizer: undefined }
    : loadFavorModel(dir);
  const c = model.config;
  const hitHead = stageOne ? c.hitAux > 0 : c.countObjects;
  if (stageOne ? !(c.onsetAux > 0) && !hitHead : c.countTokens === 'off')
    throw new InputError(
      `${dir}: ${stageOne ? 'model.onsetAux and model.hitAux are 0' : 'model.countTokens is off'}; nothing to probe`,
      { field: stageOne ? 'model.onsetAux' : 'model.countTokens' },
    );
  const data = (run.config.data ?? {}) as { avqa?: Record<string, unknown> };
  const source = String(run.config.source ?? '');
  const scenes = over.scenes ?? Number(/^avqa:(\d+)$/.exec(source)?.[1]);
  if (!scenes) throw new InputError(`${dir}: config.json source ${source} is not avqa:N`, { field: 'source' });
  const cfg = avqaConfig({
    ...(data.avqa ?? {}),
    ...(over.duration ? { minDuration: over.duration, maxDuration: over.duration } : {}),
  });
  const frames = Math.round(2 * cfg.maxDuration);
  const store = new ParamStore(0);
  store.load(model.weights);
  const g = new Graph();
  const root = new Scope(g, store);
  const encoder = root.scope('encoder');
  const inputs = avInputs(g, 1, frames, c.frameSize);
  // What the count tokens sum, per frame, as the model computes it. The audio head (stage 1's, or a countTokens
  // 'audio' run's) is read both ways: its rates summed, and its peaks above `peak` counted.
  const outputs: Record<string, Tensor> = {};
  const peak = over.peak ?? (c.countPeaks > 0 ? c.countPeaks : DEFAULT_PEAK);
  const streams = encodeStreams(encoder, inputs, c);
  // Each look's wall hits over the clip, as countObjects counts them (stage 1 keeps its hit head at frame_aux.hits).
  const hits = hitHead ? objectHitCounts(hitHeadScope(root, stageOne), streams.visual, streams.frameMask) : undefined; // [1, 54]
  if (stageOne ? c.onsetAux > 0 : c.countTokens === 'audio') {
    const rates = audioTokenRates(encoder.scope('count_head'), streams.audio); // [1, F', 25, 4]
    outputs['counts_audio'] = rates.sum([2]); // [1, F', 4]
    outputs[`counts_audio peaks > ${peak}`] = audioPeakCounts(rates, peak); // [1, F', 4]
  } else if (!stageOne) {
    const tokenizer = model.tokenizer!; // a stage-2 run here
    const av = favorEncode(encoder, streams, c, countWordsOf(root, tokenizer.vocabSize, c, countWordIds(tokenizer)));
    const head = queryHeadOutputs(c);
    if (!av.frameLogits) throw new Error(`${dir}: the encoder gave no per-frame counts`);
    for (const read of c.countTokens === 'onsets' ? (['onsets', 'frames'] as const) : (['frames'] as const))
      outputs[`counts_${read}`] = queryHeadCounts(av.frameLogits, head, read); // [1, F', C]
  }
  const reads = Object.keys(outputs).map((k) => k.slice('counts_'.length));
  const session = await Session.create(g, { ...outputs, ...(hits ? { hits } : {}) }, { threads: 1 });
  const errors = reads.map(() => [] as number[]);
  const within = reads.map(() => [0, 0]);
  let [pairs, nonZero] = [0, 0];
  const looks = { pairs: 0, nonZero: 0, within: 0, withinNonZero: 0, errors: [] as number[] };
  try {
    for (let index = 0; index < scenes; index++) {
      if (sceneSplit(cfg, index) !== 'val') continue;
      const streams = avqaStreams(cfg, index, {}, { size: c.frameSize });
      const clip = clipFromStreams(streams.video.data, streams.audio.data, c.frameSize);
      const r = await session.run({ ...avBatch([clip], frames, c.frameSize), ...store.feeds(g) });
      const perFrame = reads.map((read) => toFloat32(r[`counts_${read}`]));
      const labels = frameLabels(cfg, index);
      if (r.hits) {
        const counted = toFloat32(r.hits);
        for (const look of new Set(avqaScene(cfg, index).objects.map((o) => lookIndex(o.color, o.shape)))) {
          let truth = 0;
          for (let t = 0; t < labels.frames; t++) truth += labels.hitOnsets[t * FRAME_VISUAL + look];
          const ok = Math.abs(counted[look] - truth) < 0.5;
          looks.pairs++;
          looks.within += +ok;
          if (truth > 0) {
            looks.nonZero++;
            looks.withinNonZero += +ok;
            looks.errors.push(counted[look] - truth);
          }
        }
      }
      for (let k = 0; k < FRAME_SOUNDS; k++) {
        let truth = 0;
        const sums = reads.map(() => 0);
        for (let t = 0; t < labels.frames; t++) {
          truth += labels.audioOnsets[t * FRAME_SOUNDS + k];
          perFrame.forEach((z, i) => (sums[i] += z[t * (z.length / frames) + k])); // the sounds come first
        }
        pairs++;
        if (truth > 0) nonZero++;
        sums.forEach((sum, i) => {
          const ok = Math.abs(sum - truth) < 0.5;
          within[i][0] += +ok;
          if (truth > 0) {
            within[i][1] += +ok;
            errors[i].push(sum - truth);
          }
        });
      }
    }
  } finally {
    await session.release();
  }
  const score = (read: string, n: number, nz: number, ok: number, okNonZero: number, errs: number[]): CountScore => {
    const e = errs.sort((a, b) => a - b);
    return {
      run: dir,
      read,
      pairs: n,
      nonZero: nz,
      zeroShare: (n - nz) / n,
      within: ok / n,
      withinNonZero: okNonZero / Math.max(1, nz),
      errorQuartiles: [quantile(e, 0.25), quantile(e, 0.5), quantile(e, 0.75)],
    };
  };
  return [
    ...reads.map((read, i) => score(read, pairs, nonZero, within[i][0], within[i][1], errors[i])),
    ...(hits
      ? [
          score(
            `object hits > ${HIT_PROBABILITY}`,
            looks.pairs,
            looks.nonZero,
            looks.within,
            looks.withinNonZero,
            looks.errors,
          ),
        ]
      : []),
  ];
}

interface AnswerScore {
  run: string;
  split: string;
  template: string;
  questions: number;
  /** The count token of the asked sound holds the true count (within 0.5). */
  tokenRight: number;
  answerRight: number;
  /** The answer right among the questions whose token is right, and among those whose token is wrong. */
  rightWhenTokenRight: number;
  rightWhenTokenWrong: number;
  /** The answer is the token's count, rounded: the LM copies what it is handed. */
  copiesToken: number;
  /**
   * Attention of the first answer token (last LM block, mean over heads) on all count tokens, and on the asked
   * sound's, as a share of its attention on all AV tokens; mean over the questions.
   */
  countAttention: number;
  askedAttention: number;
}

/**
 * Does the LM read its count tokens? For each `split` question of `count.heard` and `count.sounds` (the asked
 * object's sound) of a countTokens run with sounds counted: the clip count its token of the asked sound encodes
 * (AvTokens.counts), the truth and the run's greedy answer.
 */
export async function probeAnswers(dir: string, split: 'val' | 'test'): Promise<AnswerScore[]> {
  const model = loadFavorModel(dir);
  const c = model.config;
  if (c.countTokens === 'off')
    throw new InputError(`${dir}: model.countTokens is off; nothing to probe`, { field: 'model.countTokens' });
  // Val and test are what perFamily = heldOutPerFamily asks of the same scenes (the run's evaluation).
  const { heldOut: cfg, scenes } = runAvqa(dir);
  const templates = ['count.heard', 'count.sounds'];
  const questions = generateAvqa(cfg, scenes).questions.filter(
    (q) => q.split === split && templates.includes(q.template),
  );
  const soundOf = (q: AvqaQuestion): number => {
    const word =
      q.template === 'count.heard'
        ? SOUND_WORDS.find((w) => q.question.includes(w))
        : avqaScene(cfg, q.index).objects.find((o) => q.question.includes(o.name))?.sound;
    return word ? SOUND_WORDS.indexOf(word) : -1;
  };
  const frames = Math.round(2 * cfg.maxDuration);
  const store = new ParamStore(0);
  store.load(model.weights);
  const g = new Graph();
  const root = new Scope(g, store);
  const words = countWordsOf(root, model.tokenizer.vocabSize, c, countWordIds(model.tokenizer));
  const av = favorEncode(root.scope('encoder'), avInputs(g, 1, frames, c.frameSize), c, words);
  const session = await Session.create(g, { counts: av.counts! }, { threads: 1 });
  const rows = templates.map(() => ({
    n: 0,
    tokenRight: 0,
    right: 0,
    rightTokenRight: 0,
    rightTokenWrong: 0,
    copies: 0,
    countAttention: 0,
    askedAttention: 0,
  }));
  try {
    for (let start = 0; start < questions.length; start += 16) {
      const part = questions.slice(start, start + 16);
      const clips = part.map((q) => {
        const streams = avqaStreams(cfg, q.index, q.audio ?? {}, { size: c.frameSize });
        return clipFromStreams(streams.video.data, streams.audio.data, c.frameSize);
      });
      const answers = await answerClipsByLength(
        model,
        clips,
        part.map((q) => q.question),
      );
      for (const [i, q] of part.entries()) {
        const k = soundOf(q);
        if (k < 0) continue; // a silent object: no sound to look up
        const r = await session.run({ ...avBatch([clips[i]], frames, c.frameSize), ...store.feeds(g) });
        const count = toFloat32(r.counts)[k];
        const truth = Number(q.answer);
        const row = rows[templates.indexOf(q.template)];
        const tokenRight = Math.abs(count - truth) < 0.5;
        const { answer, windows, counts: attention } = answers[i];
        const right = answer === q.answer;
        const all = windows.reduce((a, v) => a + v, 0) + attention.reduce((a, v) => a + v, 0);
        row.countAttention += attention.reduce((a, v) => a + v, 0) / (all || 1);
        row.askedAttention += (attention[k] ?? 0) / (all || 1);
        row.n++;
        row.tokenRight += +tokenRight;
        row.right += +right;
        if (tokenRight) row.rightTokenRight += +right;
        else row.rightTokenWrong += +right;
        row.copies += +(answer === String(Math.round(count)));
      }
    }
  } finally {
    await session.release();
  }
  return templates.map((template, i) => {
    const r = rows[i];
    return {
      run: dir,
      split,
      template,
      questions: r.n,
      tokenRight: r.tokenRight / (r.n || 1),
      answerRight: r.right / (r.n || 1),
      rightWhenTokenRight: r.rightTokenRight / (r.tokenRight || 1),
      rightWhenTokenWrong: r.rightTokenWrong / (r.n - r.tokenRight || 1),
      copiesToken: r.copies / (r.n || 1),
      countAttention: r.countAttention / (r.n || 1),
      askedAttention: r.askedAttention / (r.n || 1),
    };
  });
}

interface ObjectScore {
  run: string;
  split: string;
  template: string;
  questions: number;
  /** The heads' own answer (object_answers.ts's distributions at their argmax, or countObjects' count) is right. */
  headsRight: number;
}

/** Which output of the probe's graph answers a template, and how it is read (probeObjects' READ). */
type ObjectKind = 'look' | 'sound' | 'count' | 'split' | 'voice' | 'yes' | 'color' | 'shape' | 'scene';

/** The templates the object paths answer, and which of their outputs answers each. */
const OBJECT_TEMPLATES: Record<string, ObjectKind> = {
  'visual.color': 'color',
  'visual.shape': 'shape',
  'visual.count': 'scene',
  'visual.gray': 'scene',
  'order.wall': 'look',
  'order.sounds': 'yes',
  'order.first': 'look',
  'causal.next': 'look',
  'causal.heard': 'sound',
  'source.at': 'look',
  'source.which': 'look',
  'source.sound': 'sound',
  'count.wall': 'count',
  'count.sounds': 'count',
};

/**
 * How well the frozen heads answer on their own what `model.objectAnswers` and `model.countObjects` copy: for each
 * `split` question of the templates above, the look or sound objectAnswers puts most weight on, or the named look's
 * hit count, and for the visual templates what `model.visualAnswers` copies (the colour, the shape, the objects on
 * screen rounded), against the truth. The ceiling of the copy paths: the LM can only choose when to use them. A
 * stage-1 run with hitAux and onsetAux is read with `over.scenes` / `over.duration` (stage 2's data); a stage-2 run as
 * trained (the visual templates only with visualAnswers).
 */
export async function probeObjects(
  dir: string,
  split: 'val' | 'test',
  over: { scenes?: number; duration?: number; peak?: number } = {},
): Promise<ObjectScore[]> {
  const run = loadRun(dir, { tasks: ['favor'] });
  const stageOne = (run.config.model as { stage?: string } | undefined)?.stage === 'encoders';
  const c = FavorModelSchema.parse(run.config.model) as FavorConfig;
  if (stageOne ? !(c.hitAux > 0 && c.onsetAux > 0) : !c.objectAnswers)
    throw new InputError(`${dir}: ${stageOne ? 'model.hitAux or model.onsetAux is 0' : 'model.objectAnswers is off'}`, {
      field: stageOne ? 'model.hitAux' : 'model.objectAnswers',
    });
  const data = (run.config.data ?? {}) as { avqa?: Partial<AvqaConfig>; heldOutPerFamily?: number | null };
  const scenes = over.scenes ?? Number(/^avqa:(\d+)$/.exec(String(run.config.source ?? ''))?.[1]);
  if (!scenes) throw new InputError(`${dir}: config.json source is not avqa:N`, { field: 'source' });
  const cfg = avqaConfig({
    ...(data.avqa ?? {}),
    ...(over.duration ? { minDuration: over.duration, maxDuration: over.duration } : {}),
    perFamily: data.heldOutPerFamily ?? data.avqa?.perFamily ?? 1,
  });
  const visualHead = stageOne || c.visualAnswers;
  const templates = Object.keys(OBJECT_TEMPLATES).filter((t) => visualHead || !t.startsWith('visual.'));
  const questions = generateAvqa(cfg, scenes).questions.filter(
    (q) => q.split === split && templates.includes(q.template),
  );
  const tok = avqaTokenizer(cfg);
  const ids = countWordIds(tok);
  const looks = ids.looks!;
  const frames = Math.round(2 * cfg.maxDuration);
  const store = new ParamStore(0);
  store.load(run.params);
  const g = new Graph();
  const root = new Scope(g, store);
  const encoder = root.scope('encoder');
  const streams = encodeStreams(encoder, avInputs(g, 1, frames, c.frameSize), c);
  const textLen = 40;
  const text = g.input('text', 'int64', [1, textLen]);
  const hitFrames = objectHitFrames(hitHeadScope(root, stageOne), streams.visual, streams.frameMask); // [1, F', 54]
  const peak = over.peak ?? (c.countPeaks > 0 ? c.countPeaks : DEFAULT_PEAK);
  const peaks = audioPeaks(audioTokenRates(encoder.scope('count_head'), streams.audio), peak); // [1, F', 25, 4]
  const soundFrames = peaks.sum([2]); // [1, F', 4]
  const named = namedLooks(text, looks.colors, looks.shapes); // [1, 54]
  const bound = bindSounds(hitFrames, soundFrames, streams.frameMask);
  const evidence = {
    ...bound,
    sounds: namedSounds(text, ids.sounds),
    looks: named,
    soundAt: soundPositions(text, ids.sounds),
    ...namedSeconds(text, ids.times!, tok.vocabSize),
  };
  // The event paths too (model.eventAnswers), whatever the run: what the heads would answer there.
  const answers = withEvents(objectAnswers(evidence), eventAnswers(evidence, text, ids.events!));
  // A run with a voice head (stage 1's voiceAux, stage 2's voiceCounts) also counts per voice where looks share a word.
  const voices = (stageOne ? c.voiceAux > 0 : c.voiceCounts)
    ? voiceObjectCounts(
        bound,
        voiceImpacts(
          voiceLogits(encoder.scope('voice_head'), streams.audio),
          peaks.mul(streams.frameMask.unsqueeze([2, 3])),
        ),
        streams.frameMask,
      )
    : undefined; // [1, 54]
  const counted = c.voiceCounts ? voices! : objectCounts(bound, c.splitSounds); // [1, 54] as the run counts
  const shared = objectCounts(bound, true); // [1, 54] impacts of a shared sound split (model.splitSounds)
  const screen = visualHead
    ? visualAnswers(
        lookTokens(lookHeadScope(root, stageOne), streams.visual, streams.frameMask),
        streams.frameMask,
        text,
        ids.scene!,
        looks,
      )
    : undefined;
  const outputs = {
    look: answers.look,
    sound: answers.sound,
    yes: answers.yes,
    hits: counted,
    split: shared,
    ...(voices ? { voice: voices } : {}),
    named,
    ...(screen ? { color: screen.color, shape: screen.shape, scene: screen.count } : {}),
  };
  const session = await Session.create(g, outputs, { threads: 1 });
  // Each count template is scored as the run counts, with a shared sound's impacts split (splitSounds), and with a
  // voice head per voice where looks share a word (voiceCounts) when the run does not count so already.
  const reads = templates.flatMap((t): [string, string, ObjectKind][] =>
    OBJECT_TEMPLATES[t] === 'count'
      ? [
          [t, t, 'count'],
          [t, `${t} (splitSounds)`, 'split'],
          ...(voices && !c.voiceCounts ? [[t, `${t} (voiceCounts)`, 'voice'] as [string, string, ObjectKind]] : []),
        ]
      : [[t, t, OBJECT_TEMPLATES[t]]],
  );
  const rows = reads.map(() => ({ n: 0, right: 0 }));
  // The count templates again per kind of asked object (countedObject): the paths count each kind differently.
  const byKind = new Map<string, { n: number; right: number }>();
  const lookName = (k: number) => `${LOOK_COLORS[Math.floor(k / SHAPES.length)]} ${SHAPES[k % SHAPES.length]}`;
  const argmax = (x: Float32Array) => x.reduce((best, v, i) => (v > x[best] ? i : best), 0);
  const READ: Record<ObjectKind, (out: Record<string, Float32Array>) => string> = {
    look: (out) => lookName(argmax(out.look)),
    color: (out) => LOOK_COLORS[argmax(out.color)],
    shape: (out) => SHAPES[argmax(out.shape)],
    scene: (out) => String(Math.round(out.scene[0])),
    sound: (out) => SOUND_WORDS[argmax(out.sound)],
    yes: (out) => (out.yes[0] > 0.5 ? 'yes' : 'no'),
    count: (out) => String(Math.round(out.hits[argmax(out.named)])),
    split: (out) => String(Math.round(out.split[argmax(out.named)])),
    voice: (out) => String(Math.round(out.voice[argmax(out.named)])),
  };
  try {
    for (const q of questions) {
      const streamsOf = avqaStreams(cfg, q.index, q.audio ?? {}, { size: c.frameSize });
      const clip = clipFromStreams(streamsOf.video.data, streamsOf.audio.data, c.frameSize);
      const words = [...tok.encode(q.question, { addSpecial: false }).ids, tok.id('[SEP]')];
      const r = await session.run({
        ...avBatch([clip], frames, c.frameSize),
        ...store.feeds(g),
        text: prefixFeed([words], textLen, tok.padId),
      });
      const out = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toFloat32(v)]));
      const kind =
        OBJECT_TEMPLATES[q.template] === 'count' ? countedObject(avqaScene(cfg, q.index), q).kind : undefined;
      reads.forEach(([template, label, read], i) => {
        if (template !== q.template) return;
        const right = +(READ[read](out) === q.answer);
        rows[i].n++;
        rows[i].right += right;
        if (!kind) return;
        const row = byKind.get(`${label} [${kind}]`) ?? { n: 0, right: 0 };
        byKind.set(`${label} [${kind}]`, { n: row.n + 1, right: row.right + right });
      });
    }
  } finally {
    await session.release();
  }
  const kinds = reads.flatMap(([, label]) =>
    OBJECT_KINDS.flatMap((kind) => {
      const row = byKind.get(`${label} [${kind}]`);
      return row ? [{ template: `${label} [${kind}]`, ...row }] : [];
    }),
  );
  return [...reads.map(([, template], i) => ({ template, ...rows[i] })), ...kinds].map((r) => ({
    run: dir,
    split,
    template: r.template,
    questions: r.n,
    headsRight: r.right / (r.n || 1),
  }));
}

/** Where a run keeps the hit head: a stage-1 run at frame_aux.hits (pretrain.ts), stage 2 at encoder.hit_head. */
const hitHeadScope = (root: Scope, stageOne: boolean): Scope =>
  stageOne ? root.scope('frame_aux.hits') : root.scope('encoder').scope('hit_head');

/** Where a run keeps the visual head: a stage-1 run at frame_aux.visual, stage 2 (visualAnswers) at encoder.look_head. */
const lookHeadScope = (root: Scope, stageOne: boolean): Scope =>
  stageOne ? root.scope('frame_aux.visual') : root.scope('encoder').scope('look_head');

/** A flag's value as a positive number, undefined when absent, or an InputError naming the flag. */
function positive(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0)) throw new InputError(`--${flag} ${v}: expected a positive number`, { field: `--${flag}`, got: v });
  return n;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals: runs } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      help: { type: 'boolean' },
      scenes: { type: 'string' },
      duration: { type: 'string' },
      peak: { type: 'string' },
      answers: { type: 'string' },
      objects: { type: 'string' },
    },
  });
  if (!runs.length || values.help) {
    console.log(
      'usage: node dist/bench/favor_count_probe.js RUN [RUN ...] [--scenes N --duration S] [--peak RATE] [--json]\n' +
        '       node dist/bench/favor_count_probe.js RUN [RUN ...] --answers val|test [--json]\n' +
        '       node dist/bench/favor_count_probe.js RUN [RUN ...] --objects val|test [--scenes N --duration S] [--json]',
    );
    return;
  }
  const pct = (x: number) => (100 * x).toFixed(1);
  if (values.objects !== undefined) {
    const split = values.objects;
    if (split !== 'val' && split !== 'test')
      throw new InputError(`--objects ${split}: expected val or test`, { field: '--objects', got: split });
    const over = { scenes: positive(values.scenes, 'scenes'), duration: positive(values.duration, 'duration') };
    const scores: ObjectScore[] = [];
    for (const dir of runs) scores.push(...(await probeObjects(dir, split, over)));
    if (values.json) return void console.log(JSON.stringify(scores, null, 2));
    console.log('| run | split | template | questions | the heads right |');
    console.log('|---|---|---|---|---|');
    for (const r of scores)
      console.log(`| ${r.run} | ${r.split} | ${r.template} | ${r.questions} | ${pct(r.headsRight)} |`);
    return;
  }
  if (values.answers !== undefined) {
    const split = values.answers;
    if (split !== 'val' && split !== 'test')
      throw new InputError(`--answers ${split}: expected val or test`, { field: '--answers', got: split });
    const scores: AnswerScore[] = [];
    for (const dir of runs) scores.push(...(await probeAnswers(dir, split)));
    if (values.json) return void console.log(JSON.stringify(scores, null, 2));
    console.log(
      '| run | split | template | questions | token right | answer right | right when token right | right when token wrong | answer = token | attention on count tokens | on the asked one |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of scores)
      console.log(
        `| ${r.run} | ${r.split} | ${r.template} | ${r.questions} | ${pct(r.tokenRight)} | ${pct(r.answerRight)} | ${pct(r.rightWhenTokenRight)} | ${pct(r.rightWhenTokenWrong)} | ${pct(r.copiesToken)} | ${pct(r.countAttention)} | ${pct(r.askedAttention)} |`,
      );
    return;
  }
  const over = {
    scenes: positive(values.scenes, 'scenes'),
    duration: positive(values.duration, 'duration'),
    peak: positive(values.peak, 'peak'),
  };
  const json = values.json;
  const rows: CountScore[] = [];
  for (const dir of runs) rows.push(...(await probeRun(dir, over)));
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  console.log(
    '| run | summed | pairs (non-zero) | all 0 | within 0.5 | within 0.5, non-zero | error quartiles, non-zero |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.run} | ${r.read} | ${r.pairs} (${r.nonZero}) | ${pct(r.zeroShare)} | ${pct(r.within)} | ${pct(r.withinNonZero)} | ${r.errorQuartiles.map((x) => x.toFixed(1)).join(' / ')} |`,
    );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main(process.argv.slice(2));
