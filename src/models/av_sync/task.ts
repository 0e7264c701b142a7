import { z } from 'zod';
import type { Graph, Scope, Tensor } from '../../engine/index.js';
import { toFloat32 } from '../../io/array.js';
import type { Section } from '../../report/spec.js';
import { confusionHeatmap, offsetHistogramSection } from '../../report/sections.js';
import { mean } from '../../metrics/input.js';
import { binaryCrossEntropyWithLogits } from '../../nn/losses.js';
import { predictInBatches, type BatchRunner } from '../../train/predict.js';
import { defineTask, type EvalContext, type LoadContext, type TaskData } from '../../train/task.js';
import { ConfigError } from '../../util/errors.js';
import {
  evalExamples,
  makeBatch,
  manifestSyncSet,
  randomExample,
  synthSyncSet,
  syncSynthConfig,
  type SyncExampleSpec,
} from './data.js';
import { withRealDevClips } from './real_train.js';
import { AUDIO_DIM, SYNC_RATE, VIDEO_DIM, type SyncFeatures } from './features.js';
import { avSync, avSyncBase, avSyncSmall, avSyncTiny, type AvSyncConfig } from './model.js';
import { SYNC_CLASSES, SYNC_GRID, argmaxOf, expectedCalibrationError, fitTemperature, softmaxOf } from './result.js';

/** The av-sync task: self-supervised offset classification (random grid shifts of in-sync clips) + synchronizability. */
export const AvSyncModelSchema = z
  .object({
    dim: z.number().int().positive(),
    heads: z.number().int().positive(),
    layers: z.number().int().nonnegative(),
    kernel: z.number().int().positive(),
    lagChannels: z.number().int().positive(),
    syncHidden: z.number().int().positive(),
    changeCurves: z.boolean().optional(),
    /** Weight of the synchronizability BCE next to the offset cross-entropy. */
    syncLoss: z.number().nonnegative(),
  })
  .strict()
  .refine((m) => m.dim % m.heads === 0, { message: 'dim must be divisible by heads' });

export type AvSyncModelConfig = z.infer<typeof AvSyncModelSchema>;

