/**
 * Running a trained FAVOR model on a real file: decode through src/media (frames at 2 Hz, area-scaled to 32 px; mono
 * 16 kHz audio as the AVQA 50 Hz log-mel, the same preprocessing as the training streams), answer a question with
 * greedy or beam decoding and say how much the answer drew on each window; or hand out the joint tokens per window;
 * or export the audio-visual encoder as one self-contained ONNX graph (docs/favor.md "Encoder contract").
 */
import { avqaConfig, avqaLogMel, avqaTokenizer, type WordTokenizer } from '../../data/avqa/index.js';
import { Predictor, exportOnnx } from '../../engine/export.js';
import { ParamStore } from '../../engine/params.js';
import type { Graph, Scope, Tensor } from '../../engine/index.js';
import { type HostArray, hostArray } from '../../io/array.js';
import { decodeAudio } from '../../media/decode_audio.js';
import { decodeVideo } from '../../media/decode_video.js';
import { loadRun } from '../../train/files.js';
import { InputError } from '../../util/errors.js';
import { AUDIO_PER_FRAME, type FavorConfig, FRAME_SIZE, frameValues, MEL_BANDS } from './config.js';
import { avBatch, type ClipStreams, clipFromStreams, promptIds } from './data.js';
import { beamDecode, scoreAnswers } from './decode.js';
import { type Answered, answerBatch, answerDecoding, prefixFeed } from './evaluate.js';
import { avInputs, avTokenWindows, countWordsOf, favorEncode } from './model.js';
import { countWordIds } from './count_tokens.js';
import { FavorModelSchema, favorInferenceGraph } from './task.js';

export interface FavorModel {
  config: FavorConfig;
  tokenizer: WordTokenizer;
  weights: Record<string, HostArray>;
  source: string;
}

export function loadFavorModel(path: string): FavorModel {
  const run = loadRun(path, { tasks: ['favor'] });
  const parsed = FavorModelSchema.safeParse(run.config.model);
  if (!parsed.success)
    throw new InputError(
      `${run.dir}/config.json: model section is not a favor config: ${parsed.error.issues[0]?.message}`,
      { file: run.dir, field: 'model' },
    );
  if (parsed.data.stage === 'encoders')
    throw new InputError(
      `${run.dir}: a stage-1 run (the encoders alone) cannot answer or export tokens; train stage 2 from it with --set model.encoders=${run.dir}`,
      { file: run.dir, field: 'model.stage' },
    );
  const avqa = (run.config.data as { avqa?: Record<string, unknown> } | undefined)?.avqa ?? {};
  return {
    config: parsed.data as FavorConfig,
    tokenizer: avqaTokenizer(avqaConfig(avqa)),
    weights: run.params,
    source: run.weightsPath,
  };
}

/** Decodes a file into the model's streams: 2 Hz frames at `size` px (area; default 32) and 50 Hz log-mel from 16 kHz mono. */
export async function decodeClip(
  path: string,
  opts: { maxSeconds?: number; size?: number } = {},
): Promise<ClipStreams> {
  const range = opts.maxSeconds ? { duration: opts.maxSeconds } : {};
  const size = opts.size ?? FRAME_SIZE;
  const v = await decodeVideo(path, {
    fps: 2,
    width: size,
    height: size,
    resize: 'stretch',
    scaleFlags: 'area',
    pixelFormat: 'rgb',
    ...range,
  });
  const a = await decodeAudio(path, { sampleRate: 16000, channels: 'mono', ...range });
  if (!v.frameCount || !a.length) throw new InputError(`${path}: needs a video and an audio stream`, { file: path });
  const video = Float32Array.from(v.frames, (x) => x / 255);
  const mel = avqaLogMel(a.data.subarray(0, a.length), 16000, MEL_BANDS);
  return clipFromStreams(video, mel.data as Float32Array, size);
}

function predictor(model: FavorModel, build: (g: Graph, p: Scope) => Record<string, Tensor>): Promise<Predictor> {
  const store = new ParamStore(0);
  store.load(model.weights);
  return Predictor.create(build, store, { worker: false, session: { threads: 2 } });
}

export interface WindowAttention {
  start: number; // seconds
  end: number;
  /** Attention mass of the first answer token on the window's AV tokens (mean over heads, last LM block). */
  attention: number;
  /** Its share of the attention on all AV tokens. */
  share: number;
}

