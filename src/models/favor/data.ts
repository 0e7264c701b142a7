/**
 * AVQA examples for FAVOR: questions from src/data/avqa, their streams rendered once into memory (the visual patches
 * once per scene, the log-mel once per audio variant), and fixed-shape batches: every clip padded to the longest
 * clip the settings allow (a whole number of windows) with a frame mask, and the text as
 * question [SEP] answer [EOS], right-padded, with next-token targets on the answer and [EOS] positions only, a mask
 * of the question words and the answer's class in AVQA's closed answer set (for the auxiliary classifier).
 */
import {
  FRAME_VISUAL,
  FRAME_SOUNDS,
  type FrameLabels,
  frameLabels,
  tokenLabels,
  type AvqaConfig,
  type AvqaQuestion,
  type AvqaStreams,
  type WordTokenizer,
  avqaAnswers,
  avqaConfig,
  avqaStreams,
  avqaTokenizer,
  generateAvqa,
} from '../../data/avqa/index.js';
import { MAX_CLASSES } from '../../data/synth/classes.js';
import { type HostArray, hostArray } from '../../io/array.js';
import { InputError, ShapeError } from '../../util/errors.js';
import { AUDIO_PER_FRAME, FRAME_SIZE, MEL_BANDS, frameValues } from './config.js';

/** A clip as the model reads it: frames [frames, S*S*3] (S = 32 or 64 px) and log-mel [25 * frames, 64]. */
export interface ClipStreams {
  frames: number;
  video: Float32Array;
  audio: Float32Array;
}

export interface AvqaExamples {
  config: AvqaConfig;
  questions: AvqaQuestion[];
  tokenizer: WordTokenizer;
  /** Frames every batch is padded to (the longest clip the settings allow, at 2 Hz). */
  frames: number;
  /** Side of the rendered frames in px (the model's frameSize). */
  frameSize: number;
  /** Text length every batch is padded to: the longest question [SEP] answer (without [EOS]) plus 1. */
  textLen: number;
  clip(q: AvqaQuestion): ClipStreams;
  /** AVQA's closed answer set (avqaAnswers): the classes of the auxiliary answer classifier. */
  answers: string[];
  /** Per-frame ground truth of the clip (looks on screen, sounds hit) for the encoders' supervision. */
  labels(q: AvqaQuestion): FrameLabels;
  /** Per-token visual labels [F, grid², 69] of the clip's scene (tokenLabels; computed on first use, kept per scene). */
  tokenLabels(q: AvqaQuestion, grid: number): Float32Array;
}

/** A question's clip: its scene and the audio it is asked over (own, shifted or foil). */
export const clipKey = (q: Pick<AvqaQuestion, 'index' | 'audio'>): string =>
  `${q.index}|${q.audio?.offset ?? ''}|${q.audio?.foil ?? ''}`;

/** Examples already rendered in this process, by settings: ablation and seed runs share one rendering. */
const rendered = new Map<string, AvqaExamples>();

/** How loadAvqaExamples renders and which questions it asks, beyond the generator's config. */
export interface AvqaExampleOptions {
  /** Progress per rendered clip. */
  progress?: (done: number, total: number) => void;
  /** Frame side in pixels (default FRAME_SIZE). */
  frameSize?: number;
  /** Val and test ask what `perFamily` = this would ask of the same scenes (null: as the config). */
  heldOutPerFamily?: number | null;
  /** Train questions balanced with this tolerance instead of the config's; val and test keep the config's (null: as the config). */
  trainTolerance?: number | null;
}

/**
 * Renders the streams of every question's clip once per process (progress per rendered clip). With
 * `heldOutPerFamily` the val and test questions are those the generator asks with `perFamily` = that number (the
 * same scenes; train keeps the config's): a run trained on more questions per scene is then scored on exactly the
 * held-out questions of a run with fewer. Taking a subset of the config's own questions instead would not do: the
 * answer balancer orders a scene's questions, so its first question per family leans to the rarer answer.
 * `trainTolerance` loosens the balance of the train questions only, so the count templates, whose answers 0-12 are
 * rare at both ends, are asked of more scenes while val and test stay as balanced as before (docs/favor.md, session 14).
 */
