/**
 * The favor task: FAVOR answering AVQA questions (docs/favor.md). `--data synth:N` / `avqa:N` = N AVQA scenes (their
 * questions are the examples; AVQA's own scene-level split is used). Monitored by greedy exact-match accuracy.
 */
import { z } from 'zod';
import { type AvqaQuestion, AvqaConfigSchema } from '../../data/avqa/index.js';
import type { Graph, Scope, Tensor } from '../../engine/index.js';
import { defineTask, type EvalContext, type LoadContext, type TaskData } from '../../train/task.js';
import { ConfigError } from '../../util/errors.js';
import { FRAME_SIZE, type FavorConfig, favorSmall, favorTiny } from './config.js';
import {
  type AvqaExamples,
  answerClassBatch,
  avBatch,
  frameLabelBatch,
  loadAvqaExamples,
  mirrorClip,
  mirrorTokenLabels,
  textBatch,
  tokenLabelBatch,
} from './data.js';
import { frameLabelInputs } from './frame_aux.js';
import { type CountWordIds, countWordIds, countsOnsets } from './count_tokens.js';
import { cachedStreamInputs, cachesEncoders, computeEncoderCache, type EncoderCache } from './encoder_cache.js';
import { answerAll, answerSections, scoreAnswers, templatePriors } from './evaluate.js';
import { avInputs, favor, favorLoss } from './model.js';
import { encoderStageInference, encoderStageLoss, evaluateEncoders } from './pretrain.js';

