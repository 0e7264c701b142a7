/**
 * The `emotion` task: 7-way emotion from words + voice (+ speaker metadata) on EmoSpeech (`--data emospeech:N`)
 * or an emotion manifest (`--data x.jsonl`).
 *
 *   attune train emotion --data emospeech:2000
 *   attune train emotion --data emospeech:2000 --set model.fusion=concat --set model.multiLevel=false
 */
import { z } from 'zod';
import type { Section } from '../../report/spec.js';
import { defineTask, type DataSource, type EvalContext, type LoadContext, type TaskData } from '../../train/task.js';
import { ConfigError } from '../../util/errors.js';
import type { Rng } from '../../util/rng.js';
import { analysisMetrics, analyzeEmotions } from './analysis.js';
import { AUDIO_RATE, emotionBase, emotionSmall, emotionTiny, type EmotionModelConfig } from './config.js';
import { loadEmotionSet, type EmotionSet } from './data.js';
import { makeBatch, type BatchShape, type Presence } from './features.js';
import { traceEmotionInference, traceEmotionLoss } from './graph.js';
import { predictEmotions } from './predict.js';
import { analysisSections, attentionSections } from './report.js';

export const EmotionModelSchema = z
  .object({
    dim: z.number().int().positive(),
    heads: z.number().int().positive(),
    textLayers: z.number().int().nonnegative(),
    audioLayers: z.number().int().nonnegative(),
    kernel: z.number().int().positive(),
    fusion: z.enum(['concat', 'uni-ta', 'uni-at', 'bi']),
    multiLevel: z.boolean(),
    gate: z.boolean(),
    metadata: z.boolean(),
    modalities: z.enum(['text', 'audio', 'both']),
    prosodyStats: z.boolean(),
    learnedTemperature: z.boolean(),
    hidden: z.number().int().positive(),
    dropout: z.number().min(0).max(0.9),
    entropyWeight: z.number().nonnegative(),
    alignWeight: z.number().nonnegative(),
    groundWeight: z.number().nonnegative(),
  })
  .strict()
  .refine((m) => m.dim % m.heads === 0, { message: 'dim must be divisible by heads' });

export const EmotionDataSchema = z
  .object({
    /** EmoSpeech generator seed (the data stay fixed while train.seed varies). */
    emospeechSeed: z.number().int().nonnegative(),
    /** Words and seconds of audio the graph holds (longer items are cut). */
    maxWords: z.number().int().positive(),
    maxSeconds: z.number().positive(),
    /** Training only: probability that an example loses its text, and (separately) its audio. */
    modalityDropout: z.number().min(0).max(0.5),
    /** Training only: probability that the timbre is hidden (test speakers have timbres unseen in training). */
    timbreDropout: z.number().min(0).max(1),
  })
  .strict();

export type EmotionDataConfig = z.infer<typeof EmotionDataSchema>;

export interface EmotionTaskData extends TaskData {
  set: EmotionSet;
  shape: BatchShape;
}

export const defaultEmotionData: EmotionDataConfig = {
  emospeechSeed: 0,
  maxWords: 12,
  maxSeconds: 5.12,
  modalityDropout: 0.15,
  timbreDropout: 0.1,
};

/** Presence of each modality in a training example: never both dropped. */
export function trainPresence(rng: Rng, d: EmotionDataConfig): Presence {
  const u = rng.uniform();
  return {
    text: !(u < d.modalityDropout),
    audio: !(u >= d.modalityDropout && u < 2 * d.modalityDropout),
    hideTimbre: rng.uniform() < d.timbreDropout,
  };
}

export function emotionSource(
  source: DataSource,
  seed: number,
): { kind: 'emospeech'; n: number; seed: number } | { kind: 'manifest'; path: string } {
  return source.kind === 'synth'
    ? { kind: 'emospeech', n: source.clips, seed }
    : { kind: 'manifest', path: source.path };
}

