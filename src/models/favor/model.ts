/**
 * FAVOR (arXiv 2310.05863, favor_mult.md 1): fine-grained audio-visual joint tokens for a language model.
 *
 *   video [B, F, 3072] --patches [B, F, Nv, P]--visualEncoder--> [B, F, Nv, Dv] --+
 *   audio [B, 25F, M]   --audioEncoder---> [B, F, 25, Da] (--audioContext, audio_context.ts)
 *                                                           +-- sync 'frame': pad to S slots, join features
 *                                                           |     -> [B, F, S, Dv+Da] -> windowed causal Q-Former
 *                                                           |        (+ a learned embedding per frame: framePos)
 *                                                           |     -> [B*W, Q, Dv+Da] -> proj -> [B, W*Q, Dlm]
 *                                                           +-- sync 'window' | 'none' (Video-LLaMA style): a visual
 *                                                                 and an audio Q-Former per window -> [B, 2*W*Q, Dlm]
 *   countTokens: the query head (query_aux.ts) reads the queries -> per-frame sounds (+ hits), 0/1 ('frames') or
 *     counted ('onsets'), or a head on the 50 Hz audio tokens counts the impacts ('audio': its rates, or with
 *     countPeaks its peaks) -> summed over the clip
 *     -> one token per label after the AV tokens [B, W*Q + C, Dlm] (count_tokens.ts)
 *   countAsked: the question's sound words keep only their count tokens, and 'copy' adds their counts to the number
 *     words' logits through a learned gate ('point': a learned pick of the sound where the question names none;
 *     count_asked.ts); countObjects: where it names an object and no sound, that object's count is copied instead,
 *     its bound sound's impacts or its hit frames (count_objects.ts, object_answers.ts); objectAnswers: the hit
 *     head's frames and the counter's impacts answer which named object hit first, which object makes a named sound,
 *     which made the sound at a named time, what an object sounds like and which of two sounds came first, copied
 *     onto the colour, shape, sound and yes/no words (object_answers.ts); visualAnswers: the stage-1 visual head's
 *     calls answer which colour, which shape and how many objects (visual_answers.ts)
 *   frameMask [B, F]: padded frames get no attention in the Q-Former, padded windows none in the LM
 *   text [B, Lt] (question [SEP] answer [EOS]) --languageModel([AV tokens][text])--> logits [B, Lt, V]
 *   loss = CE(answer and [EOS] positions) + diversity * mean pairwise cosine of each real window's queries
 *          (+ answerAux * CE of a classifier reading the AV tokens directly, aux.ts)
 *          (+ queryAux * BCE of a head reading each window's queries against its frames' labels, query_aux.ts;
 *             + queryHits * the same head's BCE against which objects hit the wall in each frame)
 *          (+ queryAux * Poisson NLL of the audio counting head's impacts per frame, countTokens 'audio')
 *          (+ lmAux * Poisson NLL of a head on the LM's answer-position states against each sound's frame count, lm_aux.ts)
 */
import { type Graph, type Scope, type Tensor, concat, init } from '../../engine/index.js';
import { ConfigError } from '../../util/errors.js';
import { crossEntropyLoss, linear, type QFormerLayerResult } from '../../nn/index.js';
import { AUDIO_PER_FRAME, FRAME_SIZE, MEL_BANDS, type FavorConfig, frameValues } from './config.js';
import { type AnswerAuxInputs, answerAuxLoss } from './aux.js';
import { audioContext } from './audio_context.js';
import { audioEncoder, pixelFeatures, synchronize, visualEncoder } from './encoders.js';
import { languageModel } from './lm.js';
import { lmAuxLoss } from './lm_aux.js';
import { maskedDiversityLoss, windowedQFormer } from './qformer.js';
import { type FrameLabelInputs, type FrameStreams, frameAuxLoss } from './frame_aux.js';
import { seedEncoders } from './encoder_init.js';
import { queryAuxLoss, queryFrameLogits, queryHeadCounts, queryHeadOutputs } from './query_aux.js';
import {
  type CountWordIds,
  type CountWords,
  audioPeaks,
  audioTokenRates,
  countLosses,
  countTokenCount,
  countTokens,
} from './count_tokens.js';
import { askedCountValid, askedIds, countCopyLogits, namedSounds } from './count_asked.js';
import { namedLooks, objectHitFrames } from './count_objects.js';
import { type EventWordIds, eventAnswers } from './event_answers.js';
import { bindSounds, namedSeconds, objectAnswerLogits, objectCounts, soundPositions } from './object_answers.js';
import { convStem } from './stem.js';
import { voiceImpacts, voiceLogits, voiceObjectCounts } from './voices.js';
import { type VisualAnswers, lookTokens, visualAnswers } from './visual_answers.js';