export const FavorModelSchema = z
  .object({
    patch: z.union([z.literal(4), z.literal(8), z.literal(16), z.literal(32)]),
    frameSize: z.union([z.literal(32), z.literal(64)]).default(32),
    // Defaults for runs saved before these fields existed.
    visualStem: z.enum(['patch', 'conv']).default('patch'),
    stemDim: z.number().int().positive().default(16),
    stemPool: z.enum(['early', 'late']).default('early'),
    frameContext: z.number().int().min(0).max(4).default(0),
    stage: z.enum(['answer', 'encoders']).default('answer'),
    encoders: z.string().min(1).nullable().default(null),
    freezeEncoders: z.boolean().default(false),
    cacheEncoders: z.boolean().default(true),
    pixelDim: z.number().int().min(0).default(0),
    visualDim: z.number().int().positive(),
    audioDim: z.number().int().positive(),
    audioKernel: z.number().int().positive(),
    audioContext: z.enum(['none', 'frameMax', 'frameBlock']).default('none'),
    window: z.number().int().min(1).max(60),
    queries: z.number().int().min(2),
    framePos: z.number().min(0).default(0),
    qformerLayers: z.number().int().min(1),
    heads: z.number().int().positive(),
    causal: z.enum(['none', 'past', 'future']),
    sync: z.enum(['frame', 'window', 'none']),
    diversity: z.number().min(0),
    // Defaults for runs saved before these fields existed: they were trained with 0.02 and without the classifier.
    queryInit: z.number().positive().default(0.02),
    answerAux: z.number().min(0).default(0),
    frameAux: z.number().min(0).default(0),
    frameProbe: z.boolean().default(false),
    tokenAux: z.number().min(0).default(0),
    hitAux: z.number().min(0).default(0),
    onsetAux: z.number().min(0).default(0),
    voiceAux: z.number().min(0).default(0),
    queryAux: z.number().min(0).default(0),
    queryHits: z.number().min(0).default(0),
    lmAux: z.number().min(0).default(0),
    countTokens: z.enum(['off', 'frames', 'onsets', 'audio']).default('off'),
    countPeaks: z.number().min(0).default(0),
    countWords: z.boolean().default(false),
    countAsked: z.enum(['off', 'mask', 'copy', 'point']).default('off'),
    countObjects: z.boolean().default(false),
    splitSounds: z.boolean().default(false),
    voiceCounts: z.boolean().default(false),
    objectAnswers: z.boolean().default(false),
    visualAnswers: z.boolean().default(false),
    eventAnswers: z.boolean().default(false),
    questionAv: z.boolean().default(false),
    flip: z.boolean().default(false),
    lmDim: z.number().int().positive(),
    lmLayers: z.number().int().min(1),
    questionOnly: z.boolean(),
  })
  .strict()
  .refine(
    (m) =>
      (m.visualDim + m.audioDim) % m.heads === 0 &&
      m.lmDim % m.heads === 0 &&
      m.visualDim % m.heads === 0 &&
      m.audioDim % m.heads === 0,
    { message: 'visualDim, audioDim and lmDim must be divisible by heads' },
  )
  .refine((m) => m.frameSize === 32 || m.visualStem === 'conv', {
    message: 'frameSize 64 needs visualStem conv (the patch stem cuts 32 px frames)',
    path: ['frameSize'],
  })
  .refine((m) => m.frameContext === 0 || m.visualStem === 'conv', {
    message: "frameContext needs visualStem conv (the neighbouring frames join the conv stem's channels)",
    path: ['frameContext'],
  })
  .refine((m) => m.hitAux === 0 || m.stage === 'encoders', {
    message: 'hitAux is a stage-1 head: it needs stage encoders (stage 2 predicts hits from its queries: queryHits)',
    path: ['hitAux'],
  })
  .refine((m) => m.onsetAux === 0 || m.stage === 'encoders', {
    message: "onsetAux is a stage-1 head: it needs stage encoders (stage 2 reads it with countTokens 'audio')",
    path: ['onsetAux'],
  })
  .refine((m) => m.countPeaks === 0 || m.countTokens === 'audio', {
    message: "countPeaks counts the audio counting head's peaks: it needs countTokens 'audio'",
    path: ['countPeaks'],
  })
  .refine((m) => !m.countWords || m.countTokens === 'audio' || (m.countTokens !== 'off' && m.queryHits === 0), {
    message:
      'countWords makes count tokens of sound words: it needs countTokens on, and no queryHits with the query head',
    path: ['countWords'],
  })
  .refine((m) => m.countAsked === 'off' || m.countTokens !== 'off', {
    message: "countAsked picks the question's count token: it needs countTokens on",
    path: ['countAsked'],
  })
  .refine(
    (m) =>
      !m.countObjects ||
      ((m.countAsked === 'copy' || m.countAsked === 'point') && m.countTokens === 'audio' && !!m.encoders),
    {
      message:
        "countObjects copies the named object's hits: it needs countAsked 'copy' or 'point', countTokens 'audio' and model.encoders (a stage-1 run with hitAux)",
      path: ['countObjects'],
    },
  )
  .refine((m) => m.voiceAux === 0 || m.stage === 'encoders', {
    message: 'voiceAux is a stage-1 head: it needs stage encoders (stage 2 reads it with voiceCounts)',
    path: ['voiceAux'],
  })
  .refine((m) => !m.voiceCounts || (m.countObjects && m.countPeaks > 0 && !m.splitSounds), {
    message:
      "voiceCounts counts countObjects' looks per voice at the counter's peaks: it needs countObjects, countPeaks > 0 and no splitSounds",
    path: ['voiceCounts'],
  })
  .refine((m) => !m.splitSounds || m.countObjects, {
    message: 'splitSounds shares out the impacts countObjects counts: it needs countObjects',
    path: ['splitSounds'],
  })
  .refine((m) => !m.objectAnswers || (m.countObjects && m.countTokens === 'audio'), {
    message:
      "objectAnswers reads the hit head's frames and the counter's impacts: it needs countObjects and countTokens 'audio'",
    path: ['objectAnswers'],
  })
  .refine((m) => !m.eventAnswers || m.objectAnswers, {
    message: "eventAnswers copies through objectAnswers' look and sound gates: it needs objectAnswers",
    path: ['eventAnswers'],
  })
  .refine((m) => !m.visualAnswers || m.objectAnswers, {
    message: "visualAnswers copies through objectAnswers' colour and shape gates: it needs objectAnswers",
    path: ['visualAnswers'],
  })
  .refine((m) => m.queryHits === 0 || m.queryAux > 0, {
    message: 'queryHits needs queryAux > 0 (the hits are predicted by the query head)',
    path: ['queryHits'],
  })
  .refine((m) => m.countTokens === 'off' || m.queryAux > 0, {
    message: 'countTokens needs queryAux > 0 (the counts are summed from the query head, trained by queryAux)',
    path: ['countTokens'],
  });

/** AVQA's own field schemas (under its refinements), so the favor task's data fields keep the generator's checks. */
const AVQA_FIELDS = AvqaConfigSchema.innerType().innerType().innerType().shape;

export const FavorDataSchema = z
  .object({
    /** AVQA settings (docs/avqa.md); shorter clips than AVQA's 5-30 s default keep CPU runs small. */
    avqa: z
      .object({
        seed: z.number().int().nonnegative(),
        minDuration: z.number().min(1),
        maxDuration: z.number().max(60),
        families: AVQA_FIELDS.families.removeDefault(),
        /** Questions per family per scene (more questions from the same clips: no more rendering; docs/avqa.md). */
        perFamily: AVQA_FIELDS.perFamily,
      })
      .strict(),
    /**
     * Val and test ask what `data.avqa.perFamily` = this would ask of the same scenes (null: as perFamily), so a run
     * trained on more questions per scene is scored on the held-out questions of a perFamily = 1 run.
     */
    heldOutPerFamily: z.number().int().min(1).max(10).nullable().default(null),
    /**
     * Train questions balanced with this tolerance (no answer of a template above (1 + it) times its uniform share)
     * instead of the generator's 0.2; val and test keep 0.2 (null: as the generator). More count questions: their
     * answers 0-12 are rare at both ends, so the tight balance asks few of them (docs/favor.md, session 14).
     */
    trainTolerance: z.number().min(0).max(10).nullable().default(null),
  })
  .strict();

