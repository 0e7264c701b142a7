/**
 * v2a's traced graphs: the flow-matching training loss and the inference graph (velocity), plus the training batch.
 *
 *   loss:      x0 [B, Ta, M] noise, x1 [B, Ta, M] latent, t [B] -> x_t = (1 - t) x0 + t x1 -> v2aFlow -> mean (v - (x1 - x0))^2
 *   + visualClassLoss * BCE(Linear(mean_t frame tokens), sounding classes) on clips whose video is kept (optional:
 *     MMAudio's CLIP tokens already name what is seen; AV-Synth's tokens learn it from this objective)
 *   inference: x_t [B, Ta, M], t [B], conditions -> velocity [B, Ta, M]
 *   batch:     t ~ sigmoid(N(0, 1)) (logit-normal), x0 ~ N(0, I); video dropped with p (always for audio-text pairs),
 *              text dropped with p, independently (MMAudio's null_condition_probability 0.1)
 */
import type { Graph, Scope, Tensor } from '../../engine/index.js';
import { type HostArray, hostArray } from '../../io/array.js';
import {
  binaryCrossEntropyWithLogits,
  flowInterpolate,
  flowMatchingLoss,
  linear,
  sampleLogitNormal,
} from '../../nn/index.js';
import type { Rng } from '../../util/rng.js';
import { PIXELS, type Sequence, type V2aConfig } from './config.js';
import type { V2aExample } from './data.js';

/** AV-Synth classes of the v2a data (data.ts renders 8). */
export const CLASSES = 8;
import { declareConditions, declareInputs, v2aFlow } from './network.js';
import { conditionFeeds } from './sampler.js';

export function v2aLoss(g: Graph, p: Scope, cfg: V2aConfig, seq: Sequence, batch: number): { loss: Tensor } {
  const x0 = g.input('x0', 'float32', [batch, seq.latent, seq.mels]);
  const x1 = g.input('x1', 'float32', [batch, seq.latent, seq.mels]);
  const conds = declareConditions(g, batch, seq, PIXELS);
  const classes = g.input('classes', 'float32', [batch, CLASSES]); // multi-hot sounding classes
  const { velocity, visual } = v2aFlow(p, { ...conds, xt: flowInterpolate(x0, x1, conds.t) }, cfg, seq); // [B, Ta, M]
  const flow = flowMatchingLoss(velocity, x0, x1);
  if (!(cfg.visualClassLoss > 0)) return { loss: flow.add(classes.mul(0).sum()) }; // classes unused
  const logits = linear(p.scope('visual.class_head'), visual.mean([1]), CLASSES); // [B, C]
  const kept = conds.dropVideo.mul(-1).add(1).unsqueeze([1]).mul(classes.mul(0).add(1)); // [B, C] 1 = video kept
  return { loss: flow.add(binaryCrossEntropyWithLogits(logits, classes, kept).mul(cfg.visualClassLoss)) };
}

export function v2aInference(g: Graph, p: Scope, cfg: V2aConfig, seq: Sequence, batch: number): { velocity: Tensor } {
  return { velocity: v2aFlow(p, declareInputs(g, batch, seq, PIXELS), cfg, seq).velocity };
}

export interface DropoutRates {
  /** Null-condition probability for video and for text (MMAudio: 0.1 each). */
  condition: number;
  /** Extra text dropout on video clips, so video without a prompt is a trained condition too. */
  videoText: number;
}

/** A training batch: noise, latents, logit-normal t, conditions with random drops. */
export function trainBatch(
  items: V2aExample[],
  seq: Sequence,
  rng: Rng,
  rates: DropoutRates,
): Record<string, HostArray> {
  const B = items.length;
  const size = seq.latent * seq.mels;
  const x0 = new Float32Array(B * size),
    x1 = new Float32Array(B * size);
  items.forEach((e, b) => {
    x1.set(e.latent, b * size);
    for (let i = 0; i < size; i++) x0[b * size + i] = rng.normal();
  });
  const dropVideo = items.map((e) => (!e.frames || rng.uniform() < rates.condition ? 1 : 0));
  const dropText = items.map((e) =>
    rng.uniform() < rates.condition || (e.frames && rng.uniform() < rates.videoText) ? 1 : 0,
  );
  const conds = conditionFeeds(
    items.map((e) => ({ frames: e.frames, text: e.text, textValid: e.textValid })),
    seq,
    dropVideo,
    dropText,
  );
  return {
    ...conds,
    x0: hostArray('float32', [B, seq.latent, seq.mels], x0),
    x1: hostArray('float32', [B, seq.latent, seq.mels], x1),
    t: hostArray('float32', [B], sampleLogitNormal(rng, B)),
    classes: hostArray('float32', [B, CLASSES], multiHot(items)),
  };
}

export function multiHot(items: V2aExample[]): Float32Array {
  const out = new Float32Array(items.length * CLASSES);
  items.forEach((e, b) => e.classes.forEach((c) => (out[b * CLASSES + c] = 1)));
  return out;
}
