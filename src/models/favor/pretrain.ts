/**
 * Stage 1: the stream encoders on their own, the stand-in for FAVOR's pretrained and frozen encoders (EVA-ViT /
 * InstructBLIP, Whisper; favor_mult.md 1.2), which cannot be had here. `--set model.stage=encoders` trains only the
 * visual and audio encoders with the per-frame heads of frame_aux.ts against the scene's ground truth (which looks,
 * colours and shapes are on screen; which kinds of sound are hit in each half second); no Q-Former, no language
 * model, so a step costs a fraction of an answer step. Stage 2 (`--set model.encoders=RUN`) starts the encoders from
 * that run's weights, frozen with `model.freezeEncoders=true`.
 *
 *   loss     = frame BCEs (frame_aux.ts, factor 1) + tokenAux x the visual head's per-token BCE
 *              + hitAux x the hit head's BCE (which objects hit the wall in each frame's half second)
 *              + onsetAux x the audio counting head's Poisson NLL per 50 Hz token (how many impacts of each sound
 *                start in each 20 ms; count_tokens.ts)
 *              + voiceAux x the voice head's cross-entropy around each impact (which voice it is; voices.ts)
 *   evaluate = per-frame exact match of the colours, the shapes, the looks (colour x shape) and the sounds on the
 *              split's distinct clips; acc (the monitored metric) = mean of the colour, shape and sound accuracies
 *              (and of the hits' with hitAux, of the clip counts of the sounds heard with onsetAux, and of the
 *              voices with voiceAux); with hitAux
 *              also the hits' precision, recall and F1 over (frame, look) pairs, since most frames hold no hit and
 *              exact match rewards saying "none"; with onsetAux each (clip, sound) pair's summed impacts against
 *              the truth (count_exact, and count_exact_heard over the pairs with an impact); with voiceAux the
 *              tokens around an impact whose likeliest voice is the impact's (voice_acc)
 *
 * With `model.encoders` (another stage-1 run) stage 1 starts from that run's weights, all of them frozen with
 * freezeEncoders (seedStageOne), so a head added later (voiceAux) is trained on the encoders stage 2 already reads.
 */
import type { AvqaQuestion, FrameLabels } from '../../data/avqa/index.js';
import { MAX_CLASSES } from '../../data/synth/classes.js';
import { FRAME_SOUNDS, FRAME_VISUAL, FRAME_VISUAL_PARTS } from '../../data/avqa/index.js';
import type { Graph, Scope, Tensor } from '../../engine/index.js';
import { type HostArray, toFloat32 } from '../../io/array.js';
import { evalBatches } from '../../train/data.js';
import type { EvalContext, TaskData } from '../../train/task.js';
import { AUDIO_PER_FRAME, type FavorConfig, visualTokens } from './config.js';
import { type AvqaExamples, avBatch, clipKey } from './data.js';
import { frameAuxLoss, frameLabelInputs, frameLogits } from './frame_aux.js';
import { avInputs, encodeStreams } from './model.js';
import { audioOnsetRates, audioTokenRates, tokenOnsetLosses } from './count_tokens.js';
import { seedStageOne } from './encoder_init.js';
import { voiceLogits, voiceLosses } from './voices.js';

/** Stage-1 loss graph: frames + audio + per-frame labels -> the frame BCEs (+ the onset NLL with onsetAux). */
export function encoderStageLoss(g: Graph, p: Scope, model: FavorConfig, batch: number, frames: number) {
  seedStageOne(p, model);
  const encoder = p.scope('encoder');
  const streams = encodeStreams(encoder, avInputs(g, batch, frames, model.frameSize), model);
  const labels = frameLabelInputs(g, batch, frames, {
    visualTokens: model.tokenAux > 0 ? visualTokens(model).tokens : 0,
    hits: model.hitAux > 0,
    tokenOnsets: model.onsetAux > 0,
    tokenVoices: model.voiceAux > 0,
  });
  const out = frameAuxLoss(p.scope('frame_aux'), streams, labels, { ...model, frameAux: 1, frameProbe: false });
  let { loss } = out;
  const metrics: Record<string, Tensor> = { ...out.metrics };
  if (model.onsetAux > 0) {
    // Under the encoder's scope, where stage 2's countTokens 'audio' finds it (model.ts).
    const rates = audioTokenRates(encoder.scope('count_head'), streams.audio); // [B, F', 25, 4]
    const onsets = tokenOnsetLosses(rates, labels.audioTokenOnsets!, streams.frameMask);
    loss = loss.add(onsets.nll.mul(model.onsetAux));
    Object.assign(metrics, { count_onset_nll: onsets.nll, count_acc: onsets.acc });
  }
  if (model.voiceAux > 0) {
    // Under the encoder's scope too, where stage 2's voiceCounts finds it.
    const logits = voiceLogits(encoder.scope('voice_head'), streams.audio); // [B, T, 48]
    const voices = voiceLosses(logits, labels.audioTokenVoices!, streams.frameMask);
    loss = loss.add(voices.ce.mul(model.voiceAux));
    Object.assign(metrics, { voice_ce: voices.ce, voice_acc: voices.acc });
  }
  return { loss, metrics };
}