async function loadData(ctx: LoadContext<EmotionDataConfig>): Promise<EmotionTaskData> {
  const d = ctx.data;
  if (ctx.source.kind === 'synth' && ctx.source.clips < 20)
    throw new ConfigError(`emotion needs at least 20 EmoSpeech utterances (got ${ctx.source.clips})`, {
      field: 'data',
    });
  const set = await loadEmotionSet({
    source: emotionSource(ctx.source, d.emospeechSeed),
    cacheDir: ctx.cacheDir,
    progress: (i, n) => ctx.progress('emotion features', i, n),
  });
  if (set.examples.length < 10)
    throw new ConfigError(
      `only ${set.examples.length} usable emotion items (${set.skipped.length} skipped; first: ${set.skipped[0]?.message ?? 'none'})`,
      { field: 'data' },
    );
  const shape = { words: d.maxWords, frames: Math.round(d.maxSeconds * AUDIO_RATE) };
  return {
    size: set.examples.length,
    set,
    shape,
    splits: set.splits,
    batch: (indices, { split, rng }) => {
      const presence = indices.map(() => (split === 'train' ? trainPresence(rng, d) : { text: true, audio: true }));
      return makeBatch(
        indices.map((i) => set.examples[i]),
        presence,
        shape,
        true,
      );
    },
    info: {
      items: set.examples.length,
      skipped: set.skipped.length,
      words: shape.words,
      frames: shape.frames,
      rate: AUDIO_RATE,
    },
  };
}

async function evaluate(
  ctx: EvalContext<EmotionModelConfig, EmotionTaskData>,
): Promise<{ metrics: Record<string, number>; sections?: Section[] }> {
  const { set, shape } = ctx.data;
  const examples = ctx.indices.map((i) => set.examples[i]);
  const items = ctx.indices.map((i) => set.items[i]);
  const all = examples.map(() => ({ text: true, audio: true }));
  const batchShape = { ...shape, batch: ctx.batchSize };
  const preds = await predictEmotions(ctx.predictor, examples, all, batchShape, { attention: ctx.final });
  const analysis = analyzeEmotions(preds, examples, items);
  const metrics = analysisMetrics(analysis);
  if (!ctx.final) return { metrics };
  // Graceful degradation: the same model with one modality withheld at inference.
  const sections: Section[] = analysisSections(analysis);
  if (ctx.model.modalities === 'both') {
    for (const [name, presence] of [
      ['text_only_input', { text: true, audio: false }],
      ['audio_only_input', { text: false, audio: true }],
    ] as const) {
      const p = await predictEmotions(
        ctx.predictor,
        examples,
        examples.map(() => presence),
        batchShape,
      );
      metrics[`acc_${name}`] = p.filter((x, i) => x.classId === examples[i].label).length / Math.max(1, p.length);
    }
  }
  for (const i of [0, 1])
    if (preds[i])
      sections.push(
        ...attentionSections(
          preds[i],
          examples[i].words,
          `"${items[i].text}" (${items[i].label}; predicted ${preds[i].label})`,
        ),
      );
  return { metrics, sections };
}

export const emotionTask = defineTask<EmotionModelConfig, EmotionDataConfig, EmotionTaskData>({
  name: 'emotion',
  description:
    'emotion from words + voice (+ speaker metadata): text and audio encoders, cross-modal attention, multi-level gated fusion (seed 002)',
  modelSchema: EmotionModelSchema,
  dataSchema: EmotionDataSchema,
  defaults: {
    model: emotionSmall(),
    data: defaultEmotionData,
    train: {
      batchSize: 32,
      evalBatchSize: 64,
      epochs: 25,
      lr: 3e-3,
      warmupSteps: 30,
      minLr: 1e-4,
      weightDecay: 0.01,
      patience: 8,
      checkpointEvery: 0,
    },
  },
  variants: { tiny: emotionTiny, small: emotionSmall, base: emotionBase },
  monitor: { metric: 'acc', mode: 'max' },
  generatedSet: 'emospeech',
  loadData,
  buildLoss: (g, p, ctx) =>
    traceEmotionLoss(g, p, ctx.model, { ...ctx.data.shape, batch: ctx.batchSize }, ctx.purpose === 'train'),
  buildInference: (g, p, ctx) => traceEmotionInference(g, p, ctx.model, { ...ctx.data.shape, batch: ctx.batchSize }),
  evaluate,
});
