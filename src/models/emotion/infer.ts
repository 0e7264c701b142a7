/**
 * Running a trained emotion model on one utterance: audio file and/or transcript (+ optional speaker metadata) ->
 * label, class probabilities, the gate's weight per modality, which modality was missing, and both attention maps.
 * Either input may be left out: the model was trained with modality dropout and is told which one is missing.
 */
import { Predictor } from '../../engine/export.js';
import { ParamStore } from '../../engine/params.js';
import type { HostArray } from '../../io/array.js';
import { decodeAudio } from '../../media/decode_audio.js';
import { loadRun } from '../../train/files.js';
import { InputError } from '../../util/errors.js';
import { AUDIO_RATE, type EmotionModelConfig } from './config.js';
import { audioFrames, hashWord, metadataIds, splitWords, type EmotionExampleInput } from './features.js';
import { traceEmotionInference } from './graph.js';
import { predictEmotions, type EmotionPrediction } from './predict.js';
import { EmotionModelSchema, defaultEmotionData } from './task.js';

export interface EmotionModel {
  config: EmotionModelConfig;
  words: number;
  frames: number;
  weights: Record<string, HostArray>;
  source: string;
  predictor?: Promise<Predictor>;
}

/** Loads a run folder of `attune train emotion` (or a weights file in one). */
export function loadEmotionModel(path: string): EmotionModel {
  const run = loadRun(path, { tasks: ['emotion'] });
  const parsed = EmotionModelSchema.safeParse(run.config.model);
  if (!parsed.success)
    throw new InputError(
      `${run.dir}/config.json: model section is not an emotion config: ${parsed.error.issues[0]?.message}`,
      { file: run.dir, field: 'model' },
    );
  const d = { ...defaultEmotionData, ...(run.config.data ?? {}) };
  return {
    config: parsed.data as EmotionModelConfig,
    words: d.maxWords,
    frames: Math.round(d.maxSeconds * AUDIO_RATE),
    weights: run.params,
    source: run.weightsPath,
  };
}

function predictor(model: EmotionModel): Promise<Predictor> {
  if (!model.predictor) {
    const store = new ParamStore(0);
    store.load(model.weights);
    const shape = { batch: 1, words: model.words, frames: model.frames };
    model.predictor = Predictor.create((g, p) => traceEmotionInference(g, p, model.config, shape), store, {
      worker: false,
      session: { threads: 2 },
    });
  }
  return model.predictor;
}

export async function releaseEmotionModel(model: EmotionModel): Promise<void> {
  const p = model.predictor;
  model.predictor = undefined;
  if (p) await (await p).close();
}

export interface EmotionQuery {
  audio?: string;
  text?: string;
  /** Free-form metadata (gender f/m, age young/adult/senior or years, timbre). */
  metadata?: Record<string, unknown>;
  /** Decode rate for the audio (default 16000; features are rate-independent). */
  sampleRate?: number;
}

export interface EmotionResult extends EmotionPrediction {
  words: number;
  wordList: string[];
  missing: 'text' | 'audio' | null;
  seconds: number;
  timing: { decode: number; features: number; model: number };
}

/** Prepares one query (decoding and features) and runs the model. */
export async function emotionOf(model: EmotionModel, q: EmotionQuery): Promise<EmotionResult> {
  if (!q.audio && !q.text?.trim()) throw new InputError('give --audio FILE, --text "...", or both', { field: 'audio' });
  const t0 = performance.now();
  const samples = q.audio ? await decodeAudio(q.audio, { sampleRate: q.sampleRate ?? 16000 }) : undefined;
  const t1 = performance.now();
  const frames = samples ? audioFrames(samples.data.subarray(0, samples.length), q.sampleRate ?? 16000) : null;
  const words = splitWords(q.text ?? '');
  const ex: EmotionExampleInput = {
    words,
    tokens: Int32Array.from(words, hashWord),
    spans: words.map(() => null),
    audio: frames?.data ?? null,
    frames: frames?.frames ?? 0,
    utterance: frames?.utterance ?? null,
    meta: metadataIds(q.metadata),
    label: 0,
  };
  const t2 = performance.now();
  const pred = await runOne(model, ex);
  const t3 = performance.now();
  const missing = !pred.present.text ? 'text' : !pred.present.audio ? 'audio' : null;
  return {
    ...pred,
    wordList: words.slice(0, pred.words),
    missing,
    seconds: frames ? frames.frames / AUDIO_RATE : 0,
    timing: { decode: (t1 - t0) / 1000, features: (t2 - t1) / 1000, model: (t3 - t2) / 1000 },
  };
}

/** Runs the model on one prepared example (missing modalities as the example says). */
export async function runOne(model: EmotionModel, ex: EmotionExampleInput): Promise<EmotionPrediction> {
  const presence = { text: ex.tokens.length > 0, audio: ex.audio !== null && ex.frames > 0 };
  const [pred] = await predictEmotions(
    await predictor(model),
    [ex],
    [presence],
    { batch: 1, words: model.words, frames: model.frames },
    { attention: true },
  );
  return pred;
}
