import { z } from 'zod';
import { concat, type Graph, type Scope, type Tensor } from '../../engine/index.js';
import { defineTask, type EvalContext, type LoadContext, type SplitName, type TaskData } from '../../train/task.js';
import type { HostArray } from '../../io/array.js';
import { similarityHeatmap } from '../../report/sections.js';
import { asMatrix } from '../../metrics/input.js';
import type { Section } from '../../report/spec.js';
import { ConfigError } from '../../util/errors.js';
import { featureStats, gatherBatch, manifestClipSet, synthClipSet, type AvClipSet, type FeatureStats } from './data.js';
import { defaultAvFeatures } from './features.js';
import {
  alignLabels,
  alignLogits,
  audioTarget,
  avAlignBase,
  avAlignSmall,
  avAlignTiny,
  predictAudioFeatures,
  dualEncode,
  rollBatch,
  type AvAlignConfig,
} from './model.js';
import {
  binaryCrossEntropyWithLogits,
  infoNce,
  multiScaleReconstructionLoss,
  temporalSmoothnessLoss,
  uniformityLoss,
} from '../../nn/losses.js';
import { SUITE_METRICS, alignmentSuite } from './metrics.js';
import { predictInBatches } from '../../train/predict.js';

/** The av-align task (and, with crossLayers 0 and no decoder loss, the basis of av-retrieval). */
export const AvAlignModelSchema = z
  .object({
    dim: z.number().int().positive(),
    heads: z.number().int().positive(),
    encoderLayers: z.number().int().nonnegative(),
    crossLayers: z.number().int().nonnegative(),
    embedDim: z.number().int().positive(),
    fusion: z.enum(['gated', 'bilinear']),
    convKernel: z
      .number()
      .int()
      .positive()
      .refine((k) => k % 2 === 1, 'must be odd'),
    loss: z
      .object({
        nce: z.number().nonnegative(),
        recon: z.number().nonnegative(),
        align: z.number().nonnegative(),
        smooth: z.number().nonnegative(),
        uniformity: z.number().nonnegative(),
      })
      .strict(),
  })
  .strict()
  .refine((m) => m.dim % m.heads === 0, { message: 'dim must be divisible by heads' });

export const AvDataSchema = z
  .object({
    /** AV-Synth settings for `--data synth:N` (duration, fps and sample rate follow `features`). */
    synth: z
      .object({
        seed: z.number().int().nonnegative(),
        classes: z.number().int().min(1).max(48),
        noise: z.number().nonnegative().max(0.5),
      })
      .strict(),
    features: z
      .object({
        rate: z.number().positive(),
        seconds: z.number().positive(),
        videoFps: z.number().positive(),
        videoSize: z.number().int().positive(),
        sampleRate: z
          .number()
          .int()
          .refine((v): boolean => v === 16000, 'only 16000 Hz is supported (the PANNs log-mel front end)'),
      })
      .strict(),
    /** synth only: the last valClips + testClips clips are val and test (the 100-clip retrieval test set). */
    valClips: z.number().int().nonnegative(),
    testClips: z.number().int().positive(),
  })
  .strict();

export type AvDataConfig = z.infer<typeof AvDataSchema>;

export interface AvTaskData extends TaskData {
  set: AvClipSet;
  stats: FeatureStats;
}

export const defaultAvData: AvDataConfig = {
  synth: { seed: 0, classes: 8, noise: 0.02 },
  features: defaultAvFeatures,
  valClips: 50,
  testClips: 100,
};

/** The synth splits: the last testClips clips are test, the valClips before them val (each at most a third). */
export function synthSplits(n: number, d: AvDataConfig): Record<SplitName, number[]> {
  const nTest = Math.min(d.testClips, Math.floor(n / 3));
  const nVal = Math.min(d.valClips, Math.floor((n - nTest) / 3));
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
  return { train: range(0, n - nVal - nTest), val: range(n - nVal - nTest, n - nTest), test: range(n - nTest, n) };
}

/** Loads clips (in-memory AV-Synth or a manifest of files), with train-split feature statistics. */
export async function loadAvData(ctx: LoadContext<AvDataConfig>): Promise<AvTaskData> {
  const d = ctx.data;
  let set: AvClipSet;
  let splits: Partial<Record<SplitName, number[]>> | undefined;
  if (ctx.source.kind === 'synth') {
    const n = ctx.source.clips;
    if (n < 6) throw new ConfigError(`av tasks need at least 6 synth clips (got ${n})`, { field: 'data' });
    set = await synthClipSet({
      indices: Array.from({ length: n }, (_, i) => i),
      synth: d.synth,
      features: d.features,
      cacheDir: ctx.cacheDir,
      progress: (done, total) => ctx.progress('AV-Synth features', done, total),
    });
    splits = synthSplits(n, d);
  } else {
    set = await manifestClipSet(ctx.source.items, d.features, { cacheDir: ctx.cacheDir, quiet: true });
    if (set.n < 6)
      throw new ConfigError(`only ${set.n} manifest items have usable video and audio (need 6)`, { field: 'data' });
  }
  const trainRows = splits?.train ?? Array.from({ length: set.n }, (_, i) => i);
  return {
    size: set.n,
    splits,
    set,
    stats: featureStats(set, trainRows),
    batch: (indices) => gatherBatch(set, indices),
    info: { frames: set.frames, videoDim: set.videoDim, audioDim: set.audioDim, clips: set.n },
  };
}

function inputs(g: Graph, data: AvTaskData, b: number): { video: Tensor; audio: Tensor } {
  return {
    video: g.input('video', 'float32', [b, data.set.frames, data.set.videoDim]),
    audio: g.input('audio', 'float32', [b, data.set.frames, data.set.audioDim]),
  };
}

