/**
 * Frozen stage-1 encoders run once per clip instead of once per step (`model.cacheEncoders`, on by default). In stage
 * 2 the encoders are fixed and take no gradient, so their outputs for a clip never change; re-running the conv stem
 * over every frame of every batch was two thirds of a stage-2 step (docs/favor.md, session 5). Here they run once
 * over every distinct clip (scene x audio variant) when the data loads, and the stage-2 train and evaluation graphs
 * read their outputs:
 *
 *   per clip: video [F, 3072] + audio [25F, 64] -> encodeStreams -> visual [F', Nv, Dv], audio [F', 25, Da]
 *   graph inputs: visual_tokens [B, F', Nv, Dv], audio_tokens [B, F', 25, Da], frame_mask [B, F]  (F' = F padded
 *   to whole windows, exactly as encodeStreams pads)
 *
 * The numbers are the same as the per-step path: each clip is zero-padded to F frames either way, and the encoders
 * mix nothing across clips (per-frame conv stem and transformer; the audio conv runs along one clip's time; layer
 * norms are per token). The train graph still declares the frozen encoder parameters (unused) so checkpoints and
 * best.safetensors keep them, and refuses to run if the trainer's values differ from those the cache was made with.
 * The exported model.onnx and `attune ask` read frames and audio as before.
 */
import type { AvqaQuestion } from '../../data/avqa/index.js';
import { Predictor } from '../../engine/export.js';
import { type DType, type Graph, ParamStore, type Scope } from '../../engine/index.js';
import { type HostArray, hostArray, toFloat32 } from '../../io/array.js';
import { evalBatches } from '../../train/data.js';
import { ConfigError } from '../../util/errors.js';
import { AUDIO_PER_FRAME, type FavorConfig, visualTokens, windowsFor } from './config.js';
import { type AvqaExamples, avBatch, clipKey, frameMaskBatch } from './data.js';
import type { FrameStreams } from './frame_aux.js';
import { seedEncoders } from './encoder_init.js';
import { avInputs, encodeStreams } from './model.js';

/** Whether a run trains on cached encoder outputs: stage 2 over frozen stage-1 encoders with AV tokens. */
export function cachesEncoders(cfg: FavorConfig): boolean {
  return cfg.cacheEncoders && cfg.stage === 'answer' && cfg.freezeEncoders && !!cfg.encoders && !cfg.questionOnly;
}

export interface EncoderCache {
  /** Frames of the cached streams: the batches' frames padded to whole windows. */
  frames: number;
  /** The encoder weights the outputs were computed with (names under 'encoder.'). */
  weights: Record<string, HostArray>;
  /** visual_tokens, audio_tokens and frame_mask for a batch of questions (their clips' cached outputs). */
  feeds(questions: readonly AvqaQuestion[]): Record<string, HostArray>;
}

/** The encoders' scopes whose parameters the cache stands for. */
const ENCODER_SCOPES = ['visual', 'audio'];

const isEncoderParam = (p: Scope, name: string): boolean =>
  ENCODER_SCOPES.some((s) => name.startsWith(`${p.path(s)}.`));

