/**
 * v2a's condition encoders, trained with the flow network (MMAudio uses frozen CLIP and Synchformer; AV-Synth is
 * small and simple enough to learn them here), and the learned empty conditions that stand in for dropped ones.
 *
 *   visual  [B, Tv, P]  8 fps frames   -> Linear, SiLU, Linear                      -> [B, Tv, D]  frame tokens
 *   motion  [B, Ts, P]  25 fps diffs   -> Linear, SiLU, Conv(k), SiLU, Linear        -> [B, Ts, D]  sync features
 *   text    [B, L]      word ids       -> Embedding                                  -> [B, L, D]   text tokens
 *   drop    [B]         1 = use the learned empty condition instead (CFG's null condition and audio-text pairs)
 */
import { type Scope, type Tensor, init } from '../../engine/index.js';
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

export function visualTokens(p: Scope, visual: Tensor, drop: Tensor, cfg: V2aConfig): Tensor {
  const h = linear(p.scope('in'), visual, cfg.dim).silu(); // [B, Tv, D]
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