export interface AvInputs {
  video: Tensor; // [B, F, S*S*3] raw frames of S px (y, x, channel)
  audio: Tensor; // [B, 25F, M]
  frameMask: Tensor; // [B, F]
}

export interface AvTokens {
  tokens: Tensor; // [B, M, Dlm]
  valid: Tensor; // [B, M] float 0/1
  diversity: Tensor; // []
  windows: number;
  qformer: QFormerLayerResult['weights'][];
  /** Each Q-Former's output queries [B*W, Q, Di] before the projection (the query supervision reads them). */
  windowQueries: Tensor[];
  /** The encoders' outputs before synchronization (padded to whole windows), for the per-frame supervision. */
  streams: FrameStreams;
  /** The query head's per-frame logits [B, F', 73 (+69) (+4 (+69))] when the count tokens are read off it. */
  frameLogits?: Tensor;
  /** The clip counts the count tokens encode [B, C] (model.countTokens). */
  counts?: Tensor;
  /** The audio counting head's rates summed per frame [B, F', 4] (model.countTokens 'audio'; what its loss reads). */
  onsetRates?: Tensor;
  /** Each look's wall hits per frame, 0/1, by the stage-1 hit head [B, F', 54] (model.countObjects). */
  hitFrames?: Tensor;
  /** Each look's calls per visual token, 0/1, by the stage-1 visual head [B, F', Nv, 54] (model.visualAnswers). */
  lookCalls?: Tensor;
  /** What the count tokens sum, per frame [B, F', C] (the counter's impacts with countTokens 'audio'). */
  countFrames?: Tensor;
  /** The counter's impacts per voice per frame, real frames only [B, F', 48] (model.voiceCounts, voices.ts). */
  voiceFrames?: Tensor;
}

/** Declares the AV inputs of a graph for `frames` frames of `size` px. */
export function avInputs(g: Graph, batch: number, frames: number, size = FRAME_SIZE): AvInputs {
  return {
    video: g.input('video', 'float32', [batch, frames, frameValues(size)]),
    audio: g.input('audio', 'float32', [batch, frames * AUDIO_PER_FRAME, MEL_BANDS]),
    frameMask: g.input('frame_mask', 'float32', [batch, frames]),
  };
}

/** [B*W, Q, D] queries -> [B, W*Q, Dlm] (and the validity of each token from its window's). */
function toLm(
  p: Scope,
  q: Tensor,
  windowValid: Tensor,
  b: number,
  cfg: FavorConfig,
): { tokens: Tensor; valid: Tensor } {
  const [bw, nq] = q.shape as number[];
  const tokens = linear(p, q, cfg.lmDim).reshape([b, (bw / b) * nq, cfg.lmDim]); // [B, W*Q, Dlm]
  const valid = windowValid
    .reshape([bw, 1])
    .expand([bw, nq])
    .reshape([b, (bw / b) * nq]); // [B, W*Q]
  return { tokens, valid };
}

/** Frames [B, F, 32*32*C] -> patches [B, F, Nv, p*p*C] (patch-major, then y, x, channel as in docs/avqa.md). */
export function patchify(video: Tensor, patch: number, channels = 3): Tensor {
  const [b, f] = video.shape as number[];
  const n = FRAME_SIZE / patch;
  return video
    .reshape([b, f, n, patch, n, patch, channels])
    .transpose([0, 1, 2, 4, 3, 5, 6])
    .reshape([b, f, n * n, patch * patch * channels]);
}

