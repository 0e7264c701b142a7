/**
 * Shared fixtures of the FAVOR tests (and of test/real's): random clips in the layout the model reads, a stage-1 run
 * folder, a stage-2 run folder with initial weights, two training steps of the whole model on a fixed batch.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Graph, ParamStore, Scope } from '../../src/engine/index.js';
import { adamw } from '../../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import { hostArray } from '../../src/io/array.js';
import type { HostArray } from '../../src/io/array.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import {
  AUDIO_PER_FRAME,
  type FavorConfig,
  FRAME_SIZE,
  favorTiny,
  frameValues,
  MEL_BANDS,
} from '../../src/models/favor/config.js';
import { avBatch, frameLabelBatch } from '../../src/models/favor/data.js';
import { type CountWordIds, countsOnsets } from '../../src/models/favor/count_tokens.js';
import { frameLabelInputs } from '../../src/models/favor/frame_aux.js';
import { avInputs, favorLoss } from '../../src/models/favor/model.js';
import { encoderStageLoss } from '../../src/models/favor/pretrain.js';
import { favorInferenceGraph } from '../../src/models/favor/task.js';
import {
  avqaConfig,
  avqaTokenizer,
  frameLabels,
  FRAME_LOOKS,
  FRAME_SOUNDS,
  FRAME_VISUAL,
} from '../../src/data/avqa/index.js';
import { bindSounds, type ObjectEvidence } from '../../src/models/favor/object_answers.js';
import type { ClipStreams } from '../../src/models/favor/data.js';
import { Rng } from '../../src/util/rng.js';

/** `frames` frames of `size` px of uniform pixels in [0, 1] and log-mel in [-1, 1], seeded. */
export function randomClip(frames: number, seed: number, size = FRAME_SIZE): ClipStreams {
  const rng = new Rng(seed);
  const video = Float32Array.from({ length: frames * frameValues(size) }, () => rng.uniform());
  const audio = Float32Array.from({ length: frames * AUDIO_PER_FRAME * MEL_BANDS }, () => rng.uniform() * 2 - 1);
  return { frames, video, audio };
}

/**
 * A stage-1 run folder (config.json + best.safetensors) whose encoders hold `seed`'s initial values: what stage 2
 * loads with `model.encoders`.
 */
export function writeStageOneRun(dir: string, model: FavorConfig, seed: number): Record<string, HostArray> {
  const stage1 = { ...model, stage: 'encoders' as const, encoders: null, freezeEncoders: false };
  const store = new ParamStore(seed);
  const g = new Graph();
  encoderStageLoss(g, new Scope(g, store), stage1, 1, stage1.window);
  const weights = Object.fromEntries(store.names().map((n) => [n, store.get(n)]));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ task: 'favor', model: stage1 }));
  saveSafetensors(join(dir, 'best.safetensors'), weights);
  return weights;
}

/** The word vocabulary of AVQA clips up to 10 s (question times stop at 10). */
export const FAVOR_TEST_VOCAB = avqaTokenizer(avqaConfig({ maxDuration: 10 })).vocabSize;

/** A stage-2 run folder (config.json + best.safetensors) holding the model's initial weights for `seed`. */
export function writeStageTwoRun(dir: string, model: FavorConfig = { ...favorTiny(), window: 5 }, seed = 7): void {
  const store = new ParamStore(seed);
  const g = new Graph();
  favorInferenceGraph(g, new Scope(g, store), model, 1, 10, 8, FAVOR_TEST_VOCAB);
  saveSafetensors(join(dir, 'best.safetensors'), Object.fromEntries(store.names().map((n) => [n, store.get(n)])));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ task: 'favor', model, data: { avqa: { seed: 0, minDuration: 5, maxDuration: 10 } } }),
  );
}

/**
 * Two AdamW steps (lr 3e-3, parameters seeded 5) of the whole model's loss on one fixed batch of 2 clips (10 and 7
 * frames, text of 5 words over a vocabulary of 20), with random per-frame labels when `frameLabels`: the losses, the
 * parameter names, the loss's metric names and the trained store. `wordIds`: the count words' ids in that vocabulary (model.countWords).
 */