/**
 * Stage-1 inference graph: frame_visual [B, F', 69] and frame_audio [B, F', 4] logits (frame_hits [B, F', 69] with
 * hitAux; the counting head's impacts per frame, frame_onsets [B, F', 4], with onsetAux).
 */
export function encoderStageInference(
  g: Graph,
  p: Scope,
  model: FavorConfig,
  batch: number,
  frames: number,
): Record<string, Tensor> {
  seedStageOne(p, model);
  const encoder = p.scope('encoder');
  const streams = encodeStreams(encoder, avInputs(g, batch, frames, model.frameSize), model);
  const out = frameLogits(p.scope('frame_aux'), streams, false, model.hitAux > 0);
  return {
    frame_visual: out.visual,
    frame_audio: out.audio,
    ...(out.hits ? { frame_hits: out.hits } : {}),
    ...(model.onsetAux > 0 ? { frame_onsets: audioOnsetRates(encoder.scope('count_head'), streams.audio) } : {}),
    ...(model.voiceAux > 0 ? { frame_voices: voiceLogits(encoder.scope('voice_head'), streams.audio) } : {}),
  };
}

/** Label ranges scored apart: [first, end) within the visual or the audio labels. */
const [LOOKS, COLORS] = FRAME_VISUAL_PARTS;
const PARTS = {
  look: ['visual', 0, LOOKS],
  color: ['visual', LOOKS, LOOKS + COLORS],
  shape: ['visual', LOOKS + COLORS, FRAME_VISUAL],
  sound: ['audio', 0, FRAME_SOUNDS],
} as const;