/** Zero-pads the inputs in time to a whole number of windows (padded frames are masked). */
function padToWindows(x: AvInputs, window: number): AvInputs {
  const f = x.frameMask.shape[1] as number;
  const extra = Math.ceil(f / window) * window - f;
  if (!extra) return x;
  return {
    video: x.video.pad([0, 0, 0, 0, extra, 0]), // [B, F', 3072]
    audio: x.audio.pad([0, 0, 0, 0, extra * AUDIO_PER_FRAME, 0]), // [B, 25F', M]
    frameMask: x.frameMask.pad([0, 0, 0, extra]), // [B, F']
  };
}

/** The two stream encoders (under `p` = the 'encoder' scope): inputs padded to whole windows -> per-frame tokens. */
export function encodeStreams(p: Scope, inputs: AvInputs, cfg: FavorConfig): FrameStreams {
  seedEncoders(p, cfg);
  const x = padToWindows(inputs, cfg.window);
  let patches: Tensor; // [B, F, Nv, values per token]
  if (cfg.visualStem === 'conv')
    patches = convStem(
      p.scope('visual.stem'),
      x.video,
      cfg.stemDim,
      cfg.patch,
      cfg.frameSize,
      cfg.stemPool,
      cfg.frameContext,
    );
  else {
    const pixels = cfg.pixelDim > 0 ? pixelFeatures(p.scope('visual.pixel'), x.video, cfg.pixelDim) : x.video; // [B, F, 1024*C]
    patches = patchify(pixels, cfg.patch, cfg.pixelDim || 3); // [B, F, Nv, p*p*C]
  }
  const visual = visualEncoder(p.scope('visual'), patches, cfg); // [B, F, Nv, Dv]
  const audio = audioEncoder(p.scope('audio'), x.audio, cfg); // [B, F, 25, Da]
  return { visual, audio, frameMask: x.frameMask };
}

/**
 * What the AV encoder reads: frames + audio, or the stream encoders' outputs already computed (frozen encoders run
 * once per clip, encoder_cache.ts).
 */
export type AvSource = AvInputs | FrameStreams;

/** The audio-visual encoder: frames + audio (or their encoded streams) -> the joint tokens the language model reads. */
export function favorEncode(p: Scope, x: AvSource, cfg: FavorConfig, words?: CountWords): AvTokens {
  const av = windowTokens(p, x, cfg);
  if (!countTokenCount(cfg)) return av;
  const frameMask = av.streams.frameMask;
  let frameLogits: Tensor | undefined;
  let perFrame: Tensor; // [B, F', C] what the count tokens sum
  let onsetRates: Tensor | undefined;
  let voiceFrames: Tensor | undefined;
  if (cfg.countTokens === 'audio') {
    const rates = audioTokenRates(p.scope('count_head'), av.streams.audio); // [B, F', 25, 4]
    onsetRates = rates.sum([2]); // [B, F', 4]
    const peaks = cfg.countPeaks > 0 ? audioPeaks(rates, cfg.countPeaks) : undefined; // [B, F', 25, 4]
    perFrame = peaks ? peaks.sum([2]) : onsetRates; // [B, F', 4]
    if (cfg.voiceCounts && peaks) {
      const real = peaks.mul(frameMask.unsqueeze([2, 3])); // [B, F', 25, 4]
      voiceFrames = voiceImpacts(voiceLogits(p.scope('voice_head'), av.streams.audio), real); // [B, F', 48]
    }
  } else {
    // The query head sits in the encoder here (encoder.query_head), since the tokens depend on it; otherwise it is
    // a training-only head at the root (query_aux), as in earlier runs.
    const head = queryHeadOutputs(cfg);
    frameLogits = queryFrameLogits(p.scope('query_head'), av.windowQueries, frameMask, cfg, head); // [B, F', ...]
    perFrame = queryHeadCounts(frameLogits, head, cfg.countTokens === 'onsets' ? 'onsets' : 'frames'); // [B, F', C]
  }
  if (cfg.countWords && !words)
    throw new ConfigError("model.countWords: the graph was built without the LM's embedding and the count words' ids", {
      field: 'model.countWords',
    });
  const counted = countTokens(p.scope('count'), perFrame, frameMask, cfg.lmDim, words); // [B, C, Dlm]
  const [b, c] = counted.tokens.shape as number[];
  const ones = av.tokens.graph.constant({ dtype: 'float32', shape: [b, c], data: new Float32Array(b * c).fill(1) });
  return {
    ...av,
    tokens: concat([av.tokens, counted.tokens], 1), // [B, W*Q + C, Dlm]
    valid: concat([av.valid, ones], 1), // [B, W*Q + C]
    frameLogits,
    counts: counted.counts,
    onsetRates,
    countFrames: perFrame,
    ...(voiceFrames ? { voiceFrames } : {}),
    ...(cfg.countObjects ? { hitFrames: objectHitFrames(p.scope('hit_head'), av.streams.visual, frameMask) } : {}),
    ...(cfg.visualAnswers ? { lookCalls: lookTokens(p.scope('look_head'), av.streams.visual, frameMask) } : {}),
  };
}

