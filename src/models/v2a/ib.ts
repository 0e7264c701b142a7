/**
 * The IB-score analogue of the v2a evaluation: av-benchmark's ImageBind score is the cosine between the video's and
 * the generated audio's embeddings in a joint space. Here the joint space is an av-align dual encoder trained on
 * AV-Synth (`attune train av-align --data synth:N --set data.features.seconds=4 --set data.features.videoFps=25
 * --set data.synth.seed=1`: the v2a clip length, the v2a frame rate, scenes disjoint from v2a's seed-0 scenes).
 *
 *   frames [Ts, 24*24*3] @ 25 fps --videoFeatures (8 x 8 pixels, moments, motion) on the 8 Hz grid--> [T, 218]
 *   wave [N] @ 16 kHz --------------audioFeatures (PANNs log-mel + flux) on the 8 Hz grid------------> [T, 65]
 *   -> av-align video / audio encoders -> per-frame projections, flattened, L2-normalized -> e_v, e_a [T*E]
 *   ib = e_v . e_a (cosine; the embeddings keep WHEN things happen, so a track offset in time scores lower)
 */
import { Predictor } from '../../engine/export.js';
import { ParamStore } from '../../engine/params.js';
import { hostArray, toFloat32 } from '../../io/array.js';
import { loadRun } from '../../train/files.js';
import { predictInBatches } from '../../train/predict.js';
import { ConfigError, InputError } from '../../util/errors.js';
import {
  type AvFeatureConfig,
  audioFeatures,
  AUDIO_FEATURE_DIM,
  gridFrames,
  VIDEO_FEATURE_DIM,
  videoFeatures,
} from '../av_align/features.js';
import { dualEncode } from '../av_align/model.js';
import { AvAlignModelSchema, AvDataSchema } from '../av_align/task.js';
import { FRAME_SIZE, PIXELS, SYNC_FPS } from './config.js';

export interface IbScorer {
  /** Cosine of the picture's and each wave's embedding, one per (frames, wave) pair. */
  score(frames: Uint8Array[], waves: Float32Array[]): Promise<number[]>;
  close(): Promise<void>;
}

const BATCH = 8;

/** Loads an av-align run as the IB scorer for `seconds`-long v2a clips (its feature window must match). */
export async function loadIbScorer(path: string, seconds: number): Promise<IbScorer> {
  const run = loadRun(path, { tasks: ['av-align', 'av-retrieval'], flag: 'data.eval.ibModel' });
  const model = AvAlignModelSchema.safeParse(run.config.model);
  const data = AvDataSchema.safeParse(run.config.data);
  if (!model.success || !data.success)
    throw new InputError(`${run.dir}/config.json: not an av-align config`, { file: run.dir, field: 'model' });
  const features: AvFeatureConfig = data.data.features;
  if (Math.abs(features.seconds - seconds) > 1e-9)
    throw new ConfigError(
      `data.eval.ibModel ${path}: its window is ${features.seconds} s, the v2a clips are ${seconds} s (train av-align with --set data.features.seconds=${seconds})`,
      { field: 'data.eval.ibModel', got: features.seconds, expected: seconds },
    );
  const T = gridFrames(features);
  const store = new ParamStore(0);
  store.load(run.params);
  const predictor = await Predictor.create(
    (g, p) => {
      const video = g.input('video', 'float32', [BATCH, T, VIDEO_FEATURE_DIM]);
      const audio = g.input('audio', 'float32', [BATCH, T, AUDIO_FEATURE_DIM]);
      const { ev, ea } = dualEncode(p, video, audio, model.data); // [B, T*E] each, unit norm
      return { cosine: ev.mul(ea).sum([1]) }; // [B]
    },
    store,
    { worker: false },
  );
  return {
    async score(frames, waves) {
      if (frames.length !== waves.length)
        throw new InputError(`IB score: ${frames.length} videos for ${waves.length} waves`, { field: 'waves' });
      // Features once per pair; predictInBatches pads the last batch by repeating its last pair.
      const pairs = frames.map((f, k) => ({
        video: videoFeatures(f, f.length / PIXELS, FRAME_SIZE, FRAME_SIZE, SYNC_FPS, features).data,
        audio: audioFeatures(waves[k], features).data,
      }));
      const stackOf = (batch: typeof pairs, key: 'video' | 'audio', dim: number) => {
        const x = new Float32Array(BATCH * T * dim);
        batch.forEach((pair, i) => x.set(pair[key], i * T * dim));
        return hostArray('float32', [BATCH, T, dim], x);
      };
      const { rows } = await predictInBatches(predictor, pairs, BATCH, (batch) => ({
        video: stackOf(batch, 'video', VIDEO_FEATURE_DIM),
        audio: stackOf(batch, 'audio', AUDIO_FEATURE_DIM),
      }));
      return Array.from(toFloat32(rows.cosine));
    },
    close: () => predictor.close(),
  };
}
