/**
 * What a trained av-align learned, for reports: clip embeddings, per-frame alignment scores and the
 * cross-modal attention weights of TRUE pairs. A separate inference graph over the same parameter names,
 * so the training graph, the task's inference graph and every trained number stay as they are.
 */

import type { Graph, Scope, Tensor } from '../../engine/index.js';
import { ParamStore } from '../../engine/params.js';
import { Predictor } from '../../engine/export.js';
import type { HostArray } from '../../io/array.js';
import { InputError } from '../../util/errors.js';
import { loadRun } from '../../train/files.js';
import { gatherBatch, type AvClipSet } from './data.js';
import { AUDIO_FEATURE_DIM, VIDEO_FEATURE_DIM, type AvFeatureConfig } from './features.js';
import { alignForward, dualEncode, type AvAlignConfig } from './model.js';

/**
 * video [B, T, Dv], audio [B, T, Da] -> video_embedding / audio_embedding [B, T*E]; with cross-modal layers also
 * align_score [B, T] and attention_audio_to_video / attention_video_to_audio [B, H, T, T] of the last layer.
 * The input statistics are the frozen parameters in the weights, so no FeatureStats are needed.
 */
export function avAlignInspection(
  g: Graph,
  p: Scope,
  c: AvAlignConfig,
  frames: number,
  b: number,
): Record<string, Tensor> {
  const video = g.input('video', 'float32', [b, frames, VIDEO_FEATURE_DIM]);
  const audio = g.input('audio', 'float32', [b, frames, AUDIO_FEATURE_DIM]);
  const { hv, ha, ev, ea } = dualEncode(p, video, audio, c);
  const out: Record<string, Tensor> = { video_embedding: ev, audio_embedding: ea };
  if (c.crossLayers > 0) {
    const a = alignForward(p.scope('align'), hv, ha, c);
    out.align_score = a.logits.sigmoid();
    out.attention_audio_to_video = a.audioToVideo[c.crossLayers - 1];
    out.attention_video_to_audio = a.videoToAudio[c.crossLayers - 1];
  }
  return out;
}

export interface AvAlignInspectionResult {
  model: AvAlignConfig;
  /** the run's feature grid rate (Hz): frame t covers [t / rate, (t + 1) / rate) s */
  rate: number;
  /** the clip set rows inspected, in output order */
  rows: number[];
  /** avAlignInspection's outputs for those rows (attention_* absent for a model without cross-modal layers) */
  outputs: Record<string, HostArray>;
}

/** Runs avAlignInspection with a run folder's weights (best, else last) on `rows` of a clip set, in one batch. */
export async function inspectAvAlign(runDir: string, set: AvClipSet, rows: number[]): Promise<AvAlignInspectionResult> {
  const run = loadRun(runDir, { tasks: ['av-align'], flag: 'attention maps from' });
  const model = run.config.model as AvAlignConfig;
  const features = run.config.data?.features as AvFeatureConfig;
  if (!rows.length) throw new InputError('inspectAvAlign: no clips given', { field: 'rows' });
  const frames = Math.round(features.rate * features.seconds);
  if (frames !== set.frames)
    throw new InputError(`${runDir}: the model's grid has ${frames} frames, the clips ${set.frames}`, {
      file: run.dir,
      field: 'features',
    });
  const store = new ParamStore(0);
  store.load(run.params);
  const predictor = await Predictor.create((g, p) => avAlignInspection(g, p, model, frames, rows.length), store, {
    worker: false,
  });
  try {
    return { model, rate: features.rate, rows, outputs: await predictor.run(gatherBatch(set, rows)) };
  } finally {
    await predictor.close();
  }
}
