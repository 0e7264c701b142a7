/**
 * v2a's condition encoders, trained with the flow network (MMAudio uses frozen CLIP and Synchformer; AV-Synth is
 * small and simple enough to learn them here), and the learned empty conditions that stand in for dropped ones.
 *
 *   visual  [B, Tv, P]  8 fps frames   -> Linear, SiLU, Linear                      -> [B, Tv, D]  frame tokens
 *           'pixels' adds, before the last Linear: per pixel Linear(3 -> H), SiLU; max and mean over the frame;
 *           Linear, SiLU. AV-Synth's class is the sounding object's color (distractors are gray), a blob of 2-3 px
 *           anywhere in the 24 x 24 frame: one Linear over the flattened frame must learn it at every position.
 *   motion  [B, Ts, P]  25 fps diffs   -> Linear, SiLU, Conv(k), SiLU, Linear        -> [B, Ts, D]  sync features
 *   text    [B, L]      word ids       -> Embedding                                  -> [B, L, D]   text tokens
 *   drop    [B]         1 = use the learned empty condition instead (CFG's null condition and audio-text pairs)
 */
import { type Scope, type Tensor, concat, init } from '../../engine/index.js';
import { conv1dTime, linear } from '../../nn/index.js';
import type { V2aConfig } from './config.js';
import { VOCAB_SIZE } from './text.js';

/** x where drop = 0, the learned `empty` [1, 1, D] where drop = 1; drop [B]. */
function orEmpty(p: Scope, name: string, x: Tensor, drop: Tensor): Tensor {
  const d = x.shape[2] as number;
  const empty = p.param(name, [1, 1, d], init.normal(0.02)); // [1, 1, D]
  const w = drop.reshape([drop.shape[0], 1, 1]); // [B, 1, 1]
  return x.mul(w.mul(-1).add(1)).add(empty.mul(w)); // [B, T, D]
}

/** Per-pixel color features of the 'pixels' encoder. */
const PIXEL_HIDDEN = 32;

/** Side of the 'patches' encoder's neighborhood: 5 x 5 covers a whole sounding object (radius 1.7-2.6 px). */
export const PATCH = 5;

/**
 * Every pixel's PATCH x PATCH neighborhood as channels: [B, Tv, S*S, PATCH*PATCH*3] (zero outside the frame). The
 * engine has no 2-D convolution; shifted slices of the padded frame and one Linear are the same operation.
 */
export function neighborhoods(visual: Tensor, b: number, tv: number, side: number): Tensor {
  const r = PATCH >> 1;
  const img = visual.reshape([b, tv, side, side, 3]).pad([0, 0, r, r, 0, 0, 0, r, r, 0]); // [B, Tv, S+2r, S+2r, 3]
  const taps: Tensor[] = [];
  for (let dy = 0; dy < PATCH; dy++)
    for (let dx = 0; dx < PATCH; dx++) taps.push(img.slice([dy, dx], [dy + side, dx + side], [2, 3])); // [B, Tv, S, S, 3]
  return concat(taps, 4).reshape([b, tv, side * side, PATCH * PATCH * 3]); // [B, Tv, S*S, 75]
}

/**
 * Position-free evidence of each frame: an MLP shared over the frame, max- and mean-pooled. 'pixels' sees one pixel's
 * color; 'patches' a 5 x 5 neighborhood, which also carries the object's shape: classes 0 and 7 are both red (a
 * circle and a square) and every class error of the 'pixels' runs was between them (docs/v2a.md, session 5).
 */
function pixelFeatures(p: Scope, visual: Tensor, cfg: V2aConfig): Tensor {
  const [b, tv, pixels] = visual.shape as number[];
  const side = Math.round(Math.sqrt(pixels / 3));
  const local =
    cfg.visualEncoder === 'patches'
      ? neighborhoods(visual, b, tv, side) // [B, Tv, S*S, 75]
      : visual.reshape([b, tv, pixels / 3, 3]); // [B, Tv, S*S, 3] (frames are stored y, x, channel)
  const h = linear(p.scope('color'), local, PIXEL_HIDDEN).silu(); // [B, Tv, S*S, H]
  const pooled = concat([h.max([2]), h.mean([2])], 2); // [B, Tv, 2H]: max finds a small blob, mean weighs its size
  return linear(p.scope('proj'), pooled, cfg.dim).silu(); // [B, Tv, D]
}

export function visualTokens(p: Scope, visual: Tensor, drop: Tensor, cfg: V2aConfig): Tensor {
  let h = linear(p.scope('in'), visual, cfg.dim).silu(); // [B, Tv, D]
  if (cfg.visualEncoder !== 'linear') h = h.add(pixelFeatures(p.scope('pixels'), visual, cfg)); // [B, Tv, D]
  return orEmpty(p, 'empty', linear(p.scope('out'), h, cfg.dim), drop); // [B, Tv, D]
}

export function syncFeatures(p: Scope, motion: Tensor, drop: Tensor, cfg: V2aConfig): Tensor {
  let h = linear(p.scope('in'), motion, cfg.dim).silu(); // [B, Ts, D]
  h = conv1dTime(p.scope('conv'), h, { out: cfg.dim, kernel: cfg.syncKernel }).silu(); // [B, Ts, D]: sees a bounce's before and after
  return orEmpty(p, 'empty', linear(p.scope('out'), h, cfg.dim), drop); // [B, Ts, D]
}

export interface TextTokens {
  tokens: Tensor; // [B, L, D]
  valid: Tensor; // [B, L] 1 = attend (every empty token is valid)
}

export function textTokens(p: Scope, ids: Tensor, valid: Tensor, drop: Tensor, cfg: V2aConfig): TextTokens {
  const table = p.param('embedding', [VOCAB_SIZE, cfg.dim], init.normal(0.02)); // [V, D]
  const tokens = orEmpty(p, 'empty', table.gather(ids, 0), drop); // [B, L, D]
  const w = drop.reshape([drop.shape[0], 1]); // [B, 1]
  return { tokens, valid: valid.mul(w.mul(-1).add(1)).add(w) }; // valid [B, L]
}
