/**
 * Shared fixtures of the FAVOR tests (and of test/real's): random clips in the layout the model reads, a stage-1 run
 * folder, a stage-2 run folder with initial weights.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Graph, ParamStore, Scope } from '../../src/engine/index.js';
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
import { encoderStageLoss } from '../../src/models/favor/pretrain.js';
import { favorInferenceGraph } from '../../src/models/favor/task.js';
import { avqaConfig, avqaTokenizer } from '../../src/data/avqa/index.js';
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
