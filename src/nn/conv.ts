import { type Initializer, type Scope, type Tensor, conv1d as convOp, init } from '../engine/index.js';
import { staticDim } from './util.js';

export interface Conv1dConfig {
  /** Output channels. */
  out: number;
  kernel: number;
  stride?: number;
  dilation?: number;
  groups?: number;
  /** 'same' (default; stride 1 keeps the length, odd or even kernels), 'causal' (left padding only: output t sees inputs <= t), or explicit [left, right]. */
  padding?: 'same' | 'causal' | 'valid' | number | [number, number];
  bias?: boolean;
  weightInit?: Initializer;
}

function pads(cfg: Conv1dConfig): [number, number] {
  const reach = (cfg.dilation ?? 1) * (cfg.kernel - 1);
  const p = cfg.padding ?? 'same';
  if (p === 'same') return [Math.floor(reach / 2), reach - Math.floor(reach / 2)];
  if (p === 'causal') return [reach, 0];
  if (p === 'valid') return [0, 0];
  return typeof p === 'number' ? [p, p] : p;
}

/**
 * 1-D convolution over time, channels first. Parameters `weight` [out, in/groups, kernel] (PyTorch layout, Kaiming
 * uniform), `bias` [out].
 *
 * x: [B, C, T] -> [B, out, T'] (T' = T for 'same'/'causal' with stride 1)
 *
 * @example
 *   const y = conv1d(p.scope('conv'), x, { out: 64, kernel: 3 });                    // x [B, 32, T] -> [B, 64, T]
 *   const c = conv1d(p.scope('past'), x, { out: 64, kernel: 5, padding: 'causal' });  // output t sees inputs <= t
 */
export function conv1d(p: Scope, x: Tensor, cfg: Conv1dConfig): Tensor {
  const c = staticDim(x, 1, 'conv1d');
  const groups = cfg.groups ?? 1;
  const w = p.param('weight', [cfg.out, c / groups, cfg.kernel], cfg.weightInit ?? init.kaimingUniform(1));
  const b = cfg.bias === false ? undefined : p.param('bias', [cfg.out], init.zeros());
  return convOp(x, w, b, { stride: cfg.stride, dilation: cfg.dilation, groups, padding: pads(cfg) });
}

/**
 * The same convolution on channels-last sequences (what attention blocks carry): x [B, T, C] -> [B, T', out].
 * MMAudio's ConvMLP and post-attention projections are this with kernel 3.
 */
export function conv1dTime(p: Scope, x: Tensor, cfg: Conv1dConfig): Tensor {
  return conv1d(p, x.transpose([0, 2, 1]), cfg).transpose([0, 2, 1]);
}

export interface ConvMlpConfig {
  /** Hidden width of each SwiGLU branch (default 4 x input width). */
  hidden?: number;
  /** Temporal kernel (default 3, as MMAudio's ConvMLP). */
  kernel?: number;
}

/**
 * MMAudio's ConvMLP: a SwiGLU feed-forward block whose three projections are temporal convolutions,
 * (silu(conv1(x)) * conv3(x)) -> conv2, so each token also mixes its neighbors. Parameters `fc1`, `fc3`, `fc2`.
 *
 * x: [B, T, D] -> [B, T, D]
 *
 * @example
 *   const y = convMlp(p.scope('ffn'), x, { hidden: 128 });   // x [B, 50, 64] -> [B, 50, 64]
 */
export function convMlp(p: Scope, x: Tensor, cfg: ConvMlpConfig = {}): Tensor {
  const d = staticDim(x, -1, 'convMlp');
  const conv = { out: cfg.hidden ?? 4 * d, kernel: cfg.kernel ?? 3, bias: false };
  const h = conv1dTime(p.scope('fc1'), x, conv)
    .silu()
    .mul(conv1dTime(p.scope('fc3'), x, conv)); // [B, T, hidden]
  return conv1dTime(p.scope('fc2'), h, { ...conv, out: d });
}
