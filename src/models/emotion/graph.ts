/**
 * Traces the emotion model's graphs with their named inputs, so the task, the tests and inference on files all
 * declare the same inputs (the names `makeBatch` produces).
 */
import type { Graph, Scope, Tensor } from '../../engine/index.js';
import { AUDIO_DIM, UTTERANCE_DIM, type EmotionModelConfig, type EmotionShape } from './config.js';
import { emotionLoss, type LossTerms } from './losses.js';
import { emotionModel, type EmotionInputs, type EmotionOutputs } from './model.js';

export function emotionInputs(g: Graph, s: EmotionShape): EmotionInputs {
  return {
    tokens: g.input('tokens', 'int64', [s.batch, s.words]),
    textValid: g.input('textValid', 'float32', [s.batch, s.words]),
    audio: g.input('audio', 'float32', [s.batch, s.frames, AUDIO_DIM]),
    audioValid: g.input('audioValid', 'float32', [s.batch, s.frames]),
    utterance: g.input('utterance', 'float32', [s.batch, UTTERANCE_DIM]),
    meta: g.input('meta', 'int64', [s.batch, 4]),
    present: g.input('present', 'float32', [s.batch, 2]),
  };
}

/** The loss graph (training when `training`, else the deterministic validation loss). */
export function traceEmotionLoss(
  g: Graph,
  p: Scope,
  cfg: EmotionModelConfig,
  s: EmotionShape,
  training: boolean,
): LossTerms {
  const x = emotionInputs(g, s);
  const out = emotionModel(p, x, cfg, training);
  const labels = g.input('labels', 'int64', [s.batch]);
  const spans = g.input('spans', 'float32', [s.batch, s.words, s.frames]);
  const terms = emotionLoss(
    out,
    { labels, spans, textValid: x.textValid, audioValid: x.audioValid, present: x.present },
    cfg,
  );
  const acc = out.logits.argmax(-1).eq(labels).cast('float32').mean();
  return { loss: terms.loss, metrics: { ...terms.metrics, acc } };
}

/** Inference outputs: probabilities, logits, the modality gate and (when traced) both attention maps. */
export function traceEmotionInference(
  g: Graph,
  p: Scope,
  cfg: EmotionModelConfig,
  s: EmotionShape,
): Record<string, Tensor> {
  const out: EmotionOutputs = emotionModel(p, emotionInputs(g, s), cfg, false);
  const res: Record<string, Tensor> = {
    logits: out.logits,
    probs: out.logits.softmax(-1),
    modalityGate: out.modalityGate,
  };
  if (out.textToAudio) res.textToAudio = out.textToAudio;
  if (out.audioToText) res.audioToText = out.audioToText;
  return res;
}