export function loadAvqaExamples(
  config: Partial<AvqaConfig>,
  scenes: number,
  { progress, frameSize = FRAME_SIZE, heldOutPerFamily = null, trainTolerance = null }: AvqaExampleOptions = {},
): AvqaExamples {
  const cfg = avqaConfig(config);
  const heldOut = heldOutPerFamily === cfg.perFamily ? null : heldOutPerFamily;
  const looser = trainTolerance === cfg.tolerance ? null : trainTolerance;
  const key = JSON.stringify([cfg, scenes, frameSize, heldOut, looser]);
  const known = rendered.get(key);
  if (known) return known;
  const ex = renderExamples(cfg, scenes, frameSize, sceneQuestionSets(cfg, scenes, heldOut, looser), progress);
  rendered.set(key, ex);
  return ex;
}

/**
 * The config's questions, with val and test asked as `perFamily = heldOut` would ask them and train balanced with
 * `trainTolerance` (null: as the config).
 */
function sceneQuestionSets(
  cfg: AvqaConfig,
  scenes: number,
  heldOut: number | null,
  trainTolerance: number | null,
): AvqaQuestion[] {
  const trainCfg = trainTolerance === null ? cfg : { ...cfg, tolerance: trainTolerance };
  const { questions } = generateAvqa(trainCfg, scenes);
  if (heldOut === null && trainTolerance === null) return questions;
  const evalQuestions = generateAvqa({ ...cfg, perFamily: heldOut ?? cfg.perFamily }, scenes).questions;
  return [...questions.filter((q) => q.split === 'train'), ...evalQuestions.filter((q) => q.split !== 'train')];
}

function renderExamples(
  cfg: AvqaConfig,
  scenes: number,
  frameSize: number,
  questions: AvqaQuestion[],
  progress?: (done: number, total: number) => void,
): AvqaExamples {
  const opts = { size: frameSize, nMels: MEL_BANDS };
  const videos = new Map<number, Float32Array>();
  const audios = new Map<string, Float32Array>();
  const labels = new Map<string, FrameLabels>();
  const keys = [...new Set(questions.map(clipKey))];
  let done = 0;
  for (const q of questions) {
    const key = clipKey(q);
    if (audios.has(key)) continue;
    const s: AvqaStreams = avqaStreams(cfg, q.index, q.audio ?? {}, opts);
    if (!videos.has(q.index)) videos.set(q.index, s.video.data as Float32Array);
    audios.set(key, s.audio.data as Float32Array);
    labels.set(key, frameLabels(cfg, q.index, q.audio ?? {}));
    progress?.(++done, keys.length);
  }
  const tokens = new Map<string, Float32Array>();
  const tokenizer = avqaTokenizer(cfg);
  const textLen = Math.max(
    ...questions.map(
      (q) => promptIds(tokenizer, q.question).length + tokenizer.encode(q.answer, { addSpecial: false }).ids.length,
    ),
  );
  return {
    config: cfg,
    questions,
    tokenizer,
    frames: Math.ceil(2 * cfg.maxDuration),
    frameSize,
    textLen,
    answers: avqaAnswers(cfg),
    clip: (q) => {
      const video = videos.get(q.index);
      const audio = audios.get(clipKey(q));
      if (!video || !audio) throw new InputError(`no streams for question ${q.id}`, { field: 'question', got: q.id });
      return { frames: video.length / frameValues(frameSize), video, audio };
    },
    labels: (q) => {
      const l = labels.get(clipKey(q));
      if (!l) throw new InputError(`no frame labels for question ${q.id}`, { field: 'question', got: q.id });
      return l;
    },
    tokenLabels: (q, grid) => {
      const key = `${q.index}|${grid}`;
      const known = tokens.get(key);
      if (known) return known;
      const made = tokenLabels(cfg, q.index, grid);
      tokens.set(key, made);
      return made;
    },
  };
}

/** Streams from a decoded file or any other source: frames [F, S*S*3], log-mel [>= 25F, 64] (both cut to the shorter). */
export function clipFromStreams(video: Float32Array, audio: Float32Array, size = FRAME_SIZE): ClipStreams {
  const perFrame = frameValues(size);
  const frames = Math.min(
    Math.floor(video.length / perFrame),
    Math.floor(audio.length / (MEL_BANDS * AUDIO_PER_FRAME)),
  );
  return {
    frames,
    video: video.subarray(0, frames * perFrame),
    audio: audio.subarray(0, frames * AUDIO_PER_FRAME * MEL_BANDS),
  };
}