export async function twoTrainSteps(
  cm: FavorConfig,
  frameLabels = false,
  wordIds?: CountWordIds,
): Promise<{ first: number; second: number; names: string[]; metrics: string[]; store: ParamStore }> {
  const [lt, vocab] = [5, 20];
  const store = new ParamStore(5);
  let metrics: string[] = [];
  const compiled = compileTrainStep(
    (g, p) => {
      const x = avInputs(g, 2, 10);
      const text = g.input('text', 'int64', [2, lt]);
      const target = g.input('target', 'int64', [2, lt]);
      const mask = g.input('target_mask', 'float32', [2, lt]);
      const labels = frameLabels ? frameLabelInputs(g, 2, 10, { onsets: countsOnsets(cm) }) : undefined;
      const out = favorLoss(p, x, text, target, mask, vocab, cm, undefined, labels, wordIds);
      metrics = Object.keys(out.metrics);
      return out;
    },
    store,
    { optimizer: adamw({ weightDecay: 0 }) },
  );
  const trainer = await Trainer.create(compiled, { lr: 3e-3, worker: false, session: { threads: 1 } });
  const tokens = (k: number) => BigInt64Array.from({ length: 2 * lt }, (_, i) => BigInt((i * k) % vocab));
  const rng = new Rng(3);
  const labels = (classes: number, p: number) =>
    Float32Array.from({ length: 2 * 10 * classes }, () => +(rng.uniform() < p));
  const batch = {
    ...avBatch([randomClip(10, 1), randomClip(7, 2)], 10),
    text: hostArray('int64', [2, lt], tokens(7)),
    target: hostArray('int64', [2, lt], tokens(3)),
    target_mask: hostArray('float32', [2, lt], new Float32Array(2 * lt).fill(1)),
    ...(frameLabels
      ? {
          frame_visual: hostArray('float32', [2, 10, FRAME_VISUAL], labels(FRAME_VISUAL, 0.1)),
          frame_audio: hostArray('float32', [2, 10, FRAME_SOUNDS], labels(FRAME_SOUNDS, 0.3)),
          frame_audio_onsets: hostArray(
            'float32',
            [2, 10, FRAME_SOUNDS],
            labels(FRAME_SOUNDS, 0.3).map((x) => 2 * x),
          ),
        }
      : {}),
  };
  const first = (await trainer.trainStep(batch)).loss;
  const second = (await trainer.trainStep(batch)).loss;
  await trainer.close();
  return { first, second, names: store.names(), metrics, store };
}

/** The tiny stage 2 with the audio counter's count tokens in the LM's word space, the base of the copy-path tests. */
export const countedTiny = (over: Partial<FavorConfig> = {}): FavorConfig => ({
  ...favorTiny(),
  window: 5,
  queryAux: 1,
  countTokens: 'audio',
  countPeaks: 0.15,
  countWords: true,
  ...over,
});

/** The count, look and time words' ids in twoTrainSteps' vocabulary of 20 (they reuse ids; 0 is a shape). */
export const TRAIN_WORD_IDS: CountWordIds = {
  sounds: [1, 2, 3, 4],
  numbers: Array.from({ length: 13 }, (_, n) => 5 + n),
  looks: { colors: [6, 7, 8, 9, 10, 11, 12, 13, 14], shapes: [15, 16, 17, 18, 19, 0] },
  times: { ids: [9, 10], seconds: [1.5, 2] },
  yesNo: { yes: 11, no: 12 },
};

/**
 * The object paths' evidence as graph inputs for `b` rows of `f` frames, bound as the model binds it: hits [B, F, 54],
 * impacts [B, F, 4], mask [B, F], and the looks, sounds, sound positions and time the question names.
 */
export function evidenceInputs(g: Graph, b: number, f: number): ObjectEvidence {
  return {
    ...bindSounds(
      g.input('hits', 'float32', [b, f, FRAME_LOOKS]),
      g.input('impacts', 'float32', [b, f, FRAME_SOUNDS]),
      g.input('mask', 'float32', [b, f]),
    ),
    sounds: g.input('sounds', 'float32', [b, FRAME_SOUNDS]),
    looks: g.input('looks', 'float32', [b, FRAME_LOOKS]),
    soundAt: g.input('sound_at', 'float32', [b, FRAME_SOUNDS]),
    seconds: g.input('seconds', 'float32', [b, 1]),
    timed: g.input('timed', 'float32', [b, 1]),
  };
}

/** --set overrides of a short tiny favor run in a test: `steps` steps of batch 8 on one thread, no evaluation before
 * training, no worker, report or export; `avqa` the AVQA and data settings before them. */
export function shortRunOverrides(steps: number, avqa: string[]): string[] {
  return [
    ...avqa,
    'variant=tiny',
    `train.maxSteps=${steps}`,
    'train.batchSize=8',
    'train.evalBefore=false',
    'train.threads=1',
    'train.worker=false',
    'train.report=false',
    'train.export=false',
  ];
}

const STAGE_ONE_AVQA = avqaConfig({ minDuration: 5, maxDuration: 5 });

/**
 * One AdamW step (lr 1e-2, weight decay 0.01) of stage 1's loss for `model` on two random clips of 10 frames with
 * the labels of AVQA scenes 0 and 1 (5 s): the step, and every parameter before and after it.
 */
export async function stageOneStep(model: FavorConfig, store = new ParamStore(3)) {
  const compiled = compileTrainStep((g, p) => encoderStageLoss(g, p, model, 2, 10), store, {
    optimizer: adamw({ weightDecay: 0.01 }),
  });
  const trainer = await Trainer.create(compiled, { lr: 1e-2, worker: false, session: { threads: 1 } });
  const clip = (seed: number) => randomClip(10, seed, model.frameSize);
  const batch = {
    ...avBatch([clip(5), clip(6)], 10, model.frameSize),
    ...frameLabelBatch([frameLabels(STAGE_ONE_AVQA, 0), frameLabels(STAGE_ONE_AVQA, 1)], 10),
  };
  const before = await trainer.params();
  const step = await trainer.trainStep(batch);
  const after = await trainer.params();
  await trainer.close();
  return { step, before, after };
}