/** The windowed part of the encoder: the Q-Former's queries of each window, projected to the LM's width. */
function windowTokens(p: Scope, x: AvSource, cfg: FavorConfig): AvTokens {
  const streams = 'video' in x ? encodeStreams(p, x, cfg) : x;
  const { visual, frameMask } = streams;
  const audio = audioContext(p.scope('audio_context'), streams.audio, cfg); // [B, F, 25, Da]
  const b = visual.shape[0] as number;
  if (cfg.sync === 'frame') {
    const joint = synchronize(visual, audio); // [B, F, S, Dv+Da]
    const w = windowedQFormer(p.scope('qformer'), joint, frameMask, cfg); // [B*W, Q, Dv+Da]
    const lm = toLm(p.scope('proj'), w.queries, w.windowValid, b, cfg); // [B, W*Q, Dlm]
    const diversity = maskedDiversityLoss(w.queries, w.windowValid);
    return { ...lm, diversity, windows: w.windows, qformer: w.weights, windowQueries: [w.queries], streams };
  }
  const wv = windowedQFormer(p.scope('qformer'), visual, frameMask, cfg); // [B*W, Q, Dv]
  const wa = windowedQFormer(p.scope('audio_qformer'), audio, frameMask, cfg); // [B*W, Q, Da]
  const v = toLm(p.scope('proj'), wv.queries, wv.windowValid, b, cfg); // [B, W*Q, Dlm]
  const a = toLm(p.scope('audio_proj'), wa.queries, wa.windowValid, b, cfg); // [B, W*Q, Dlm]
  const diversity = maskedDiversityLoss(wv.queries, wv.windowValid)
    .add(maskedDiversityLoss(wa.queries, wa.windowValid))
    .mul(0.5);
  const W = wv.windows;
  const dim = cfg.lmDim;
  const interleave = (t: Tensor) => t.reshape([b, W, cfg.queries, -1]); // [B, W, Q, ...]
  const [tokens, valid] =
    cfg.sync === 'window'
      ? [
          concat([interleave(v.tokens), interleave(a.tokens)], 2).reshape([b, 2 * W * cfg.queries, dim]),
          concat([interleave(v.valid.unsqueeze([2])), interleave(a.valid.unsqueeze([2]))], 2).reshape([
            b,
            2 * W * cfg.queries,
          ]),
        ]
      : [concat([v.tokens, a.tokens], 1), concat([v.valid, a.valid], 1)]; // [B, 2*W*Q, Dlm], [B, 2*W*Q]
  return {
    tokens,
    valid,
    diversity,
    windows: W,
    qformer: wv.weights,
    windowQueries: [wv.queries, wa.queries],
    streams,
  };
}

/** Window index of each AV token the language model reads (for per-window attention; -1: a clip-wide count token). */
export function avTokenWindows(windows: number, cfg: FavorConfig): number[] {
  if (cfg.questionOnly) return [];
  const q = cfg.queries;
  const n = windows * q * (cfg.sync === 'frame' ? 1 : 2);
  const windowOf: (i: number) => number =
    cfg.sync === 'frame'
      ? (i) => Math.floor(i / q)
      : cfg.sync === 'window'
        ? (i) => Math.floor(i / (2 * q)) // each window's visual, then its audio queries
        : (i) => Math.floor((i % (windows * q)) / q); // all visual, then all audio queries
  return [...Array.from({ length: n }, (_, i) => windowOf(i)), ...new Array<number>(countTokenCount(cfg)).fill(-1)];
}