/** video [B, F, S*S*3], audio [B, 25F, 64], frame_mask [B, F] for clips of `size` px padded (or cut) to `frames`. */
export function avBatch(clips: readonly ClipStreams[], frames: number, size = FRAME_SIZE): Record<string, HostArray> {
  const b = clips.length;
  const perFrame = frameValues(size);
  for (const c of clips)
    if (c.video.length !== c.frames * perFrame)
      throw new ShapeError(
        `a clip of ${c.frames} frames holds ${c.video.length} values, not ${c.frames} x ${size} px`,
        {
          op: 'avBatch',
          expected: c.frames * perFrame,
          got: c.video.length,
        },
      );
  const perAudio = AUDIO_PER_FRAME * MEL_BANDS;
  const video = new Float32Array(b * frames * perFrame);
  const audio = new Float32Array(b * frames * perAudio);
  clips.forEach((c, i) => {
    const n = Math.min(c.frames, frames);
    video.set(c.video.subarray(0, n * perFrame), i * frames * perFrame);
    audio.set(c.audio.subarray(0, n * perAudio), i * frames * perAudio);
  });
  return {
    video: hostArray('float32', [b, frames, perFrame], video),
    audio: hostArray('float32', [b, frames * AUDIO_PER_FRAME, MEL_BANDS], audio),
    frame_mask: frameMaskBatch(
      clips.map((c) => c.frames),
      frames,
    ),
  };
}

/** frame_mask [B, F]: 1 on each clip's real frames (clips of `lengths` frames padded or cut to `frames`). */
export function frameMaskBatch(lengths: readonly number[], frames: number): HostArray {
  const mask = new Float32Array(lengths.length * frames);
  lengths.forEach((n, i) => mask.fill(1, i * frames, i * frames + Math.min(n, frames)));
  return hostArray('float32', [lengths.length, frames], mask);
}

/** question [SEP] ids (no [BOS]: the AV tokens come first). */
export function promptIds(tok: WordTokenizer, question: string): number[] {
  return [...tok.encode(question, { addSpecial: false }).ids, tok.id('[SEP]')];
}

/** Teacher-forced text: text [B, Lt], target [B, Lt] (text shifted left), target_mask on the answer and [EOS] only. */
export function textBatch(
  tok: WordTokenizer,
  items: readonly { question: string; answer: string }[],
  textLen: number,
): Record<string, HostArray> {
  const b = items.length;
  const text = new BigInt64Array(b * textLen).fill(BigInt(tok.padId));
  const target = new BigInt64Array(b * textLen).fill(BigInt(tok.padId));
  const mask = new Float32Array(b * textLen);
  const question = new Float32Array(b * textLen);
  items.forEach((it, i) => {
    const prompt = promptIds(tok, it.question);
    question.fill(1, i * textLen, i * textLen + Math.min(prompt.length - 1, textLen));
    const seq = [...prompt, ...tok.encode(it.answer, { addSpecial: false }).ids, tok.id('[EOS]')];
    if (seq.length > textLen + 1)
      throw new InputError(
        `question and answer take ${seq.length} tokens, more than model.textLen + 1 = ${textLen + 1}: "${it.question}"`,
        { field: 'model.textLen', got: seq.length },
      );
    for (let t = 0; t < Math.min(seq.length, textLen); t++) text[i * textLen + t] = BigInt(seq[t]);
    for (let t = prompt.length - 1; t < seq.length - 1; t++) {
      target[i * textLen + t] = BigInt(seq[t + 1]);
      mask[i * textLen + t] = 1;
    }
  });
  return {
    text: hostArray('int64', [b, textLen], text),
    target: hostArray('int64', [b, textLen], target),
    target_mask: hostArray('float32', [b, textLen], mask),
    question_mask: hostArray('float32', [b, textLen], question),
  };
}