export type FavorDataConfig = z.infer<typeof FavorDataSchema>;

export interface FavorTaskData extends TaskData {
  examples: AvqaExamples;
  vocab: number;
  /** The frozen encoders' outputs per clip, when the run trains on them (encoder_cache.ts). */
  encoderCache?: EncoderCache;
}

async function loadFavorData(ctx: LoadContext<FavorDataConfig, FavorConfig>): Promise<FavorTaskData> {
  if (ctx.source.kind !== 'synth')
    throw new ConfigError('favor trains on AVQA scenes: use --data avqa:N', { field: 'data' });
  const ex = loadAvqaExamples(ctx.data.avqa, ctx.source.clips, {
    progress: (done, total) => ctx.progress('AVQA streams', done, total),
    frameSize: ctx.model.frameSize,
    heldOutPerFamily: ctx.data.heldOutPerFamily,
    trainTolerance: ctx.data.trainTolerance,
  });
  const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
  ex.questions.forEach((q, i) => splits[q.split].push(i));
  if (!splits.train.length || !splits.test.length)
    throw new ConfigError(`${ctx.source.clips} AVQA scenes leave an empty train or test split; use more scenes`, {
      field: 'data',
    });
  const encoderCache = cachesEncoders(ctx.model)
    ? await computeEncoderCache(ex, ctx.model, { progress: (done, total) => ctx.progress('encoders', done, total) })
    : undefined;
  // Per-token labels feed only the stage-1 token loss (frame_aux.ts).
  const stage1 = ctx.model.stage === 'encoders';
  const tokenGrid = stage1 && ctx.model.tokenAux > 0 ? FRAME_SIZE / ctx.model.patch : 0;
  const flip = stage1 && ctx.model.flip;
  return {
    size: ex.questions.length,
    splits,
    examples: ex,
    vocab: ex.tokenizer.vocabSize,
    encoderCache,
    batch: (indices, { split, rng }) => {
      const qs = indices.map((i) => ex.questions[i]);
      // Stage 1's mirrored train clips (model.flip): decided per clip, from the trainer's seeded batch stream.
      const mirror = qs.map(() => flip && split === 'train' && rng.uniform() < 0.5);
      const clip = (q: AvqaQuestion, i: number) => (mirror[i] ? mirrorClip(ex.clip(q), ex.frameSize) : ex.clip(q));
      const tokens = (q: AvqaQuestion, i: number) => {
        const l = ex.tokenLabels(q, tokenGrid);
        return mirror[i] ? mirrorTokenLabels(l, tokenGrid) : l;
      };
      return {
        ...(encoderCache ? encoderCache.feeds(qs) : avBatch(qs.map(clip), ex.frames, ex.frameSize)),
        ...textBatch(ex.tokenizer, qs, ex.textLen),
        answer_class: answerClassBatch(ex.answers, qs),
        ...frameLabelBatch(
          qs.map((q) => ex.labels(q)),
          ex.frames,
        ),
        ...(tokenGrid ? { frame_tokens: tokenLabelBatch(qs.map(tokens), ex.frames, tokenGrid ** 2) } : {}),
      };
    },
    info: {
      scenes: ctx.source.clips,
      questions: ex.questions.length,
      frames: ex.frames,
      textLen: ex.textLen,
      vocab: ex.tokenizer.vocabSize,
      train: splits.train.length,
      val: splits.val.length,
      test: splits.test.length,
    },
  };
}

/** The AV inputs of a graph: frames + audio, or (with `cache`) the encoders' cached outputs. */
function avSource(g: Graph, p: Scope, model: FavorConfig, batch: number, frames: number, cache?: EncoderCache) {
  return cache
    ? cachedStreamInputs(g, p.scope('encoder'), batch, frames, model, cache)
    : avInputs(g, batch, frames, model.frameSize);
}