export interface FavorOutputs {
  logits: Tensor; // [B, Lt, V]
  avAttention?: Tensor; // [B, Lt, M]
  /** The LM's final normed hidden state at each text position (what its vocabulary head reads). */
  states: Tensor; // [B, Lt, Dlm]
  av?: AvTokens;
}

/**
 * The LM's word embedding (declared as languageModel declares it) and `ids`, for count tokens in the LM's word space
 * (model.countWords); undefined otherwise.
 */
export function countWordsOf(p: Scope, vocab: number, cfg: FavorConfig, ids?: CountWordIds): CountWords | undefined {
  if (!cfg.countWords) return undefined;
  if (!ids)
    throw new ConfigError("model.countWords needs the count words' ids of the vocabulary (countWordIds(tokenizer))", {
      field: 'model.countWords',
    });
  return { embed: p.scope('lm').param('embed', [vocab, cfg.lmDim], init.normal(0.02)), ids };
}

/** The looks a question names [B, 54] (model.countObjects), or a ConfigError when the vocabulary lacks their words. */
function namedObjects(text: Tensor, ids: CountWordIds): Tensor {
  if (!ids.looks)
    throw new ConfigError("model.countObjects needs the colour and shape words' ids of the vocabulary", {
      field: 'model.countObjects',
    });
  return namedLooks(text, ids.looks.colors, ids.looks.shapes); // [B, 54]
}

/** The event words' ids model.eventAnswers needs, or a ConfigError naming them. */
function eventIds(ids: CountWordIds): EventWordIds {
  if (!ids.events)
    throw new ConfigError(
      "model.eventAnswers needs the words 'first', 'after', 'which' and 'heard' in the vocabulary",
      {
        field: 'model.eventAnswers',
      },
    );
  return ids.events;
}

/** What the stage-1 visual head answers about the screen (model.visualAnswers), or a ConfigError naming its words. */
function onScreen(av: AvTokens, text: Tensor, ids: CountWordIds): VisualAnswers {
  if (!ids.scene || !ids.looks)
    throw new ConfigError("model.visualAnswers needs the words 'color', 'shape', 'objects' and the look words", {
      field: 'model.visualAnswers',
    });
  return visualAnswers(av.lookCalls!, av.streams.frameMask, text, ids.scene, ids.looks);
}

/**
 * The whole model: AV inputs + text -> next-token logits (and the LM's attention over the AV tokens). `wordIds`: the
 * vocabulary's count words, for model.countWords.
 */
export function favor(
  p: Scope,
  x: AvSource,
  text: Tensor,
  vocab: number,
  cfg: FavorConfig,
  wordIds?: CountWordIds,
): FavorOutputs {
  const av = cfg.questionOnly
    ? undefined
    : favorEncode(p.scope('encoder'), x, cfg, countWordsOf(p, vocab, cfg, wordIds));
  if (!av?.counts || cfg.countAsked === 'off') {
    const lm = languageModel(p.scope('lm'), av?.tokens, av?.valid, text, vocab, cfg);
    return { ...lm, av };
  }
  const ids = askedIds(wordIds);
  const named = namedSounds(text, ids.sounds); // [B, 4]
  const c = av.counts.shape[1] as number;
  const m = av.valid.shape[1] as number;
  const valid = concat([av.valid.slice([0], [m - c], [1]), askedCountValid(named, c)], 1); // [B, M]
  const lm = languageModel(p.scope('lm'), av.tokens, valid, text, vocab, cfg);
  if (cfg.countAsked === 'mask') return { ...lm, av };
  const point = cfg.countAsked === 'point';
  const looks = cfg.countObjects ? namedObjects(text, ids) : undefined; // [B, 54]
  const bound = cfg.countObjects ? bindSounds(av.hitFrames!, av.countFrames!, av.streams.frameMask) : undefined;
  const counts =
    bound &&
    (av.voiceFrames
      ? voiceObjectCounts(bound, av.voiceFrames, av.streams.frameMask)
      : objectCounts(bound, cfg.splitSounds)); // [B, 54]
  const objects = counts && looks ? { counts, named: looks } : undefined; // [B, 54] each
  const visual = cfg.visualAnswers ? onScreen(av, text, ids) : undefined;
  const scene = visual && { count: visual.count, on: visual.onCount }; // [B, 1] each
  const copy = countCopyLogits(
    p.scope('lm.count_copy'),
    lm.states,
    av.counts,
    named,
    ids,
    vocab,
    point,
    objects,
    scene,
  ); // [B, Lt, V]
  if (!cfg.objectAnswers) return { ...lm, logits: lm.logits.add(copy), av };
  if (!ids.times || !ids.yesNo)
    throw new ConfigError("model.objectAnswers needs the time and yes/no words' ids of the vocabulary", {
      field: 'model.objectAnswers',
    });
  const evidence = {
    ...bound!,
    sounds: named,
    looks: looks!,
    soundAt: soundPositions(text, ids.sounds),
    ...namedSeconds(text, ids.times, vocab),
  };
  const events = cfg.eventAnswers ? eventAnswers(evidence, text, eventIds(ids)) : undefined;
  const answers = objectAnswerLogits(
    p.scope('lm.object_answers'),
    lm.states,
    text,
    evidence,
    ids,
    vocab,
    visual,
    events,
  ); // [B, Lt, V]
  return { ...lm, logits: lm.logits.add(copy).add(answers), av };
}