/** answer_class [B] int64: each answer's index in `answers` (the auxiliary classifier's targets). */
export function answerClassBatch(answers: readonly string[], items: readonly { answer: string }[]): HostArray {
  const ids = items.map((it) => {
    const k = answers.indexOf(it.answer);
    if (k < 0)
      throw new InputError(`answer "${it.answer}" is not in AVQA's answer set`, { field: 'answer', got: it.answer });
    return BigInt(k);
  });
  return hostArray('int64', [items.length], BigInt64Array.from(ids));
}

/**
 * frame_visual [B, F, 69], frame_audio [B, F, 4], frame_hits [B, F, 69], the counted frame_audio_onsets [B, F, 4],
 * frame_hit_onsets [B, F, 69], frame_audio_token_onsets [B, F, 25, 4] and frame_audio_token_voices [B, F, 25, 48]
 * (per 50 Hz token): labels padded (or cut) to `frames` with 0.
 */
export function frameLabelBatch(items: readonly FrameLabels[], frames: number): Record<string, HostArray> {
  type Key = 'visual' | 'audio' | 'hits' | 'audioOnsets' | 'hitOnsets' | 'audioTokenOnsets' | 'audioTokenVoices';
  const part = (key: Key, perFrame: number[]) => {
    const values = perFrame.reduce((a, b) => a * b, 1);
    const out = new Float32Array(items.length * frames * values);
    items.forEach((l, i) => out.set(l[key].subarray(0, Math.min(l.frames, frames) * values), i * frames * values));
    return hostArray('float32', [items.length, frames, ...perFrame], out);
  };
  return {
    frame_visual: part('visual', [FRAME_VISUAL]),
    frame_audio: part('audio', [FRAME_SOUNDS]),
    frame_hits: part('hits', [FRAME_VISUAL]),
    frame_audio_onsets: part('audioOnsets', [FRAME_SOUNDS]),
    frame_hit_onsets: part('hitOnsets', [FRAME_VISUAL]),
    frame_audio_token_onsets: part('audioTokenOnsets', [AUDIO_PER_FRAME, FRAME_SOUNDS]),
    frame_audio_token_voices: part('audioTokenVoices', [AUDIO_PER_FRAME, MAX_CLASSES]),
  };
}

/** frame_tokens [B, F, N, 69]: per-token visual labels ([F_i, N, 69] each) padded (or cut) to `frames` (padding 0). */
export function tokenLabelBatch(items: readonly Float32Array[], frames: number, tokens: number): HostArray {
  const per = tokens * FRAME_VISUAL;
  const out = new Float32Array(items.length * frames * per);
  items.forEach((l, i) => {
    if (l.length % per)
      throw new ShapeError(
        `per-token labels of ${l.length} values are not whole frames of ${tokens} x ${FRAME_VISUAL}`,
        {
          op: 'tokenLabelBatch',
          expected: per,
          got: l.length,
        },
      );
    out.set(l.subarray(0, Math.min(l.length, frames * per)), i * frames * per);
  });
  return hostArray('float32', [items.length, frames, tokens, FRAME_VISUAL], out);
}

/**
 * The clip mirrored left to right (frames [F, S*S*3], row-major y, x, channel; the audio shared, not copied). Every
 * AV-Synth shape is symmetric about its vertical axis, so a mirrored frame has the same labels: stage 1's `flip`
 * doubles the looks it sees (docs/favor.md, session 6).
 */
export function mirrorClip(clip: ClipStreams, size: number): ClipStreams {
  const video = new Float32Array(clip.video.length);
  const row = size * 3;
  for (let r = 0; r < clip.video.length / row; r++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++) video[r * row + x * 3 + c] = clip.video[r * row + (size - 1 - x) * 3 + c];
  return { ...clip, video };
}

/** Per-token labels [F, grid², C] of the mirrored frames: token (gy, gx) takes (gy, grid - 1 - gx)'s labels. */
export function mirrorTokenLabels(labels: Float32Array, grid: number): Float32Array {
  const out = new Float32Array(labels.length);
  for (let r = 0; r < labels.length / (grid * FRAME_VISUAL); r++)
    for (let gx = 0; gx < grid; gx++)
      out.set(
        labels.subarray((r * grid + grid - 1 - gx) * FRAME_VISUAL, (r * grid + grid - gx) * FRAME_VISUAL),
        (r * grid + gx) * FRAME_VISUAL,
      );
  return out;
}