/** Graph inputs and loss for a batch (`cache`: the AV inputs are the frozen encoders' cached outputs). */
export function favorLossGraph(
  g: Graph,
  p: Scope,
  model: FavorConfig,
  batch: number,
  frames: number,
  textLen: number,
  vocab: number,
  classes = 1,
  cache?: EncoderCache,
  wordIds?: CountWordIds,
) {
  const x = avSource(g, p, model, batch, frames, cache);
  const text = g.input('text', 'int64', [batch, textLen]);
  const target = g.input('target', 'int64', [batch, textLen]);
  const mask = g.input('target_mask', 'float32', [batch, textLen]);
  const aux =
    model.answerAux > 0 && !model.questionOnly
      ? {
          inputs: {
            text,
            questionMask: g.input('question_mask', 'float32', [batch, textLen]),
            answerClass: g.input('answer_class', 'int64', [batch]),
          },
          classes,
        }
      : undefined;
  const frameLabels =
    (model.frameAux > 0 || model.frameProbe || model.queryAux > 0 || model.lmAux > 0) && !model.questionOnly
      ? frameLabelInputs(g, batch, frames, {
          hits: model.queryAux > 0 && model.queryHits > 0,
          onsets: countsOnsets(model),
        })
      : undefined;
  return favorLoss(p, x, text, target, mask, vocab, model, aux, frameLabels, wordIds);
}

/** Inference: AV inputs + text -> logits [B, Lt, V] and av_attention [B, Lt, M] (absent for question-only). */
export function favorInferenceGraph(
  g: Graph,
  p: Scope,
  model: FavorConfig,
  batch: number,
  frames: number,
  textLen: number,
  vocab: number,
  cache?: EncoderCache,
  wordIds?: CountWordIds,
): Record<string, Tensor> {
  const x = avSource(g, p, model, batch, frames, cache);
  const text = g.input('text', 'int64', [batch, textLen]);
  const out = favor(p, x, text, vocab, model, wordIds);
  return out.avAttention ? { logits: out.logits, av_attention: out.avAttention } : { logits: out.logits };
}

async function evaluateFavor(ctx: EvalContext<FavorConfig, FavorTaskData>) {
  const ex = ctx.data.examples;
  const questions = ctx.indices.map((i) => ex.questions[i]);
  const cache = ctx.data.encoderCache;
  const answered = await answerAll(
    (f) => ctx.predictor.run(f),
    ex,
    questions,
    ctx.batchSize,
    ctx.model,
    cache && ((part) => cache.feeds(part)),
  );
  const priors = templatePriors((ctx.data.splits?.train ?? []).map((i) => ex.questions[i]));
  const metrics = scoreAnswers(
    questions,
    answered.map((a) => a.answer),
    priors,
  );
  return { metrics, sections: ctx.final ? answerSections(questions, answered, metrics) : undefined };
}

/** The model and sizes both answer graphs are traced with: model, batch, frames, text length, vocabulary. */
const graphSizes = (ctx: { model: FavorConfig; batchSize: number; data: FavorTaskData }) =>
  [ctx.model, ctx.batchSize, ctx.data.examples.frames, ctx.data.examples.textLen, ctx.data.vocab] as const;

export const favorTask = defineTask<FavorConfig, FavorDataConfig, FavorTaskData>({
  name: 'favor',
  description:
    'FAVOR: synchronized audio-visual tokens through a windowed causal Q-Former, answering AVQA questions with a small LM',
  modelSchema: FavorModelSchema,
  dataSchema: FavorDataSchema,
  defaults: {
    model: favorSmall(),
    data: {
      avqa: {
        seed: 0,
        minDuration: 5,
        maxDuration: 10,
        families: ['audio', 'visual', 'source', 'order', 'count', 'causal', 'matching', 'sync'],
        perFamily: 1,
      },
      heldOutPerFamily: null,
      trainTolerance: null,
    },
    train: {
      batchSize: 16,
      lr: 2e-3,
      warmupSteps: 30,
      epochs: 20,
      evalEvery: 2,
      evalBefore: false,
      weightDecay: 0.01,
      exportBatchSize: 1,
    },
  },
  variants: { tiny: favorTiny, small: favorSmall },
  monitor: { metric: 'acc', mode: 'max' },
  generatedSet: 'avqa',
  loadData: (ctx) => loadFavorData(ctx),
  buildLoss: (g, p, ctx) =>
    ctx.model.stage === 'encoders'
      ? encoderStageLoss(g, p, ctx.model, ctx.batchSize, ctx.data.examples.frames)
      : favorLossGraph(
          g,
          p,
          ...graphSizes(ctx),
          ctx.data.examples.answers.length,
          ctx.data.encoderCache,
          countWordIds(ctx.data.examples.tokenizer),
        ),
  // Evaluation reads the cached encoder outputs too; the exported model.onnx reads frames and audio.
  buildInference: (g, p, ctx) =>
    ctx.model.stage === 'encoders'
      ? encoderStageInference(g, p, ctx.model, ctx.batchSize, ctx.data.examples.frames)
      : favorInferenceGraph(
          g,
          p,
          ...graphSizes(ctx),
          ctx.purpose === 'eval' ? ctx.data.encoderCache : undefined,
          countWordIds(ctx.data.examples.tokenizer),
        ),
  evaluate: (ctx) => (ctx.model.stage === 'encoders' ? evaluateEncoders(ctx) : evaluateFavor(ctx)),
});