export const AvSyncDataSchema = z
  .object({
    /** AV-Synth settings for `--data synth:N` (rendered at 25 fps, 16 kHz). */
    synth: z
      .object({
        seed: z.number().int().nonnegative(),
        seconds: z.number().positive(),
        size: z.number().int().min(32),
        classes: z.number().int().min(1).max(48),
        noise: z.number().nonnegative().max(0.5),
      })
      .strict(),
    /** Window in seconds (4.8 s = 120 frames at 25 Hz, Synchformer / DeSync's window). */
    window: z.number().min(1).max(30),
    /** Fraction of training examples that are cue-removed negatives (still picture, silence, other clip's audio). */
    negatives: z.number().min(0).max(0.9),
    /** Real development clips added to the train split of a synth run (real_train.ts), each `repeat` times. */
    real: z
      .object({
        repeat: z.number().int().min(1).max(64),
        /** Cross-fitting: leave out the dev clips of fold `fold` of `folds` (real_train.ts realFold). */
        folds: z.number().int().min(2).max(10).optional(),
        fold: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    /** Offsets evaluated per clip (val, test). */
    valOffsets: z.number().int().min(1).max(SYNC_CLASSES),
    testOffsets: z.number().int().min(1).max(SYNC_CLASSES),
  })
  .strict();

export type AvSyncDataConfig = z.infer<typeof AvSyncDataSchema>;

export interface AvSyncTaskData extends TaskData {
  clips: SyncFeatures[];
  /** Window in frames at 25 Hz. */
  window: number;
  valOffsets: number;
  testOffsets: number;
}

export const defaultSyncData: AvSyncDataConfig = {
  synth: { seed: 7, seconds: 9, size: 64, classes: 8, noise: 0.02 },
  window: 4.8,
  negatives: 0.25,
  valOffsets: 7,
  testOffsets: 21,
};

async function loadSyncData(ctx: LoadContext<AvSyncDataConfig>): Promise<AvSyncTaskData> {
  const d = ctx.data;
  const window = Math.round(d.window * SYNC_RATE);
  let clips: SyncFeatures[];
  let splits: TaskData['splits'];
  if (ctx.source.kind === 'synth') {
    const n = ctx.source.clips;
    if (n < 6) throw new ConfigError(`av-sync needs at least 6 synth clips (got ${n})`, { field: 'data' });
    clips = await synthSyncSet(
      syncSynthConfig(d.synth),
      Array.from({ length: n }, (_, i) => i),
      {
        cacheDir: ctx.cacheDir,
        progress: (done, total) => ctx.progress('AV-Synth sync features', done, total),
      },
    );
    if (d.real) {
      const opts = { ...d.real, seed: ctx.seed, minFrames: window, cacheDir: ctx.cacheDir };
      ({ clips, splits } = await withRealDevClips(clips, opts));
    }
  } else {
    const r = await manifestSyncSet(ctx.source.items, { cacheDir: ctx.cacheDir, quiet: true, minFrames: window });
    clips = r.clips;
    if (clips.length < 6)
      throw new ConfigError(`only ${clips.length} manifest videos have sound and at least ${d.window} s (need 6)`, {
        field: 'data',
        failed: r.failed.map((f) => f.error),
      });
  }
  const data: AvSyncTaskData = {
    size: clips.length,
    ...(splits ? { splits } : {}),
    clips,
    window,
    valOffsets: d.valOffsets,
    testOffsets: d.testOffsets,
    batch: (indices, { split, rng }) => {
      const pool = indices;
      const negatives = split === 'train' ? d.negatives : 0.25;
      return makeBatch(
        clips,
        indices.map((i) => randomExample(clips, i, window, negatives, rng, pool)),
        window,
      );
    },
    info: { clips: clips.length, window, rate: 25, audioDim: AUDIO_DIM, videoDim: VIDEO_DIM, classes: SYNC_CLASSES },
  };
  return data;
}

function graphInputs(g: Graph, b: number, w: number): { audio: Tensor; video: Tensor; mask: Tensor } {
  return {
    audio: g.input('audio', 'float32', [b, w, AUDIO_DIM]),
    video: g.input('video', 'float32', [b, w, VIDEO_DIM]),
    mask: g.input('mask', 'float32', [b, w]),
  };
}

export function avSyncLoss(
  g: Graph,
  p: Scope,
  m: AvSyncModelConfig,
  b: number,
  window: number,
): { loss: Tensor; metrics: Record<string, Tensor> } {
  const { audio, video, mask } = graphInputs(g, b, window);
  const label = g.input('label', 'int64', [b]);
  const weight = g.input('weight', 'float32', [b]);
  const sync = g.input('sync', 'float32', [b]);
  const out = avSync(p, audio, video, mask, m);
  const ce = out.logits.crossEntropy(label, 'none').mul(weight).sum().div(weight.sum().maximum(1)); // offsets only
  const bce = binaryCrossEntropyWithLogits(out.syncLogit, sync);
  return { loss: ce.add(bce.mul(m.syncLoss)), metrics: { offset_ce: ce, sync_bce: bce } };
}

export function avSyncInference(
  g: Graph,
  p: Scope,
  m: AvSyncConfig,
  b: number,
  window: number,
): Record<string, Tensor> {
  const { audio, video, mask } = graphInputs(g, b, window);
  const out = avSync(p, audio, video, mask, m);
  return { logits: out.logits, sync_logit: out.syncLogit };
}

/** Offset logits and sync probabilities of examples, through predictInBatches (padded fixed-size batches). */
export async function predictExamples(
  predictor: BatchRunner,
  clips: SyncFeatures[],
  examples: SyncExampleSpec[],
  batchSize: number,
  window: number,
): Promise<{ logits: number[][]; sync: number[] }> {
  const { rows } = await predictInBatches(predictor, examples, batchSize, (part) => {
    const { audio, video, mask } = makeBatch(clips, part, window);
    return { audio, video, mask };
  });
  if (!examples.length) return { logits: [], sync: [] };
  const l = toFloat32(rows.logits);
  const z = toFloat32(rows.sync_logit);
  return {
    logits: examples.map((_, i) => Array.from(l.subarray(i * SYNC_CLASSES, (i + 1) * SYNC_CLASSES))),
    sync: examples.map((_, i) => 1 / (1 + Math.exp(-z[i]))),
  };
}

/** Area under the ROC curve of scores for positives vs negatives (ties count half). */
export function rocAuc(pos: number[], neg: number[]): number {
  if (!pos.length || !neg.length) return NaN;
  let wins = 0;
  for (const a of pos) for (const b of neg) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

async function evaluateSync(
  ctx: EvalContext<AvSyncModelConfig, AvSyncTaskData>,
): Promise<{ metrics: Record<string, number>; sections?: Section[] }> {
  const { data, split } = ctx;
  const W = data.window;
  const examples = evalExamples(
    data.clips,
    ctx.indices,
    W,
    split === 'test' ? data.testOffsets : data.valOffsets,
    true,
  );
  const r = await predictExamples(ctx.predictor, data.clips, examples, ctx.batchSize, W);
  // Temperature scaling: fitted on the val split's offset windows (from the context, whatever ran before), and
  // on the split itself when it is val. The untrained model's 'before' evaluation has no val indices: T = 1.
  let temperature = 1;
  const calib = split === 'val' ? null : ctx.valIndices;
  if (calib) {
    const vex = evalExamples(data.clips, [...calib], W, data.valOffsets, false);
    const v = await predictExamples(ctx.predictor, data.clips, vex, ctx.batchSize, W);
    temperature = fitTemperature(
      v.logits,
      vex.map((e) => e.label),
    );
  } else if (split === 'val') {
    const pos = examples.map((e, i) => ({ e, i })).filter(({ e }) => e.kind === 'offset');
    temperature = fitTemperature(
      pos.map(({ i }) => r.logits[i]),
      pos.map(({ e }) => e.label),
    );
  }
  const m = scoreExamples(examples, r, temperature);
  const sections: Section[] | undefined = ctx.final
    ? [perOffsetTable(examples, r), ...offsetSections(examples, r)]
    : undefined;
  return { metrics: { ...m, temperature }, sections };
}

/** Offset accuracy, calibration and synchronizability separation for evaluated examples. */
export function scoreExamples(
  examples: SyncExampleSpec[],
  r: { logits: number[][]; sync: number[] },
  temperature: number,
): Record<string, number> {
  let exact = 0,
    near = 0,
    n = 0,
    absErr = 0;
  const conf: number[] = [];
  const rawConf: number[] = [];
  const correct: boolean[] = [];
  const pos: number[] = [];
  const neg: number[] = [];
  examples.forEach((e, i) => {
    if (e.kind !== 'offset') {
      neg.push(r.sync[i]);
      return;
    }
    pos.push(r.sync[i]);
    const k = argmaxOf(r.logits[i]);
    n++;
    if (k === e.label) exact++;
    if (Math.abs(k - e.label) <= 1) near++;
    absErr += Math.abs(SYNC_GRID[k] - SYNC_GRID[e.label]);
    conf.push(softmaxOf(r.logits[i], temperature)[k]);
    rawConf.push(softmaxOf(r.logits[i])[k]);
    correct.push(k === e.label);
  });
  return {
    acc1: exact / Math.max(1, n),
    acc_within1: near / Math.max(1, n),
    mae_s: absErr / Math.max(1, n),
    ece: expectedCalibrationError(conf, correct),
    ece_raw: expectedCalibrationError(rawConf, correct),
    sync_auc: rocAuc(pos, neg),
    sync_pos: mean(pos),
    sync_neg: mean(neg),
  };
}

function perOffsetTable(examples: SyncExampleSpec[], r: { logits: number[][] }): Section {
  const rows = SYNC_GRID.map((offset, c) => {
    const idx = examples.map((e, i) => ({ e, i })).filter(({ e }) => e.kind === 'offset' && e.label === c);
    const ok = idx.filter(({ i }) => argmaxOf(r.logits[i]) === c).length;
    const near = idx.filter(({ i }) => Math.abs(argmaxOf(r.logits[i]) - c) <= 1).length;
    return [
      `${offset > 0 ? '+' : ''}${offset.toFixed(1)}`,
      idx.length,
      idx.length ? ok / idx.length : null,
      idx.length ? near / idx.length : null,
    ];
  });
  return {
    kind: 'table',
    title: 'av-sync accuracy per true offset (s; positive = audio late)',
    columns: ['offset', 'windows', 'acc@1', 'acc within 1'],
    rows,
    digits: 3,
  };
}

/**
 * What the offset head got wrong, on the offset (in-sync cue) windows: a histogram of predicted minus true offset on
 * a grid twice as wide as the classes (so misses up to 4 s keep their size) and the 21 x 21 confusion matrix.
 */
export function offsetSections(examples: SyncExampleSpec[], r: { logits: number[][] }): Section[] {
  const confusion = SYNC_GRID.map(() => new Array<number>(SYNC_CLASSES).fill(0));
  const errors: number[] = [];
  examples.forEach((e, i) => {
    if (e.kind !== 'offset') return;
    const k = argmaxOf(r.logits[i]);
    confusion[e.label][k]++;
    errors.push(SYNC_GRID[k] - SYNC_GRID[e.label]);
  });
  const step = SYNC_GRID[1] - SYNC_GRID[0];
  const span = SYNC_GRID[SYNC_CLASSES - 1] - SYNC_GRID[0];
  const errorGrid = { min: -span, max: span, classes: Math.round((2 * span) / step) + 1 };
  const labels = SYNC_GRID.map((o) => `${o > 0 ? '+' : ''}${o.toFixed(1)} s`);
  return [
    {
      ...offsetHistogramSection(
        errors,
        errorGrid,
        `av-sync error: predicted minus true offset on ${errors.length} test windows (${errors.filter((x) => Math.abs(x) < 1e-6).length} exact)`,
      ),
      xName: 'predicted - true offset (s)',
      yName: 'windows',
    },
    confusionHeatmap(
      confusion,
      labels,
      `av-sync confusion over the ${SYNC_CLASSES} offset classes (rows = true, columns = predicted; the diagonal is correct)`,
    ),
  ];
}

export const avSyncTask = defineTask<AvSyncModelConfig, AvSyncDataConfig, AvSyncTaskData>({
  name: 'av-sync',
  description:
    'audio-visual offset on the +-2 s / 0.2 s grid (21 classes) with calibrated confidence and synchronizability; self-supervised by shifting audio',
  modelSchema: AvSyncModelSchema,
  dataSchema: AvSyncDataSchema,
  defaults: {
    model: { ...avSyncSmall(), syncLoss: 0.5 },
    data: defaultSyncData,
    train: { batchSize: 32, lr: 3e-3, warmupSteps: 20, epochs: 60, evalEvery: 4, evalBefore: true, weightDecay: 0.01 },
  },
  datasetDefaults: { manifest: { train: { epochs: 100 } } },
  variants: {
    tiny: () => ({ ...avSyncTiny(), syncLoss: 0.5 }),
    small: () => ({ ...avSyncSmall(), syncLoss: 0.5 }),
    base: () => ({ ...avSyncBase(), syncLoss: 0.5 }),
  },
  monitor: { metric: 'acc1', mode: 'max' },
  loadData: (ctx) => loadSyncData(ctx),
  buildLoss: (g, p, ctx) => avSyncLoss(g, p, ctx.model, ctx.batchSize, ctx.data.window),
  buildInference: (g, p, ctx) => avSyncInference(g, p, ctx.model, ctx.batchSize, ctx.data.window),
  evaluate: (ctx) => evaluateSync(ctx),
});