/**
 * Training loss: cross-entropy on the answer and [EOS] positions (`targetMask`) + diversity * the diversity loss
 * (+ answerAux * the auxiliary classifier's loss when `aux` is given; + the per-frame losses when `frameLabels` is).
 */
export function favorLoss(
  p: Scope,
  x: AvSource,
  text: Tensor,
  target: Tensor,
  targetMask: Tensor,
  vocab: number,
  cfg: FavorConfig,
  aux?: { inputs: AnswerAuxInputs; classes: number },
  frameLabels?: FrameLabelInputs,
  wordIds?: CountWordIds,
): { loss: Tensor; metrics: Record<string, Tensor> } {
  const out = favor(p, x, text, vocab, cfg, wordIds);
  const ce = crossEntropyLoss(out.logits, target, { valid: targetMask }); // []
  const metrics: Record<string, Tensor> = { answer_ce: ce };
  if (!out.av) return { loss: ce, metrics };
  let loss = ce;
  if (cfg.diversity > 0) {
    metrics.diversity = out.av.diversity;
    loss = loss.add(out.av.diversity.mul(cfg.diversity));
  }
  if (aux && cfg.answerAux > 0) {
    metrics.aux_ce = answerAuxLoss(p.scope('aux'), p.scope('lm'), out.av, aux.inputs, vocab, aux.classes, cfg);
    loss = loss.add(metrics.aux_ce.mul(cfg.answerAux));
  }
  if (frameLabels && (cfg.frameAux > 0 || cfg.frameProbe)) {
    const f = frameAuxLoss(p.scope('frame_aux'), out.av.streams, frameLabels, cfg);
    Object.assign(metrics, f.metrics);
    loss = loss.add(f.loss);
  }
  if (frameLabels && cfg.queryAux > 0) {
    const mask = out.av.streams.frameMask;
    const head = queryHeadOutputs(cfg);
    const logits = out.av.frameLogits ?? queryFrameLogits(p.scope('query_aux'), out.av.windowQueries, mask, cfg, head);
    const q = queryAuxLoss(logits, mask, frameLabels, head);
    Object.assign(metrics, q.metrics);
    loss = loss.add(q.loss.mul(cfg.queryAux));
    if (q.hits) loss = loss.add(q.hits.mul(cfg.queryHits));
  }
  if (frameLabels?.audioOnsets && out.av.onsetRates) {
    const counted = countLosses(out.av.onsetRates, frameLabels.audioOnsets, out.av.streams.frameMask);
    metrics.count_onset_nll = counted.nll;
    metrics.count_acc = counted.acc;
    loss = loss.add(counted.nll.mul(cfg.queryAux));
  }
  if (frameLabels && cfg.lmAux > 0) {
    metrics.lm_aux_nll = lmAuxLoss(p.scope('lm_aux'), out.states, targetMask, frameLabels.audio);
    loss = loss.add(metrics.lm_aux_nll.mul(cfg.lmAux));
  }
  return { loss, metrics };
}
