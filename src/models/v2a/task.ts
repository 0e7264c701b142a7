/**
 * The v2a task (`attune train v2a --data synth:N`): flow matching on AV-Synth video-audio pairs jointly with
 * audio-caption pairs that have no video (round(N * textPairs) extra clips, train split only). Val and test hold
 * video clips only. Validation monitors the flow loss; the final test evaluation generates sound for held-out scenes
 * and scores it (evaluate.ts) beside the reference rows real audio, another scene's real audio and silence.
 */
import { z } from 'zod';
import { ConfigError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { defineTask, type LoadContext, type TaskData } from '../../train/task.js';
import type { Scope } from '../../engine/index.js';
import type { HostArray } from '../../io/array.js';
import { type AudioClassifier, audioFeatures, classify, trainClassifier } from './classifier.js';
import { GUIDANCE_FROM, type Sequence, sequence, V2A_VARIANTS, v2aSmall } from './config.js';
import { synthExample, type V2aExample } from './data.js';
import { evaluateV2a } from './final_eval.js';
import { trainBatch, v2aInference, v2aLoss } from './model.js';
import { pretrainVisual, type VisualPretraining } from './pretrain.js';
import { autoencoderStage, type TrainedAutoencoder } from './autoencoder.js';

export const V2aModelSchema = z
  .object({
    dim: z.number().int().positive(),
    heads: z.number().int().positive(),
    jointBlocks: z.number().int().min(1),
    audioBlocks: z.number().int().nonnegative(),
    mlpRatio: z.number().positive(),
    syncKernel: z.number().int().positive(),
    syncFeatures: z.boolean(),
    alignedRope: z.boolean(),
    /** Runs trained before the field existed used the linear encoder. */
    visualEncoder: z.enum(['linear', 'pixels', 'patches']).default('linear'),
    visualClassLoss: z.number().min(0).default(0),
    visualPretrainSteps: z.number().int().nonnegative().default(0),
    /** The flow's audio representation: normalized log-mel directly, or the 1-D autoencoder's codes over it. */
    audioLatent: z.enum(['mel', 'ae']).default('mel'),
    /** Training steps of the autoencoder (audioLatent "ae"), run in loadData before the flow. */
    autoencoderSteps: z.number().int().positive().default(1500),
  })
  .strict()
  .refine((m) => m.dim % m.heads === 0 && (m.dim / m.heads) % 2 === 0, {
    message: 'dim / heads must be an even integer (RoPE pairs)',
  });

export const V2aDataSchema = z
  .object({
    /** Clip length in seconds (training and evaluation; the network is traced for it). */
    seconds: z.number().min(0.5).max(30),
    /** AV-Synth seed of the scenes. */
    seed: z.number().int().nonnegative(),
    /** Audio-caption pairs without video, as a fraction of the video clips (0 = no joint audio-text training). */
    textPairs: z.number().min(0).max(10),
    /** Null-condition probability for video and for text (MMAudio 0.1). */
    conditionDropout: z.number().min(0).max(1),
    /** Extra text dropout on video clips (so generation from video alone is a trained condition). */
    videoTextDropout: z.number().min(0).max(1),
    /** Real clips the scoring classifier is trained on (from the train split). */
    classifierClips: z.number().int().min(8),
    eval: z
      .object({
        /** Test scenes generated at the final evaluation (0 = skip generation). */
        clips: z.number().int().nonnegative(),
        steps: z.number().int().positive(),
        cfg: z.number(),
        /** Guidance only for t >= this (sampler.ts; 0 = every step as MMAudio). */
        guidanceFrom: z.number().min(0).max(1).default(GUIDANCE_FROM),
        griffinLim: z.number().int().positive(),
        /** Also generate with CFG 1 and with 1/4/8 Euler steps (the ablation rows that need no retraining). */
        sweep: z.boolean(),
        /** Prompt the test scenes with their captions (default: video only). */
        text: z.boolean(),
        /** An av-align run (4 s window) for the IB-score analogue column (ib.ts); '' = no IB column. */
        ibModel: z.string().default(''),
        /** Independent draws of unseen scenes for FD's "another scene" floor (draw 0 is the reference row's). One
         * draw's FD varies with a std of 17-27 (session 6, pp60 test splits), so 20 draws (~0.5 s each) for a
         * mean within ~5. */
        floorDraws: z.number().int().min(1).default(20),
      })
      .strict(),
  })
  .strict();

/** Scene indices of the unseen scenes (clips come from 0 up): draw k holds OTHER_SCENES + k * stride + i. */
export const OTHER_SCENES = 1_000_000;
const OTHER_DRAW_STRIDE = 100_000;

export type V2aModelConfig = z.infer<typeof V2aModelSchema>;
export type V2aDataConfig = z.infer<typeof V2aDataSchema>;

export interface V2aTaskData extends TaskData {
  seq: Sequence;
  examples: V2aExample[];
  classifier: AudioClassifier;
  /** Real audio of scenes outside the dataset: the "another scene" reference row (draw 0 of the floor). */
  otherScenes: Float32Array[];
  /** The scoring classifier's logits of `data.eval.floorDraws` independent draws of such scenes: FD's floor. Logits,
   * not audio: 20 draws of 32 clips of 4 s would hold 160 MB of waves. */
  otherSceneLogits: Float64Array[][];
  /** The visual pretraining stage's weights (`visual.*`), which initialize the flow network's encoder. */
  visualInit: Record<string, HostArray> | null;
  /** The autoencoder whose codes the examples' latents are (audioLatent "ae"); null: latents are log-mel. */
  autoencoder: TrainedAutoencoder | null;
  cfg: V2aDataConfig;
}

async function loadV2aData(ctx: LoadContext<V2aDataConfig, V2aModelConfig>): Promise<V2aTaskData> {
  const d = ctx.data;
  if (ctx.source.kind !== 'synth')
    throw new ConfigError('v2a trains on AV-Synth only for now: pass --data synth:N', {
      field: 'data',
      got: ctx.source.kind,
    });
  const n = ctx.source.clips;
  if (n < 10) throw new ConfigError(`v2a needs at least 10 synth clips (got ${n})`, { field: 'data' });
  const melSeq = sequence(d.seconds);
  const pairs = Math.round(n * d.textPairs);
  const total = n + pairs;
  const examples: V2aExample[] = [];
  for (let i = 0; i < total; i++) {
    examples.push(synthExample(i, melSeq, d.seed, i < n));
    ctx.progress('AV-Synth clips', i + 1, total);
  }
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(`v2a/split/${ctx.seed}`);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const held = Math.max(2, Math.round(n * 0.1));
  const splits = {
    val: order.slice(0, held),
    test: order.slice(held, 2 * held),
    train: [...order.slice(2 * held), ...Array.from({ length: pairs }, (_, i) => n + i)],
  };
  const clfSet = splits.train.slice(0, d.classifierClips).map((i) => examples[i]);
  const classifier = trainClassifier(
    clfSet.map((e) => audioFeatures(e.audio)),
    clfSet.map((e) => e.classes),
    8,
  );
  const perDraw = Math.min(d.eval.clips, held);
  const otherAudio = (draw: number, i: number): Float32Array =>
    synthExample(OTHER_SCENES + draw * OTHER_DRAW_STRIDE + i, melSeq, d.seed, false).audio;
  const otherScenes = Array.from({ length: perDraw }, (_, i) => otherAudio(0, i));
  const otherSceneLogits = Array.from({ length: d.eval.floorDraws }, (_, draw) =>
    Array.from({ length: perDraw }, (_, i) =>
      classify(classifier, audioFeatures(draw === 0 ? otherScenes[i] : otherAudio(draw, i))),
    ),
  );
  const visual = await visualStage(ctx, examples, splits, melSeq);
  const ae =
    ctx.model.audioLatent === 'ae'
      ? await autoencoderStage(examples, splits, melSeq, ctx.model.autoencoderSteps, ctx.seed, (s) =>
          ctx.progress('autoencoder', s, ctx.model.autoencoderSteps),
        )
      : null;
  const seq = ae ? { ...melSeq, mels: ae.cfg.channels } : melSeq;
  const rates = { condition: d.conditionDropout, videoText: d.videoTextDropout };
  return {
    size: total,
    splits,
    seq,
    examples,
    classifier,
    otherScenes,
    otherSceneLogits,
    visualInit: visual?.weights ?? null,
    autoencoder: ae,
    cfg: d,
    batch: (indices, { split, rng: r }) =>
      trainBatch(
        indices.map((i) => examples[i]),
        seq,
        r,
        split === 'train' ? rates : { condition: 0, videoText: 0 },
      ),
    info: {
      videoClips: n,
      audioTextPairs: pairs,
      seconds: d.seconds,
      latentFrames: seq.latent,
      visualFrames: seq.visual,
      syncFrames: seq.sync,
      classifierTrainAcc: classifier.trainAccuracy,
      ...(ae ? { autoencoderValMse: ae.heldMse, autoencoderSeconds: ae.seconds } : {}),
      ...(visual ? { visualPretrainValAcc: visual.heldAccuracy, visualPretrainSeconds: visual.seconds } : {}),
    },
  };
}

/** The visual pretraining stage (model.visualPretrainSteps > 0) on the train split's video clips, scored on val. */
async function visualStage(
  ctx: LoadContext<V2aDataConfig, V2aModelConfig>,
  examples: V2aExample[],
  splits: { train: number[]; val: number[] },
  seq: Sequence,
): Promise<VisualPretraining | null> {
  const steps = ctx.model.visualPretrainSteps;
  if (steps === 0) return null;
  const train = splits.train.map((i) => examples[i]).filter((e) => e.frames);
  const done = (s: number) => ctx.progress('visual pretraining', s, steps);
  return pretrainVisual(
    train,
    splits.val.map((i) => examples[i]),
    ctx.model,
    seq,
    { steps, seed: ctx.seed, onStep: done },
  );
}

/** Starts the flow network's encoder (and class head, when its loss is on) from the pretraining stage. */
function loadVisualInit(p: Scope, data: V2aTaskData, cfg: V2aModelConfig): void {
  for (const [name, value] of Object.entries(data.visualInit ?? {}))
    if (!p.store.has(name) && (cfg.visualClassLoss > 0 || !name.startsWith('visual.class_head.')))
      p.store.set(name, value);
}

export const v2aTask = defineTask<V2aModelConfig, V2aDataConfig, V2aTaskData>({
  name: 'v2a',
  description: 'Sound for silent video: MMAudio-style flow matching on AV-Synth with joint audio-text training',
  modelSchema: V2aModelSchema,
  dataSchema: V2aDataSchema,
  defaults: {
    model: v2aSmall(),
    data: {
      seconds: 4,
      seed: 0,
      textPairs: 0.5,
      conditionDropout: 0.1,
      videoTextDropout: 0.5,
      classifierClips: 200,
      eval: {
        clips: 32,
        steps: 25,
        cfg: 4.5,
        guidanceFrom: GUIDANCE_FROM,
        griffinLim: 16,
        sweep: true,
        text: false,
        ibModel: '',
        floorDraws: 20,
      },
    },
    train: {
      batchSize: 8,
      evalBatchSize: 8,
      // 60 epochs of 400 clips = 3 900 steps (session 6's default; every score still followed the loss at 1 950)
      epochs: 60,
      lr: 1e-3,
      emaDecay: 0.995,
      warmupSteps: 100,
      weightDecay: 1e-6,
      clipNorm: 1,
      evalBefore: false,
      exportBatchSize: 2,
    },
  },
  variants: V2A_VARIANTS,
  monitor: { metric: 'loss', mode: 'min' },
  loadData: loadV2aData,
  buildLoss: (g, p, ctx) => {
    loadVisualInit(p, ctx.data, ctx.model);
    return v2aLoss(g, p, ctx.model, ctx.data.seq, ctx.batchSize);
  },
  buildInference: (g, p, ctx) => v2aInference(g, p, ctx.model, ctx.data.seq, ctx.batchSize),
  evaluate: evaluateV2a,
});
