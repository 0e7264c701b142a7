/**
 * A small convolutional stem for the visual encoder (`model.visualStem = 'conv'`). AV-Synth's objects are 4-7 px wide
 * in the 32 px frames; a linear embedding of 8 or 16 px patches sees a patch's weighted colours, in which an object's
 * outline is a few percent, and measured, did not learn shapes even when supervised with them (docs/favor.md). Three
 * 3x3 convolutions with max pooling see edges and corners first and a whole object at the third.
 *
 *   frames [B, F, 32*32*3] -> [B*F, 32, 32, 3]
 *     -> conv3x3 (C) GELU -> maxpool 2 -> [B*F, 16, 16, C]
 *     -> conv3x3 (2C) GELU -> maxpool 2 -> [B*F, 8, 8, 2C]
 *     -> conv3x3 (2C) GELU            -> [B*F, 8, 8, 2C]
 *     -> cut into (32 / patch)^2 tokens of (8 / grid)^2 cells   -> [B, F, Nv, (8 / grid)^2 * 2C]
 *
 * With `model.stemPool` 'late' the first two convolutions run at full resolution and the poolings follow the second
 * and third (c2 sees 5x5 px of the frame instead of 8x8 px of a pooled one): a 4-7 px object keeps its outline into
 * the second layer, at about 2.5 times the stem's cost.
 *
 * With `model.frameSize` 64 (the scenes' own size: objects 9-14 px instead of 4.6-6.9) the frames enter as
 * [B*F, 32, 32, 12], each cell a 2x2 pixel block, and the rest is unchanged: at 32 px the stem confused circles,
 * diamonds and crosses (docs/favor.md, session 5).
 *
 * With `model.frameContext` k > 0 the stem reads each frame together with the k frames before and after it, stacked
 * along the channels ([B*F, 32, 32, 3(2k+1)]; frames beyond the clip are zeros, as the padded frames are): a 2 Hz
 * frame is a snapshot, and an impact between two snapshots shows only as a change of direction across them
 * (docs/favor.md, session 13). Everything after the first convolution is unchanged.
 *
 * The engine has no 2-D convolution op; a 3x3 convolution is its nine shifted copies joined along the channels and one
 * linear layer (the im2col form), which ONNX Runtime runs as one matmul.
 */
import { type Scope, type Tensor, concat } from '../../engine/index.js';
import { linear } from '../../nn/index.js';
import { ShapeError } from '../../util/errors.js';
import { FRAME_SIZE } from './config.js';

const CELLS = FRAME_SIZE / 4; // the stem's output side: two 2x poolings of a 32 px frame

/** 3x3 convolution, stride 1, zero padding 1: x [N, H, W, C] -> [N, H, W, out]. */
export function conv3x3(p: Scope, x: Tensor, out: number): Tensor {
  const [n, h, w] = x.shape as number[];
  const padded = x.pad([0, 1, 1, 0, 0, 1, 1, 0]); // [N, H+2, W+2, C]
  const shifts: Tensor[] = [];
  for (let dy = 0; dy < 3; dy++)
    for (let dx = 0; dx < 3; dx++) shifts.push(padded.slice([0, dy, dx], [n, dy + h, dx + w], [0, 1, 2])); // [N, H, W, C]
  return linear(p, concat(shifts, 3), out); // [N, H, W, out]
}

/** 2x2 max pooling: [N, H, W, C] -> [N, H/2, W/2, C]. */
export function maxPool2(x: Tensor): Tensor {
  const [n, h, w, c] = x.shape as number[];
  return x.reshape([n, h / 2, 2, w / 2, 2, c]).max([2, 4]); // [N, H/2, W/2, C]
}

/** 64 px frames [B, F, 64*64*3] -> [N, 32, 32, 12]: each 2x2 pixel block's 12 values as one cell (nothing lost). */
export function spaceToDepth2(video: Tensor, n: number, size: number): Tensor {
  const half = size / 2;
  return video.reshape([n, half, 2, half, 2, 3]).transpose([0, 1, 3, 2, 4, 5]).reshape([n, half, half, 12]); // [N, 32, 32, (dy, dx, rgb)]
}

/**
 * Per-frame cells [B*F, H, W, C] -> [B*F, H, W, C(2k+1)]: frame t's cells joined with those of frames t-k .. t+k (in
 * that order; zeros beyond the clip's F frames).
 */
export function stackNeighbours(cells: Tensor, b: number, f: number, k: number): Tensor {
  if (!k) return cells;
  const [, h, w, c] = cells.shape as number[];
  const padded = cells.reshape([b, f, h, w, c]).pad([0, k, 0, 0, 0, 0, k, 0, 0, 0]); // [B, F+2k, H, W, C]
  const shifted = Array.from({ length: 2 * k + 1 }, (_, d) => padded.slice([d], [d + f], [1])); // 2k+1 x [B, F, H, W, C]
  return concat(shifted, 4).reshape([b * f, h, w, c * (2 * k + 1)]); // [B*F, H, W, C(2k+1)]
}

/**
 * Frames [B, F, S*S*3] -> visual tokens' inputs [B, F, (32/patch)^2, (8/grid)^2 * 2C] (see the module comment). 64 px
 * frames (`size` 64) are read as 32 x 32 cells of 2x2 pixels (12 values each), so the first 3x3 convolution sees 6x6
 * pixels and the rest of the stem is the 32 px one: a third of the cost of a conv + pool at 64 px, nothing lost.
 */
export function convStem(
  p: Scope,
  video: Tensor,
  channels: number,
  patch: number,
  size = FRAME_SIZE,
  pool: 'early' | 'late' = 'early',
  context = 0,
): Tensor {
  const [b, f] = video.shape as number[];
  if (size !== FRAME_SIZE && size !== 2 * FRAME_SIZE)
    throw new ShapeError(`the conv stem reads 32 or 64 px frames, not ${size}`, { op: 'convStem', got: size });
  const own = size > FRAME_SIZE ? spaceToDepth2(video, b * f, size) : video.reshape([b * f, size, size, 3]); // [B*F, 32, 32, 3 or 12]
  const x = stackNeighbours(own, b, f, context); // [B*F, 32, 32, (3 or 12)(2k+1)]
  const late = pool === 'late';
  const h1 = conv3x3(p.scope('c1'), x, channels).gelu(); // [B*F, 32, 32, C]
  const h2 = conv3x3(p.scope('c2'), late ? h1 : maxPool2(h1), 2 * channels).gelu(); // [B*F, 32 or 16, ., 2C]
  const h3 = conv3x3(p.scope('c3'), maxPool2(h2), 2 * channels).gelu(); // [B*F, 16 or 8, ., 2C]
  const cells = late ? maxPool2(h3) : h3; // [B*F, 8, 8, 2C]
  const grid = FRAME_SIZE / patch; // tokens per side
  const cell = CELLS / grid; // stem cells per token side
  return cells
    .reshape([b, f, grid, cell, grid, cell, 2 * channels])
    .transpose([0, 1, 2, 4, 3, 5, 6])
    .reshape([b, f, grid * grid, cell * cell * 2 * channels]); // [B, F, Nv, cell*cell*2C]
}
