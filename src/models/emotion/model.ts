/**
 * emotion: 7-way emotion from the words and the voice together (seed 002), every piece switchable.
 *
 *   words [B, W] ─ text encoder ─▶ T_raw [B, W, D] ─┬──────────────── pool ─▶ t_raw [B, D] ────────────────┐
 *                                                   │                                                     │
 *                 text→audio: Q = T_raw, K/V = A_raw ─▶ A_att [B, W, D] (audio read by each word) ─ pool ─┤
 *                 audio→text: Q = A_raw, K/V = T_raw ─▶ T_att [B, F, D] (words read by each frame) ─ pool ┤
 *                                                   │                                                     │
 *   audio [B, F, 83] ─ audio encoder ─▶ A_raw [B, F, D] ─────────────── pool ─▶ a_raw [B, D] ────────────────┤
 *   utterance [B, 9] (voiced log f0 mean/std/p10/p50/p90, energy mean/std, voicing, length)
 *           − baseline(m) (with metadata: relative to the speaker) ─ linear ─▶ [B, D] ───────────────────────────┤
 *   meta [B, 4] (gender, age, timbre, accent) ─ embeddings ─▶ m [B, D] ──────────────────────────────────────────────┤
 *   present [B, 2] (text, audio) ────────────────────────────────────────────────────────────────────────────┤
 *                                        H = concat(levels)  [B, S*D + 2]   (levels per model.fusion/multiLevel)
 *                                        g = sigmoid(W_g H + b_g); H' = g * H + H   (model.gate)
 *                                        head: MLP ─▶ logits [B, 7]
 *
 * Attention is the seed's: e_ij = (W_Q x_i)^T (W_K y_j) / sqrt(d_k), optionally over a learned per-head temperature,
 * softmax over the other stream's valid positions, then (as the seed's reference code) a residual and LayerNorm, and
 * a feed-forward block. A missing modality (present = 0) zeroes every level that reads it, so the head sees only
 * what is there plus the two flags; training drops modalities at random so this case is learned.
 */
import { type Tensor, concat, constant, init, type Scope } from '../../engine/index.js';
import { crossModalBlock, keyPaddingMask, layerNorm, linear, mlp, poolValid } from '../../nn/index.js';
import { ACCENT_BUCKETS, AGES, GENDERS, TIMBRE_BUCKETS, UTTERANCE_DIM, type EmotionModelConfig } from './config.js';
import { audioEncoder, textEncoder } from './encoders.js';

export interface EmotionInputs {
  tokens: Tensor; // [B, W] int64
  textValid: Tensor; // [B, W] float 0/1
  audio: Tensor; // [B, F, AUDIO_DIM]
  audioValid: Tensor; // [B, F] float 0/1
  utterance: Tensor; // [B, UTTERANCE_DIM] prosody functionals (0 without audio)
  meta: Tensor; // [B, 4] int64: gender, age, timbre, accent ids
  present: Tensor; // [B, 2] float: text present, audio present
}

export interface EmotionOutputs {
  logits: Tensor; // [B, 7]
  /** Mean gate value over the text, audio and metadata parts of H [B, 3] (1 where there is no gate). */
  modalityGate: Tensor;
  /** text→audio weights [B, H, W, F] and audio→text weights [B, H, F, W] (absent when that direction is off). */
  textToAudio?: Tensor;
  audioToText?: Tensor;
  textStates?: Tensor; // [B, W, D]
  audioStates?: Tensor; // [B, F, D]
}

/** Which modality each level of H belongs to. */
type Level = { x: Tensor; modality: 0 | 1 | 2 };