export interface AskResult {
  question: string;
  answer: string;
  /**
   * For a question that offers its answers ("the A or the B", offeredAnswers): each one's log-probability (scoreAnswers);
   * the answer is the likelier. Absent for other questions, or with options off.
   */
  options?: { answer: string; logProb: number }[];
  /** The decoder's own answer where options chose the answer (it may name neither). */
  decoded?: string;
  windows: WindowAttention[];
  frames: number;
  seconds: number;
}

interface AnswerSession {
  predictor: Predictor;
  av: Record<string, HostArray>;
  textLen: number;
  /** Greedy answers to every question, with the first answer token's attention per window. */
  greedy: () => Promise<Answered[]>;
}

/** The inference graph for clips of one length, each with its question, open while `use` runs. */
async function withAnswerSession<T>(
  model: FavorModel,
  clips: ClipStreams[],
  questions: string[],
  use: (s: AnswerSession) => Promise<T>,
): Promise<T> {
  const tok = model.tokenizer;
  const frames = clips[0].frames;
  const textLen = Math.max(...questions.map((q) => promptIds(tok, q).length)) + 3;
  const p = await predictor(model, (g, s) =>
    favorInferenceGraph(g, s, model.config, clips.length, frames, textLen, tok.vocabSize, undefined, countWordIds(tok)),
  );
  try {
    const av = avBatch(clips, frames, model.config.frameSize);
    const greedy = () => answerBatch((f) => p.run(f), tok, av, questions, frames, textLen, model.config);
    return await use({ predictor: p, av, textLen, greedy });
  } finally {
    await p.close();
  }
}

/**
 * The answers a question offers: "which hit the wall first, the red circle or the blue square?" -> ['red circle',
 * 'blue square'] (one or two words after each "the"), or null. Only options whose every word the vocabulary holds.
 */
export function offeredAnswers(question: string, tok: WordTokenizer): string[] | null {
  const m = /\bthe ([a-z]+(?: [a-z]+)?) or the ([a-z]+(?: [a-z]+)?)\s*\?*\s*$/i.exec(question.trim());
  if (!m) return null;
  const options = [m[1], m[2]].map((o) => o.toLowerCase());
  return options.every((o) => o.split(' ').every((w) => tok.has(w))) ? options : null;
}

/**
 * Answers one question about a clip (beam 1 = greedy). With `options` (default on) a question that offers its answers
 * (offeredAnswers) is answered by the likelier of them, so the answer names one of the objects asked about.
 */
export async function askClip(
  model: FavorModel,
  clip: ClipStreams,
  question: string,
  opts: { beam?: number; options?: boolean } = {},
): Promise<AskResult> {
  const t0 = performance.now();
  const tok = model.tokenizer;
  const frames = clip.frames;
  return withAnswerSession(model, [clip], [question], async ({ predictor: p, av, textLen, greedy }) => {
    const [first] = await greedy();
    let answer = first.answer;
    const next = async (prefixes: number[][]) =>
      Promise.all(
        prefixes.map(async (pre) => {
          const out = await p.run({ ...av, text: prefixFeed([pre], textLen, tok.padId) });
          const v = out.logits.shape[2];
          return (out.logits.data as Float32Array).slice((pre.length - 1) * v, pre.length * v);
        }),
      );
    if ((opts.beam ?? 1) > 1) {
      answer = tok.decode((await beamDecode(next, promptIds(tok, question), answerDecoding(tok, opts.beam))).ids);
    }
    const offered = (opts.options ?? true) ? offeredAnswers(question, tok) : null;
    let scored: AskResult['options'];
    let decoded: string | undefined;
    if (offered) {
      const logProbs = await scoreAnswers(
        next,
        promptIds(tok, question),
        offered.map((o) => [...tok.encode(o, { addSpecial: false }).ids]),
        answerDecoding(tok),
      );
      scored = offered.map((o, i) => ({ answer: o, logProb: logProbs[i] }));
      const best = scored.reduce((a, b) => (b.logProb > a.logProb ? b : a));
      decoded = answer;
      answer = best.answer;
    }
    const total = first.windows.reduce((a, b) => a + b, 0) || 1;
    const windows = first.windows.map((w, i) => ({
      start: (i * model.config.window) / 2,
      end: Math.min(frames, (i + 1) * model.config.window) / 2,
      attention: w,
      share: w / total,
    }));
    const extra = scored ? { options: scored, decoded } : {};
    return { question, answer, ...extra, windows, frames, seconds: (performance.now() - t0) / 1000 };
  });
}

