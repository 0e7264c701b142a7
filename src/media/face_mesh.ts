/**
 * Face detection and 468-point landmarks from the TFJS graph models inside the `@vladmandic/human` npm package
 * (blazeface, facemesh; MIT), converted to ONNX in memory (tfjs_onnx.ts) and run by onnxruntime-node: nothing is
 * downloaded, nothing written. Checked once against TFJS itself: max |ONNX - TFJS| 1.2e-4 px (facemesh) and 3.6e-4
 * (blazeface logits) on two inputs (docs/sync.md).
 *
 *   RGB frame ─ letterbox 256² (x/127.5 - 1) ─ blazeface ─> best anchor ─> face box
 *   face box ─ square crop x1.6 ─ 192² (x/255) ─ facemesh ─> 468 x (x, y, z) in frame pixels + face flag
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { MediaError } from '../util/errors.js';
import { tfjsToOnnx, type TfjsGraphModel } from './tfjs_onnx.js';

export interface FaceBox {
  /** Center and side of a square in frame pixels. */
  cx: number;
  cy: number;
  size: number;
  score: number;
}

export interface FaceLandmarks {
  /** [468 * 3] x, y in frame pixels, z relative. */
  points: Float32Array;
  /** Facemesh's probability that the crop holds a face. */
  flag: number;
}

export interface Rgb {
  data: Uint8Array;
  width: number;
  height: number;
}

const DETECT = 256;
const MESH = 192;
/** Crop side over the detected box side (human's facemesh crop). */
export const MESH_ENLARGE = 1.6;

function humanModel(name: string): { model: TfjsGraphModel; shards: Uint8Array[] } {
  let dir: string;
  try {
    dir = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/human')), '..', 'models');
  } catch (err) {
    throw new MediaError(
      `face landmarks need the @vladmandic/human package (npm install): ${(err as Error).message.split('\n')[0]}`,
      { reason: 'face models unavailable' },
    );
  }
  const model = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as TfjsGraphModel;
  return { model, shards: model.weightsManifest.map((g) => readFileSync(join(dir, g.paths[0]))) };
}