/** Runs the (frozen) encoders once over every distinct clip of `ex`, `batch` clips at a time. */
export async function computeEncoderCache(
  ex: AvqaExamples,
  cfg: FavorConfig,
  opts: { batch?: number; threads?: number; progress?: (done: number, total: number) => void } = {},
): Promise<EncoderCache> {
  const batch = opts.batch ?? 16;
  const store = new ParamStore(0);
  const predictor = await Predictor.create(
    (g, p) => {
      const s = encodeStreams(p.scope('encoder'), avInputs(g, batch, ex.frames, cfg.frameSize), cfg); // loads model.encoders
      return { visual_tokens: s.visual, audio_tokens: s.audio };
    },
    store,
    { worker: false, session: { threads: opts.threads ?? 1 } },
  );
  const frames = windowsFor(ex.frames, cfg) * cfg.window;
  const perVisual = frames * visualTokens(cfg).tokens * cfg.visualDim;
  const perAudio = frames * AUDIO_PER_FRAME * cfg.audioDim;
  const visual = new Map<number, Float32Array>();
  const audio = new Map<string, Float32Array>();
  const clips = [...new Map(ex.questions.map((q) => [clipKey(q), q])).values()];
  try {
    let done = 0;
    for (const { indices: part, real } of evalBatches(clips, batch)) {
      const out = await predictor.run(
        avBatch(
          part.map((q) => ex.clip(q)),
          ex.frames,
          ex.frameSize,
        ),
      );
      const [v, a] = [toFloat32(out.visual_tokens), toFloat32(out.audio_tokens)];
      for (let i = 0; i < real; i++) {
        const q = part[i];
        if (!visual.has(q.index)) visual.set(q.index, v.slice(i * perVisual, (i + 1) * perVisual));
        audio.set(clipKey(q), a.slice(i * perAudio, (i + 1) * perAudio));
      }
      opts.progress?.((done += real), clips.length);
    }
  } finally {
    await predictor.close();
  }
  const weights = Object.fromEntries(store.names().map((n) => [n, store.get(n)]));
  return {
    frames,
    weights,
    feeds: (questions) => {
      const b = questions.length;
      const v = new Float32Array(b * perVisual);
      const a = new Float32Array(b * perAudio);
      questions.forEach((q, i) => {
        v.set(visual.get(q.index) as Float32Array, i * perVisual);
        a.set(audio.get(clipKey(q)) as Float32Array, i * perAudio);
      });
      return {
        visual_tokens: hostArray('float32', [b, frames, visualTokens(cfg).tokens, cfg.visualDim], v),
        audio_tokens: hostArray('float32', [b, frames, AUDIO_PER_FRAME, cfg.audioDim], a),
        frame_mask: frameMaskBatch(
          questions.map((q) => ex.clip(q).frames),
          ex.frames,
        ),
      };
    },
  };
}

/**
 * Graph inputs for cached encoder outputs (under `p` = the 'encoder' scope). With `cache`, also declares the frozen
 * encoder parameters the store holds (so they are saved with the run) after checking they are the cache's.
 */
export function cachedStreamInputs(
  g: Graph,
  p: Scope,
  batch: number,
  frames: number,
  cfg: FavorConfig,
  cache?: EncoderCache,
): FrameStreams {
  if (cache) declareCachedEncoders(p, cfg, cache);
  const padded = windowsFor(frames, cfg) * cfg.window;
  const mask = g.input('frame_mask', 'float32', [batch, frames]);
  return {
    visual: g.input('visual_tokens', 'float32', [batch, padded, visualTokens(cfg).tokens, cfg.visualDim]),
    audio: g.input('audio_tokens', 'float32', [batch, padded, AUDIO_PER_FRAME, cfg.audioDim]),
    frameMask: padded > frames ? mask.pad([0, 0, 0, padded - frames]) : mask, // [B, F']
  };
}

function declareCachedEncoders(p: Scope, cfg: FavorConfig, cache: EncoderCache): void {
  seedEncoders(p, cfg); // puts model.encoders' weights into the store (frozen), as the per-step path does
  const names = p.store.names().filter((n) => isEncoderParam(p, n));
  const cached = Object.keys(cache.weights).filter((n) => isEncoderParam(p, n));
  for (const name of names) {
    const value = p.store.get(name);
    const theirs = cache.weights[name];
    if (names.length !== cached.length || !theirs || !sameValues(value, theirs))
      throw new ConfigError(
        `the cached encoder outputs were computed with other weights than parameter '${name}' holds; set model.cacheEncoders=false`,
        { field: 'model.cacheEncoders' },
      );
    p.graph.param(name, value.dtype as DType, value.shape, p.store.isTrainable(name));
  }
}

const sameValues = (a: HostArray, b: HostArray): boolean => {
  const [x, y] = [toFloat32(a), toFloat32(b)];
  return x.length === y.length && x.every((v, i) => v === y[i]);
};