export function emotionModel(p: Scope, x: EmotionInputs, cfg: EmotionModelConfig, training = false): EmotionOutputs {
  const [B] = x.tokens.shape as number[];
  const drop = training ? cfg.dropout : 0;
  const useText = cfg.modalities !== 'audio';
  const useAudio = cfg.modalities !== 'text';
  const tp = x.present.slice([0], [1], [1]); // [B, 1]
  const ap = x.present.slice([1], [2], [1]); // [B, 1]
  const levels: Level[] = [];
  const out: Partial<EmotionOutputs> = {};
  const T = useText ? textEncoder(p.scope('text'), x.tokens, x.textValid, cfg, drop) : undefined; // [B, W, D]
  const A = useAudio ? audioEncoder(p.scope('audio'), x.audio, x.audioValid, cfg, drop) : undefined; // [B, F, D]
  const attn = { heads: cfg.heads, mlpRatio: 2, learnableScale: cfg.learnedTemperature, residualDropout: drop };
  if (T && A) {
    const both = tp.mul(ap); // [B, 1]
    const attended: Level[] = [];
    if (cfg.fusion === 'uni-ta' || cfg.fusion === 'bi') {
      const ta = crossModalBlock(p.scope('text_to_audio'), T, A, attn, { mask: keyPaddingMask(x.audioValid) }); // out [B, W, D]
      out.textToAudio = ta.weights; // [B, H, W, F]
      attended.push({ x: poolValid(ta.out, x.textValid).mul(both), modality: 1 }); // A_att pooled [B, D]
    }
    if (cfg.fusion === 'uni-at' || cfg.fusion === 'bi') {
      const at = crossModalBlock(p.scope('audio_to_text'), A, T, attn, { mask: keyPaddingMask(x.textValid) }); // out [B, F, D]
      out.audioToText = at.weights; // [B, H, F, W]
      attended.push({ x: poolValid(at.out, x.audioValid).mul(both), modality: 0 }); // T_att pooled [B, D]
    }
    levels.push(...attended);
  }
  // Raw encodings: always for concat and single-modality models, and as the multi-level half otherwise.
  const raw = cfg.multiLevel || cfg.fusion === 'concat' || !(T && A);
  if (raw && T) levels.push({ x: poolValid(T, x.textValid).mul(tp), modality: 0 }); // t_raw [B, D]
  if (raw && A) levels.push({ x: poolValid(A, x.audioValid).mul(ap), modality: 1 }); // a_raw [B, D]
  const meta = cfg.metadata ? metadataEmbedding(p.scope('meta'), x.meta, cfg.dim) : undefined; // m [B, D]
  if (A && cfg.prosodyStats) {
    let stats = x.utterance; // [B, U]
    // With metadata, the functionals are taken relative to the speaker's expected baseline (a linear map of m,
    // zero at initialization): EmoSpeech's voice emotions are pitch offsets from the speaker's own base pitch.
    if (meta) stats = stats.sub(linear(p.scope('baseline'), meta, { out: UTTERANCE_DIM, weightInit: init.zeros() })); // [B, U]
    levels.push({ x: linear(p.scope('prosody_stats'), stats, cfg.dim).gelu().mul(ap), modality: 1 }); // [B, D]
  }
  if (meta) levels.push({ x: meta, modality: 2 }); // m [B, D]
  const H = concat([...levels.map((l) => l.x), x.present], 1); // [B, S*D + 2]
  const width = levels.length * cfg.dim + 2;
  let fused = H;
  let modalityGate = constant(p.graph, [1, 1, 1], 'float32', [1, 3]).expand([B, 3]); // [B, 3]
  if (cfg.gate) {
    const g = H.matmul(p.param('gate.weight', [width, width], init.xavierUniform()))
      .add(p.param('gate.bias', [width], init.zeros()))
      .sigmoid(); // [B, S*D + 2]
    fused = g.mul(H).add(H); // sigma(W_g H + b_g) * H + H_res, H_res = H
    modalityGate = g.matmul(segmentMeans(p, levels, cfg.dim)); // [B, 3]
  }
  const h = layerNorm(p.scope('fused_norm'), fused); // [B, S*D + 2]
  const logits = mlp(p.scope('head'), training && drop ? h.dropout(drop) : h, { hidden: cfg.hidden, out: 7 }); // [B, 7]
  return { ...out, logits, modalityGate, textStates: T, audioStates: A };
}

/** gender, age group, timbre and accent embeddings summed: meta [B, 4] int64 -> [B, D] */
function metadataEmbedding(p: Scope, meta: Tensor, dim: number): Tensor {
  const sizes = [GENDERS.length, AGES.length, TIMBRE_BUCKETS, ACCENT_BUCKETS];
  const names = ['gender', 'age', 'timbre', 'accent'];
  const parts = sizes.map((n, i) =>
    p.param(names[i], [n, dim], init.normal(0.1)).gather(meta.slice([i], [i + 1], [1]).reshape([meta.shape[0]]), 0),
  ); // [B, D] x4
  return parts.reduce((a, b) => a.add(b)); // [B, D]
}

/** Constant [S*D + 2, 3]: averages the gate over each modality's columns (missing modality columns give 0). */
function segmentMeans(p: Scope, levels: Level[], dim: number): Tensor {
  const width = levels.length * dim + 2;
  const m = new Array<number>(width * 3).fill(0);
  for (let mod = 0; mod < 3; mod++) {
    const owned = levels.flatMap((l, i) => (l.modality === mod ? [i] : []));
    for (const i of owned) for (let d = 0; d < dim; d++) m[(i * dim + d) * 3 + mod] = 1 / (owned.length * dim);
  }
  return constant(p.graph, m, 'float32', [width, 3]);
}