/** One of human's TFJS models (by file name, e.g. 'emotion'), converted and opened by onnxruntime-node. */
export async function humanModelSession(
  name: string,
): Promise<{ s: ort.InferenceSession; input: string; outputs: string[] }> {
  const { model, shards } = humanModel(name);
  const c = tfjsToOnnx(model, shards);
  // One intra-op thread: a second one spin-waits between facemesh's small convolutions, and on 2 shared cores it
  // doubled the CPU per frame (9.6 vs 4.9 ms at batch 1, load 10) and took the core the ffmpeg decode runs on.
  const s = await ort.InferenceSession.create(c.onnx, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  return { s, input: c.inputs[0], outputs: c.outputs };
}

/** Blazeface (256) anchors in output order: 16x16 cells x 2, then 8x8 cells x 6; centers in [0, 1]. */
function anchors(): Float32Array {
  const out: number[] = [];
  for (const [grid, per] of [
    [16, 2],
    [8, 6],
  ]) {
    for (let y = 0; y < grid; y++)
      for (let x = 0; x < grid; x++) for (let k = 0; k < per; k++) out.push((x + 0.5) / grid, (y + 0.5) / grid);
  }
  return Float32Array.from(out);
}

/** Bilinear sample of a square region (center, side in pixels) of an RGB frame into [S, S, 3] floats a·v + b. */
export function cropSquare(
  img: Rgb,
  cx: number,
  cy: number,
  side: number,
  S: number,
  a: number,
  b: number,
): Float32Array {
  const out = new Float32Array(S * S * 3);
  const step = side / S;
  const x0 = cx - side / 2,
    y0 = cy - side / 2;
  // Per column: the two source offsets (-1 outside the frame, read as black) and the weight of the right one.
  const xs = new Int32Array(2 * S),
    fxs = new Float32Array(S);
  for (let i = 0; i < S; i++) {
    const sx = x0 + (i + 0.5) * step - 0.5;
    const xi = Math.floor(sx);
    fxs[i] = sx - xi;
    xs[2 * i] = xi >= 0 && xi < img.width ? xi * 3 : -1;
    xs[2 * i + 1] = xi + 1 >= 0 && xi + 1 < img.width ? (xi + 1) * 3 : -1;
  }
  const { data } = img;
  const at = (row: number, x: number, c: number) => (row < 0 || x < 0 ? 0 : data[row + x + c]);
  for (let j = 0; j < S; j++) {
    const sy = y0 + (j + 0.5) * step - 0.5;
    const yi = Math.floor(sy),
      fy = sy - yi;
    const r0 = yi >= 0 && yi < img.height ? yi * img.width * 3 : -1;
    const r1 = yi + 1 >= 0 && yi + 1 < img.height ? (yi + 1) * img.width * 3 : -1;
    const rowsInside = r0 >= 0 && r1 >= 0;
    for (let i = 0; i < S; i++) {
      const fx = fxs[i],
        xa = xs[2 * i],
        xb = xs[2 * i + 1];
      const o = (j * S + i) * 3;
      if (rowsInside && xa >= 0 && xb >= 0) {
        // All four neighbours inside the frame (nearly every sample of a face crop): no bounds tests.
        for (let c = 0; c < 3; c++) {
          const p = data[r0 + xa + c],
            q = data[r1 + xa + c];
          const top = p + fx * (data[r0 + xb + c] - p);
          const bottom = q + fx * (data[r1 + xb + c] - q);
          out[o + c] = a * (top + fy * (bottom - top)) + b;
        }
        continue;
      }
      for (let c = 0; c < 3; c++) {
        const top = (1 - fx) * at(r0, xa, c) + fx * at(r0, xb, c);
        const bottom = (1 - fx) * at(r1, xa, c) + fx * at(r1, xb, c);
        out[o + c] = a * ((1 - fy) * top + fy * bottom) + b;
      }
    }
  }
  return out;
}

export class FaceMesh {
  private readonly anchors = anchors();
  private constructor(
    private readonly detector: { s: ort.InferenceSession; input: string; outputs: string[] },
    private readonly mesh: { s: ort.InferenceSession; input: string; outputs: string[] },
  ) {}

  static async load(): Promise<FaceMesh> {
    return new FaceMesh(await humanModelSession('blazeface'), await humanModelSession('facemesh'));
  }

  /** The most confident face in the frame, or null below `minScore`. */
  async detect(img: Rgb, minScore = 0.5): Promise<FaceBox | null> {
    return (await this.detectAll(img, minScore, 1))[0] ?? null;
  }

  /**
   * Up to `maxFaces` faces at or above `minScore`, most confident first; anchors whose box overlaps a kept one by
   * more than a third of the smaller box (intersection over the smaller area) are the same face and dropped.
   */
  async detectAll(img: Rgb, minScore = 0.5, maxFaces = 4): Promise<FaceBox[]> {
    const side = Math.max(img.width, img.height);
    const x = cropSquare(img, img.width / 2, img.height / 2, side, DETECT, 1 / 127.5, -1);
    const r = await this.detector.s.run({
      [this.detector.input]: new ort.Tensor('float32', x, [1, DETECT, DETECT, 3]),
    });
    const byCount = (n: number, d: number) =>
      Object.values(r).find((t) => t.dims[1] === n && t.dims[2] === d)!.data as Float32Array;
    const scores = [...byCount(512, 1), ...byCount(384, 1)];
    const boxes = [byCount(512, 16), byCount(384, 16)];
    const logit = Math.log(minScore / (1 - minScore));
    const order = scores
      .map((s, i) => [s, i])
      .filter(([s]) => s >= logit)
      .sort((a, b) => b[0] - a[0]);
    const kept: FaceBox[] = [];
    for (const [s, best] of order) {
      if (kept.length >= maxFaces) break;
      const raw =
        best < 512
          ? boxes[0].subarray(best * 16, best * 16 + 4)
          : boxes[1].subarray((best - 512) * 16, (best - 512) * 16 + 4);
      const cx = this.anchors[2 * best] + raw[0] / DETECT,
        cy = this.anchors[2 * best + 1] + raw[1] / DETECT;
      const size = Math.max(raw[2], raw[3]) / DETECT;
      // Back from the letterboxed square to frame pixels.
      const box = {
        cx: (cx - 0.5) * side + img.width / 2,
        cy: (cy - 0.5) * side + img.height / 2,
        size: size * side,
        score: 1 / (1 + Math.exp(-s)),
      };
      if (kept.every((k) => overlap(k, box) <= 1 / 3)) kept.push(box);
    }
    return kept;
  }

  /** Landmarks in a square crop of side box.size * MESH_ENLARGE around the box center. */
  async landmarks(img: Rgb, box: FaceBox): Promise<FaceLandmarks> {
    return (await this.landmarksOfCrops([{ crop: meshCrop(img, box), box }]))[0];
  }

  /**
   * Landmarks for several crops (meshCrop) in one facemesh run: per frame a batch of 4 cost 4.3 ms of CPU
   * against 4.9 ms one by one. Each crop's points come back in its own frame's pixels.
   */
  async landmarksOfCrops(crops: { crop: Float32Array; box: FaceBox }[]): Promise<FaceLandmarks[]> {
    const input = crops.length === 1 ? crops[0].crop : new Float32Array(crops.length * MESH * MESH * 3); // [B, 192, 192, 3]
    if (crops.length > 1) crops.forEach((c, b) => input.set(c.crop, b * MESH * MESH * 3));
    const r = await this.mesh.s.run({
      [this.mesh.input]: new ort.Tensor('float32', input, [crops.length, MESH, MESH, 3]),
    });
    const mesh = Object.values(r).find((t) => t.dims[1] === 1404)!.data as Float32Array; // [B, 468 * 3]
    const flags = Object.values(r).find((t) => t.dims[1] === 1)!.data as Float32Array; // [B, 1]
    return crops.map(({ box }, b) => {
      const side = box.size * MESH_ENLARGE;
      const scale = side / MESH;
      const points = new Float32Array(1404);
      for (let p = 0; p < 468; p++) {
        const q = b * 1404 + 3 * p;
        points[3 * p] = box.cx - side / 2 + mesh[q] * scale;
        points[3 * p + 1] = box.cy - side / 2 + mesh[q + 1] * scale;
        points[3 * p + 2] = mesh[q + 2] * scale;
      }
      return { points, flag: flags[b] };
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.detector.s.release(), this.mesh.s.release()]);
  }
}

/** Intersection of two square boxes over the smaller one's area. */
function overlap(a: FaceBox, b: FaceBox): number {
  const span = (c1: number, s1: number, c2: number, s2: number) =>
    Math.max(0, Math.min(c1 + s1 / 2, c2 + s2 / 2) - Math.max(c1 - s1 / 2, c2 - s2 / 2));
  const inter = span(a.cx, a.size, b.cx, b.size) * span(a.cy, a.size, b.cy, b.size);
  return inter / Math.max(1e-9, Math.min(a.size, b.size) ** 2);
}

/** Facemesh's input for a face box: the square of side box.size * MESH_ENLARGE around its center, 192² in [0, 1]. */
export function meshCrop(img: Rgb, box: FaceBox): Float32Array {
  return cropSquare(img, box.cx, box.cy, box.size * MESH_ENLARGE, MESH, 1 / 255, 0);
}

/** Inner-lip gap over inner-lip width (landmarks 13/14 and 78/308): 0 closed, ~0.5 wide open. */
export function mouthOpening(points: Float32Array): number {
  const d = (a: number, b: number) => Math.hypot(points[3 * a] - points[3 * b], points[3 * a + 1] - points[3 * b + 1]);
  return d(13, 14) / Math.max(1e-6, d(78, 308));
}

/**
 * The box to track into the next frame: the landmarks' extent (forehead to chin, wider than a blazeface box),
 * scaled so the next crop is 1.5x that extent (human's tracking margin) after landmarks() enlarges it.
 */
export function boxOfLandmarks(points: Float32Array, score: number): FaceBox {
  let x0 = Infinity,
    x1 = -Infinity,
    y0 = Infinity,
    y1 = -Infinity;
  for (let p = 0; p < 468; p++) {
    x0 = Math.min(x0, points[3 * p]);
    x1 = Math.max(x1, points[3 * p]);
    y0 = Math.min(y0, points[3 * p + 1]);
    y1 = Math.max(y1, points[3 * p + 1]);
  }
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, size: (Math.max(x1 - x0, y1 - y0) * 1.5) / MESH_ENLARGE, score };
}