/** Per-frame exact-match accuracy of each part over the distinct clips of `questions`. */
export async function scoreFrames(
  run: (feeds: ReturnType<typeof avBatch>) => Promise<Record<string, HostArray>>,
  ex: AvqaExamples,
  questions: AvqaQuestion[],
  batchSize: number,
): Promise<Record<string, number>> {
  const seen = new Set<string>();
  const clips = questions.filter((q) => {
    const key = clipKey(q);
    return !seen.has(key) && (seen.add(key), true);
  });
  const right = { look: 0, color: 0, shape: 0, sound: 0, silent: 0, hit: 0, hitNone: 0 };
  const hitPairs = { truePos: 0, falsePos: 0, falseNeg: 0 }; // (frame, look) pairs
  const counts = { pairs: 0, right: 0, heard: 0, heardRight: 0, heardError: 0 }; // (clip, sound) pairs
  const voiced = { tokens: 0, right: 0 }; // tokens around an impact
  let hitsScored = false;
  let frames = 0;
  for (const { indices: part, real } of evalBatches(clips, batchSize)) {
    const out = await run(
      avBatch(
        part.map((q) => ex.clip(q)),
        ex.frames,
        ex.frameSize,
      ),
    );
    const logits = { visual: toFloat32(out.frame_visual), audio: toFloat32(out.frame_audio) };
    const hitLogits = out.frame_hits ? toFloat32(out.frame_hits) : undefined;
    const onsets = out.frame_onsets ? toFloat32(out.frame_onsets) : undefined;
    const voices = out.frame_voices ? toFloat32(out.frame_voices) : undefined;
    hitsScored ||= !!hitLogits;
    const padded = out.frame_visual.shape[1];
    for (let i = 0; i < real; i++) {
      const truth = ex.labels(part[i]);
      if (onsets)
        for (let k = 0; k < FRAME_SOUNDS; k++) {
          let [said, heard] = [0, 0];
          for (let t = 0; t < truth.frames; t++) {
            said += onsets[(i * padded + t) * FRAME_SOUNDS + k];
            heard += truth.audioOnsets[t * FRAME_SOUNDS + k];
          }
          const right = +(Math.abs(said - heard) < 0.5);
          counts.pairs++;
          counts.right += right;
          if (!heard) continue;
          counts.heard++;
          counts.heardRight += right;
          counts.heardError += Math.abs(said - heard);
        }
      if (voices) scoreVoices(voices.subarray(i * padded * AUDIO_PER_FRAME * MAX_CLASSES), truth, voiced);
      for (let t = 0; t < truth.frames; t++) {
        frames++;
        for (const [name, [stream, lo, hi]] of Object.entries(PARTS)) {
          const n = stream === 'visual' ? FRAME_VISUAL : FRAME_SOUNDS;
          const row = (i * padded + t) * n;
          let ok = true;
          for (let k = lo; k < hi && ok; k++) ok = logits[stream][row + k] > 0 === truth[stream][t * n + k] > 0.5;
          if (ok) right[name as keyof typeof PARTS]++;
        }
        if (truth.audio.subarray(t * FRAME_SOUNDS, (t + 1) * FRAME_SOUNDS).every((v) => v < 0.5)) right.silent++;
        if (!hitLogits) continue;
        const [row, own] = [(i * padded + t) * FRAME_VISUAL, t * FRAME_VISUAL];
        let [ok, none] = [true, true];
        for (let k = 0; k < LOOKS; k++) {
          const [said, hit] = [hitLogits[row + k] > 0, truth.hits[own + k] > 0.5];
          if (said !== hit) ok = false;
          if (hit) none = false;
          if (said && hit) hitPairs.truePos++;
          else if (said) hitPairs.falsePos++;
          else if (hit) hitPairs.falseNeg++;
        }
        if (ok) right.hit++;
        if (none) right.hitNone++;
      }
    }
  }
  const rate = (k: keyof typeof right) => (frames ? right[k] / frames : NaN);
  const metrics: Record<string, number> = {
    look_acc: rate('look'),
    color_acc: rate('color'),
    shape_acc: rate('shape'),
    sound_acc: rate('sound'),
    sound_silent: rate('silent'),
    frames,
  };
  // acc, the monitored metric: the mean of the colour, shape and sound accuracies and of each scored head's.
  const parts = [metrics.color_acc, metrics.shape_acc, metrics.sound_acc];
  if (counts.pairs) {
    // The clip's summed impacts of each sound within 0.5 of the truth: over every (clip, sound) pair, and over
    // the pairs with an impact (answering 0 gets every other pair right); the mean absolute error there.
    metrics.count_exact = counts.right / counts.pairs;
    metrics.count_exact_heard = counts.heardRight / (counts.heard || 1);
    metrics.count_error_heard = counts.heardError / (counts.heard || 1);
    parts.push(metrics.count_exact_heard);
  }
  if (voiced.tokens) parts.push((metrics.voice_acc = voiced.right / voiced.tokens));
  if (hitsScored) {
    const { truePos, falsePos, falseNeg } = hitPairs;
    metrics.hit_acc = rate('hit');
    metrics.hit_none = rate('hitNone');
    metrics.hit_precision = truePos / (truePos + falsePos || 1);
    metrics.hit_recall = truePos / (truePos + falseNeg || 1);
    metrics.hit_f1 = (2 * truePos) / (2 * truePos + falsePos + falseNeg || 1);
    parts.push(metrics.hit_acc);
  }
  metrics.acc = parts.reduce((a, b) => a + b, 0) / parts.length;
  return metrics;
}

/**
 * Adds a clip's voice-marked tokens (truth.audioTokenVoices) to `tally`, and those whose likeliest voice in `logits`
 * ([T', 48] from the clip's first token) is one of their marked voices.
 */
function scoreVoices(logits: Float32Array, truth: FrameLabels, tally: { tokens: number; right: number }): void {
  const marks = truth.audioTokenVoices;
  for (let t = 0; t < marks.length / MAX_CLASSES; t++) {
    const row = marks.subarray(t * MAX_CLASSES, (t + 1) * MAX_CLASSES);
    if (!row.some((x) => x > 0)) continue;
    const read = logits.subarray(t * MAX_CLASSES, (t + 1) * MAX_CLASSES);
    const top = read.reduce((best, x, v) => (x > read[best] ? v : best), 0);
    tally.tokens++;
    tally.right += +(row[top] > 0);
  }
}

/** Stage-1 evaluation for the trainer. */
export async function evaluateEncoders<D extends TaskData & { examples: AvqaExamples }>(
  ctx: EvalContext<FavorConfig, D>,
) {
  const ex = ctx.data.examples;
  const metrics = await scoreFrames(
    (f) => ctx.predictor.run(f),
    ex,
    ctx.indices.map((i) => ex.questions[i]),
    ctx.batchSize,
  );
  return { metrics };
}