/**
 * Greedy answers to many questions about clips of one length, one batch (each question over its own clip): what a
 * bench asks of the same clip under several audio variants.
 */
export async function askBatch(model: FavorModel, clips: ClipStreams[], questions: string[]): Promise<string[]> {
  return (await answerClips(model, clips, questions)).map((a) => a.answer);
}

/** askBatch's answers with the first answer token's attention per window and per count token (Answered). */
export async function answerClips(model: FavorModel, clips: ClipStreams[], questions: string[]): Promise<Answered[]> {
  if (clips.length !== questions.length || !clips.length)
    throw new InputError(`askBatch: ${clips.length} clips for ${questions.length} questions (one clip per question)`, {
      field: 'questions',
    });
  if (clips.some((c) => c.frames !== clips[0].frames))
    throw new InputError('askBatch: the clips of one batch must have the same number of frames', { field: 'clips' });
  return withAnswerSession(model, clips, questions, ({ greedy }) => greedy());
}

/** answerClips over clips of any lengths: one batch per length, the answers in the clips' order. */
export async function answerClipsByLength(
  model: FavorModel,
  clips: ClipStreams[],
  questions: string[],
): Promise<Answered[]> {
  const answers: Answered[] = new Array(clips.length);
  for (const frames of new Set(clips.map((clip) => clip.frames))) {
    const at = clips.flatMap((clip, i) => (clip.frames === frames ? [i] : []));
    const said = await answerClips(
      model,
      at.map((i) => clips[i]),
      at.map((i) => questions[i]),
    );
    at.forEach((i, j) => (answers[i] = said[j]));
  }
  return answers;
}

/** Encoder graph: video [1, F, S*S*3], audio [1, 25F, 64], frame_mask [1, F] -> tokens [1, M, Dlm], token_window [M]. */
function encoderGraph(model: FavorModel, frames: number) {
  return (g: Graph, p: Scope): Record<string, Tensor> => {
    const words = countWordsOf(p, model.tokenizer.vocabSize, model.config, countWordIds(model.tokenizer));
    const av = favorEncode(p.scope('encoder'), avInputs(g, 1, frames, model.config.frameSize), model.config, words);
    return { tokens: av.tokens, token_valid: av.valid };
  };
}

/** The joint tokens of a clip and the window each belongs to. */
export async function favorTokens(
  model: FavorModel,
  clip: ClipStreams,
): Promise<{ tokens: HostArray; window: HostArray; valid: HostArray }> {
  if (model.config.questionOnly)
    throw new InputError('a question-only run has no audio-visual tokens', { field: '--model' });
  const p = await predictor(model, encoderGraph(model, clip.frames));
  try {
    const out = await p.run(avBatch([clip], clip.frames, model.config.frameSize));
    const windowOf = avTokenWindows(Math.ceil(clip.frames / model.config.window), model.config);
    return {
      tokens: out.tokens,
      valid: out.token_valid,
      window: hostArray('int32', [windowOf.length], Int32Array.from(windowOf)),
    };
  } finally {
    await p.close();
  }
}

/** Writes the encoder for clips of up to `frames` frames (shorter ones padded and masked) as one .onnx file. */
export function exportEncoder(model: FavorModel, path: string, frames: number): number {
  if (model.config.questionOnly)
    throw new InputError('a question-only run has no audio-visual encoder to export', { field: '--model' });
  const store = new ParamStore(0);
  store.load(model.weights);
  const c = model.config;
  const size = c.frameSize;
  const doc = `FAVOR audio-visual encoder (Attune). Inputs: video [1, ${frames}, ${frameValues(size)}] float32 (2 Hz RGB frames ${size}x${size} in [0, 1], y, x, channel), audio [1, ${frames * AUDIO_PER_FRAME}, ${MEL_BANDS}] float32 (50 Hz log-mel, Whisper normalization), frame_mask [1, ${frames}] float32 (1 = real frame). Outputs: tokens [1, M, ${c.lmDim}], token_valid [1, M]; window = ${c.window} frames, ${c.queries} queries per window, sync ${c.sync}, causal ${c.causal}.`;
  return exportOnnx(path, encoderGraph(model, frames), store, { name: 'favor-encoder', docString: doc });
}
