/**
 * The visual pretraining stage of v2a (`model.visualPretrainSteps` > 0): before the flow trains, the visual encoder
 * and its class head learn the sounding classes from the 8 fps frames alone. MMAudio's frame tokens come from CLIP,
 * already pretrained on what is seen; here the encoder otherwise learns the class only through the flow loss (and
 * the auxiliary class loss), slowly, so the flow spends its first steps with tokens that do not yet name the timbre.
 *
 *   frames [B, Tv, P] -> visualTokens (the flow network's own encoder, same parameter names) -> mean over Tv
 *   -> class_head Linear -> BCE against the multi-hot sounding classes
 *
 * The weights (`visual.*`) then initialize the flow network's encoder (task.ts); nothing is frozen.
 */
import { compileTrainStep, Trainer } from '../../engine/train.js';
import { Predictor } from '../../engine/export.js';
import { adamw } from '../../engine/optim.js';
import { ParamStore } from '../../engine/params.js';
import { warmupCosine } from '../../engine/schedule.js';
import { constant, type Graph, type Scope, type Tensor } from '../../engine/index.js';
import { type HostArray, hostArray, toFloat32 } from '../../io/array.js';
import { predictInBatches } from '../../train/predict.js';
import { binaryCrossEntropyWithLogits, linear } from '../../nn/index.js';
import { Rng } from '../../util/rng.js';
import { classAccuracy } from './classifier.js';
import { PIXELS, type Sequence, type V2aConfig } from './config.js';
import type { V2aExample } from './data.js';
import { conditionFeeds } from './sampler.js';
import { visualTokens } from './conditions.js';
import { CLASSES, multiHot } from './model.js';

export interface VisualPretraining {
  /** The encoder's and the class head's weights, named as in the flow network (`visual.*`). */
  weights: Record<string, HostArray>;
  /** Top-k class accuracy of the head on the held-out clips (k = number of sounding classes, as the evaluation). */
  heldAccuracy: number;
  seconds: number;
}

export interface PretrainOptions {
  steps: number;
  batch?: number; // default 16
  lr?: number; // default 2e-3
  seed?: number; // default 0
  threads?: number;
  onStep?: (done: number) => void;
}

/** Class logits of the pooled frame tokens: the same head the flow's auxiliary class loss uses (model.ts). */
export function visualClassLogits(p: Scope, visual: Tensor, cfg: V2aConfig): Tensor {
  const b = visual.shape[0] as number;
  const keep = constant(visual.graph, new Array<number>(b).fill(0), 'float32', [b]); // [B] 0 = nothing dropped
  const tokens = visualTokens(p.scope('visual'), visual, keep, cfg); // [B, Tv, D]
  return linear(p.scope('visual.class_head'), tokens.mean([1]), CLASSES); // [B, C]
}

function visualFeeds(items: V2aExample[], seq: Sequence): Record<string, HostArray> {
  const none = items.map(() => 0);
  const conds = items.map((e) => ({ frames: e.frames, text: null }));
  return { visual: conditionFeeds(conds, seq, none, none).visual };
}

/** Trains the visual encoder and class head on `train` (video clips) and scores the head on `held`. */
export async function pretrainVisual(
  train: V2aExample[],
  held: V2aExample[],
  cfg: V2aConfig,
  seq: Sequence,
  opts: PretrainOptions,
): Promise<VisualPretraining> {
  const started = Date.now();
  const B = opts.batch ?? 16;
  const seed = opts.seed ?? 0;
  const store = new ParamStore(seed);
  const input = (g: Graph, b: number) => g.input('visual', 'float32', [b, seq.visual, PIXELS]);
  const compiled = compileTrainStep(
    (g, p) => {
      const classes = g.input('classes', 'float32', [B, CLASSES]); // multi-hot sounding classes
      return { loss: binaryCrossEntropyWithLogits(visualClassLogits(p, input(g, B), cfg), classes) };
    },
    store,
    { optimizer: adamw({ weightDecay: 1e-4 }), clipNorm: 1 },
  );
  const lr = warmupCosine({ lr: opts.lr ?? 2e-3, warmupSteps: Math.min(20, opts.steps), totalSteps: opts.steps });
  const session = opts.threads ? { threads: opts.threads } : undefined;
  const trainer = await Trainer.create(compiled, { lr, worker: false, seed, session });
  const rng = new Rng(`v2a/pretrain/${seed}`);
  try {
    for (let s = 0; s < opts.steps; s++) {
      const items = Array.from({ length: B }, () => train[rng.int(train.length)]);
      await trainer.trainStep({
        ...visualFeeds(items, seq),
        classes: hostArray('float32', [B, CLASSES], multiHot(items)),
      });
      opts.onStep?.(s + 1);
    }
    const weights = await trainer.params();
    return {
      weights,
      heldAccuracy: await heldAccuracy(weights, held, cfg, seq, session),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await trainer.close();
  }
}

export async function heldAccuracy(
  weights: Record<string, HostArray>,
  held: V2aExample[],
  cfg: V2aConfig,
  seq: Sequence,
  session: { threads: number } | undefined,
): Promise<number> {
  if (held.length === 0) return NaN;
  const store = new ParamStore(0);
  store.load(weights);
  const B = 8;
  const pred = await Predictor.create(
    (g, p) => ({ logits: visualClassLogits(p, g.input('visual', 'float32', [B, seq.visual, PIXELS]), cfg) }),
    store,
    { worker: false, session },
  );
  let logits: Float32Array;
  try {
    const { rows } = await predictInBatches(pred, held, B, (items) => visualFeeds(items, seq));
    logits = toFloat32(rows.logits); // [held, C]
  } finally {
    await pred.close();
  }
  return classAccuracy(
    held.map((_, i) => Float64Array.from(logits.subarray(i * CLASSES, (i + 1) * CLASSES))),
    held.map((e) => e.classes),
  );
}
