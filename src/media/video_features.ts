import { RowBuffer } from './rows.js';
import type { Stream } from '../timeline/timeline.js';
import { absDiff, colorMoments, downsample, gridPool, luma, type FrameShape } from './visual.js';

/**
 * Stateful per-frame visual features over a frame sequence (frames pushed in timeline order).
 * Every feature is one Stream at the video timeline rate; motion of frame 0 is 0 (no previous frame).
 */
export interface VisualFeatureConfig {
  /** Downsampled pixels (area average) of size [h, w] per frame, flattened: h*w*C values. */
  pixels?: { width: number; height: number } | null;
  /** Per-channel mean, std, skewness. */
  moments?: boolean;
  /** Grid-pooled luminance, gx x gy cells. */
  lumaGrid?: { gx: number; gy: number } | null;
  /** Motion energy: mean |luma_t - luma_{t-1}| over gx x gy cells, plus the whole-frame mean as the last value. */
  motionGrid?: { gx: number; gy: number } | null;
}

export class VisualFeatureExtractor {
  private readonly shape: FrameShape;
  private readonly cfg: VisualFeatureConfig;
  private readonly out = new Map<string, RowBuffer>();
  private prevLuma: Float32Array<ArrayBufferLike> | null = null;
  private curLuma: Float32Array<ArrayBufferLike>;
  private diff: Float32Array<ArrayBufferLike>;

  constructor(shape: FrameShape, cfg: VisualFeatureConfig) {
    this.shape = shape;
    this.cfg = cfg;
    const C = shape.channels;
    if (cfg.pixels) this.out.set('pixels', new RowBuffer(cfg.pixels.width * cfg.pixels.height * C));
    if (cfg.moments) this.out.set('color_moments', new RowBuffer(3 * C));
    if (cfg.lumaGrid) this.out.set('luma_grid', new RowBuffer(cfg.lumaGrid.gx * cfg.lumaGrid.gy));
    if (cfg.motionGrid) this.out.set('motion', new RowBuffer(cfg.motionGrid.gx * cfg.motionGrid.gy + 1));
    this.curLuma = new Float32Array(shape.width * shape.height);
    this.diff = new Float32Array(shape.width * shape.height);
  }

  /** Adds frame t ([H, W, C] bytes). */
  push(frame: Uint8Array): void {
    const { width: W, height: H } = this.shape;
    const { pixels, moments, lumaGrid, motionGrid } = this.cfg;
    if (pixels) this.out.get('pixels')!.push(downsample(frame, this.shape, pixels.width, pixels.height));
    if (moments) this.out.get('color_moments')!.push(colorMoments(frame, this.shape));
    if (!lumaGrid && !motionGrid) return;
    const y = luma(frame, this.shape, this.curLuma);
    if (lumaGrid) this.out.get('luma_grid')!.push(gridPool(y, W, H, lumaGrid.gx, lumaGrid.gy));
    if (motionGrid) {
      const cells = motionGrid.gx * motionGrid.gy;
      const row = new Float32Array(cells + 1);
      if (this.prevLuma) {
        const d = absDiff(y, this.prevLuma, this.diff);
        row.set(gridPool(d, W, H, motionGrid.gx, motionGrid.gy));
        let total = 0;
        for (let i = 0; i < d.length; i++) total += d[i];
        row[cells] = total / d.length;
      }
      this.out.get('motion')!.push(row);
      // Swap buffers: the current plane becomes the previous one.
      const prev = this.prevLuma ?? new Float32Array(y.length);
      this.prevLuma = y;
      this.curLuma = prev;
    }
  }

  /** Streams named pixels, color_moments, luma_grid, motion (those configured). */
  finish(rate: number, start: number): Record<string, Stream> {
    const result: Record<string, Stream> = {};
    for (const [name, buf] of this.out) result[name] = buf.toStream(rate, start);
    return result;
  }
}