/** The full av-align objective; returns the weighted loss and each term. */
export function avAlignLoss(
  g: Graph,
  p: Scope,
  c: AvAlignConfig,
  data: AvTaskData,
  b: number,
): { loss: Tensor; metrics: Record<string, Tensor> } {
  const { video, audio } = inputs(g, data, b);
  const { hv, ha, ev, ea } = dualEncode(p, video, audio, c, data.stats);
  const w = c.loss;
  const terms: Record<string, Tensor> = {
    nce: infoNce(p.scope('contrast'), ev, ea).loss,
    uniformity: uniformityLoss(ev).add(uniformityLoss(ea)).mul(0.5), // anti-collapse
  };
  if (w.recon > 0)
    terms.recon = multiScaleReconstructionLoss(
      predictAudioFeatures(p.scope('decoder'), hv, data.set.audioDim, c),
      audioTarget(p, audio),
    );
  if (c.crossLayers > 0 && (w.align > 0 || w.smooth > 0)) {
    // true pairs, then every video with another clip's audio: per-frame in-sync labels 1 and 0
    const logits = alignLogits(p.scope('align'), concat([hv, hv], 0), concat([ha, rollBatch(ha)], 0), c); // [2B, T]
    terms.align = binaryCrossEntropyWithLogits(logits, alignLabels(g, b, data.set.frames));
    terms.smooth = temporalSmoothnessLoss(logits.slice([0], [b], [0]).sigmoid(), { first: 1, second: 1 });
  }
  let loss: Tensor | null = null;
  for (const [name, t] of Object.entries(terms)) {
    const weight = w[name as keyof typeof w];
    if (!weight) continue;
    loss = loss ? loss.add(t.mul(weight)) : t.mul(weight);
  }
  return { loss: loss!, metrics: terms };
}

/** Inference: embeddings, the decoder's prediction and target, alignment scores for true and mismatched pairs. */
export function avAlignInference(
  g: Graph,
  p: Scope,
  c: AvAlignConfig,
  data: AvTaskData,
  b: number,
): Record<string, Tensor> {
  const { video, audio } = inputs(g, data, b);
  const { hv, ha, ev, ea } = dualEncode(p, video, audio, c, data.stats);
  const out: Record<string, Tensor> = { video_embedding: ev, audio_embedding: ea };
  if (c.loss.recon > 0) {
    out.audio_pred = predictAudioFeatures(p.scope('decoder'), hv, data.set.audioDim, c);
    out.audio_target = audioTarget(p, audio);
  }
  if (c.crossLayers > 0 && b > 1) {
    const s = alignLogits(p.scope('align'), concat([hv, hv], 0), concat([ha, rollBatch(ha)], 0), c).sigmoid(); // [2B, T]
    out.align_pos = s.slice([0], [b], [0]);
    out.align_neg = s.slice([b], [2 * b], [0]);
  }
  return out;
}

/** Video x audio clip-embedding similarities (first 32 clips), for reports. */
export function embeddingSimilaritySection(o: Record<string, HostArray>): Section {
  return similarityHeatmap(asMatrix(o.video_embedding, 'video'), asMatrix(o.audio_embedding, 'audio'), {
    limit: 32,
    rowName: 'video clip',
    colName: 'audio clip',
  });
}

/** Report sections for the final evaluation: the metric-suite table and the similarity matrix of the first clips. */
export function suiteSections(metrics: Record<string, number>, o: Record<string, HostArray>): Section[] {
  return [
    {
      kind: 'table',
      title: 'Alignment metric suite',
      columns: ['metric', 'value', 'better'],
      rows: SUITE_METRICS.filter((m) => m.key in metrics).map((m) => [m.label, metrics[m.key], m.better]),
    },
    embeddingSimilaritySection(o),
  ];
}

/** Runs the evaluation predictor over a whole split (predictInBatches: padded batches of the split's examples, its rng). */
export async function predictSplit(ctx: EvalContext<AvAlignConfig, AvTaskData>): Promise<Record<string, HostArray>> {
  return (
    await predictInBatches(ctx.predictor, ctx.indices, ctx.batchSize, (indices) =>
      ctx.data.batch(indices, { split: ctx.split, rng: ctx.rng }),
    )
  ).rows;
}

export const avAlignTask = defineTask<AvAlignConfig, AvDataConfig, AvTaskData>({
  name: 'av-align',
  description:
    'design source 000 audio-visual alignment: encoders, cross-modal transformer, fusion, audio-feature decoder, alignment head, contrastive embeddings',
  modelSchema: AvAlignModelSchema,
  dataSchema: AvDataSchema,
  defaults: {
    model: avAlignSmall(),
    data: defaultAvData,
    train: { batchSize: 32, lr: 2e-3, warmupSteps: 30, epochs: 40, evalBefore: true },
  },
  variants: { tiny: avAlignTiny, small: avAlignSmall, base: avAlignBase },
  monitor: { metric: 'a2v_R@1', mode: 'max' },
  loadData: loadAvData,
  buildLoss: (g, p, ctx) => avAlignLoss(g, p, ctx.model, ctx.data, ctx.batchSize),
  buildInference: (g, p, ctx) => avAlignInference(g, p, ctx.model, ctx.data, ctx.batchSize),
  async evaluate(ctx) {
    const o = await predictSplit(ctx);
    const metrics = await alignmentSuite(o);
    return { metrics, sections: ctx.final ? suiteSections(metrics, o) : undefined };
  },
});
