import { ShapeError } from '../util/errors.js';

/**
 * Per-frame visual features from decoded frames ([H, W, C] bytes, C = 1 or 3). All outputs are in [0, 1]
 * units (bytes / 255) except skewness. Luma uses BT.601 weights (0.299, 0.587, 0.114).
 */
export interface FrameShape {
  width: number;
  height: number;
  channels: 1 | 3;
}

function checkFrame(frame: Uint8Array, s: FrameShape): void {
  if (frame.length !== s.width * s.height * s.channels) {
    throw new ShapeError(`frame has ${frame.length} bytes, expected ${s.height}x${s.width}x${s.channels}`, {
      expected: [s.height, s.width, s.channels],
      got: frame.length,
    });
  }
}

/** Luma plane in [0, 1], [H, W]. */
export function luma(
  frame: Uint8Array,
  s: FrameShape,
  out: Float32Array<ArrayBufferLike> = new Float32Array(s.width * s.height),
): Float32Array<ArrayBufferLike> {
  checkFrame(frame, s);
  const n = s.width * s.height;
  if (s.channels === 1) {
    for (let i = 0; i < n; i++) out[i] = frame[i] / 255;
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 3)
      out[i] = (0.299 * frame[j] + 0.587 * frame[j + 1] + 0.114 * frame[j + 2]) / 255;
  }
  return out;
}

/** Cell boundaries for splitting `n` pixels into `cells` nearly equal parts. */
function edges(n: number, cells: number): Int32Array {
  const e = new Int32Array(cells + 1);
  for (let i = 0; i <= cells; i++) e[i] = Math.round((i * n) / cells);
  return e;
}

/** Area-average downsampling to outW x outH (all channels), values in [0, 1]: [outH * outW * C]. */
export function downsample(
  frame: Uint8Array,
  s: FrameShape,
  outW: number,
  outH: number,
  out = new Float32Array(outW * outH * s.channels),
): Float32Array {
  checkFrame(frame, s);
  const C = s.channels;
  const ex = edges(s.width, outW);
  const ey = edges(s.height, outH);
  const acc = new Float64Array(outW * C);
  for (let cy = 0; cy < outH; cy++) {
    acc.fill(0);
    for (let y = ey[cy]; y < ey[cy + 1]; y++) {
      const row = y * s.width * C;
      for (let cx = 0; cx < outW; cx++) {
        for (let x = ex[cx]; x < ex[cx + 1]; x++) {
          const p = row + x * C;
          for (let c = 0; c < C; c++) acc[cx * C + c] += frame[p + c];
        }
      }
    }
    for (let cx = 0; cx < outW; cx++) {
      const area = (ey[cy + 1] - ey[cy]) * (ex[cx + 1] - ex[cx]) * 255;
      for (let c = 0; c < C; c++) out[(cy * outW + cx) * C + c] = area > 0 ? acc[cx * C + c] / area : 0;
    }
  }
  return out;
}

/** Per channel mean, standard deviation and skewness: [3 * C] as (mean_c..., std_c..., skew_c...). */
export function colorMoments(frame: Uint8Array, s: FrameShape): Float32Array {
  checkFrame(frame, s);
  const C = s.channels;
  const n = s.width * s.height;
  const hist = new Float64Array(256 * C);
  for (let i = 0; i < frame.length; i += C) for (let c = 0; c < C; c++) hist[c * 256 + frame[i + c]]++;
  const out = new Float32Array(3 * C);
  for (let c = 0; c < C; c++) {
    let mean = 0;
    for (let v = 0; v < 256; v++) mean += hist[c * 256 + v] * v;
    mean /= n;
    let m2 = 0;
    let m3 = 0;
    for (let v = 0; v < 256; v++) {
      const d = v - mean;
      m2 += hist[c * 256 + v] * d * d;
      m3 += hist[c * 256 + v] * d * d * d;
    }
    m2 /= n;
    m3 /= n;
    const std = Math.sqrt(m2);
    out[c] = mean / 255;
    out[C + c] = std / 255;
    out[2 * C + c] = std > 1e-9 ? m3 / (std * std * std) : 0;
  }
  return out;
}

/** Mean of a [H, W] plane over a gx x gy grid: [gy * gx]. */
export function gridPool(
  plane: Float32Array<ArrayBufferLike>,
  width: number,
  height: number,
  gx: number,
  gy: number,
  out = new Float32Array(gx * gy),
): Float32Array {
  const ex = edges(width, gx);
  const ey = edges(height, gy);
  out.fill(0);
  for (let cy = 0; cy < gy; cy++) {
    for (let y = ey[cy]; y < ey[cy + 1]; y++) {
      const row = y * width;
      for (let cx = 0; cx < gx; cx++) {
        let acc = 0;
        for (let x = ex[cx]; x < ex[cx + 1]; x++) acc += plane[row + x];
        out[cy * gx + cx] += acc;
      }
    }
  }
  for (let cy = 0; cy < gy; cy++) {
    for (let cx = 0; cx < gx; cx++) {
      const area = (ey[cy + 1] - ey[cy]) * (ex[cx + 1] - ex[cx]);
      out[cy * gx + cx] = area > 0 ? out[cy * gx + cx] / area : 0;
    }
  }
  return out;
}

/** |a - b| per pixel of two luma planes (motion energy before pooling). */
export function absDiff(
  a: Float32Array<ArrayBufferLike>,
  b: Float32Array<ArrayBufferLike>,
  out: Float32Array<ArrayBufferLike> = new Float32Array(a.length),
): Float32Array<ArrayBufferLike> {
  for (let i = 0; i < a.length; i++) out[i] = Math.abs(a[i] - b[i]);
  return out;
}
