/**
 * The face track of the `face` / `av-face` feature presets, on the same face stack as the lip cue of `attune sync`:
 * blazeface + facemesh (face_mesh.ts) for the face and its mouth, human's emotion model (face_expression.ts) for
 * the expressions, all from the `@vladmandic/human` package (a runtime dependency), converted to ONNX in memory and
 * run by onnxruntime-node. Nothing is optional or downloaded.
 *
 * One face is followed: blazeface finds the most confident one, facemesh then follows it frame to frame from its
 * own landmarks, and blazeface runs again on a frame where facemesh's face flag drops below `minFlag` (a cut, a
 * turn away). Per frame (FACE_DIM = 14 values):
 *
 *   [present, score, cx, cy, w, h, mouth_open, 7 expression probabilities (EXPRESSIONS order)]
 *
 * score is facemesh's face flag (probability that the crop holds a face); the box is the landmarks' extent
 * (forehead to chin) in [0, 1] frame units; mouth_open is the inner-lip gap over the inner-lip width (0 closed,
 * ~0.5 wide open); the expressions come from the crop human's emotion model sees: the square sized at detection
 * and centered on the landmarks while the face is followed. All zero when no face is found.
 */
import { MediaError } from '../util/errors.js';
import { boxOfLandmarks, FaceMesh, MESH_ENLARGE, mouthOpening, type FaceBox, type Rgb } from './face_mesh.js';
import { EXPRESSIONS, ExpressionNet } from './face_expression.js';

export { EXPRESSIONS } from './face_expression.js';
export const FACE_DIM = 7 + EXPRESSIONS.length;
export const FACE_COLUMNS = ['present', 'score', 'cx', 'cy', 'w', 'h', 'mouth_open', ...EXPRESSIONS];

export interface FaceTrackOptions {
  /** Blazeface score below which a frame has no face (default 0.5). */
  scoreThreshold?: number;
  /** Facemesh face flag below which the followed face is lost and blazeface runs again (default 0.5). */
  minFlag?: number;
}

interface FaceModels {
  mesh: FaceMesh;
  expressions: ExpressionNet;
}

let loading: Promise<FaceModels> | null = null;

async function loadModels(): Promise<FaceModels> {
  try {
    return { mesh: await FaceMesh.load(), expressions: await ExpressionNet.load() };
  } catch (err) {
    if (err instanceof MediaError) throw err;
    throw new MediaError(`face tracking is unavailable: ${(err as Error).message.split('\n')[0]}`, {
      reason: 'face models unavailable',
    });
  }
}

/** Whether the face track can run here (converts and loads the models once). */
export async function faceTrackingAvailable(): Promise<{ ok: boolean; reason?: string }> {
  try {
    await loadFaceTracker();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

/** The landmarks' bounding box in frame pixels. */
function landmarkExtent(points: Float32Array): { x0: number; y0: number; x1: number; y1: number } {
  const e = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  for (let i = 0; i < points.length; i += 3) {
    e.x0 = Math.min(e.x0, points[i]);
    e.x1 = Math.max(e.x1, points[i]);
    e.y0 = Math.min(e.y0, points[i + 1]);
    e.y1 = Math.max(e.y1, points[i + 1]);
  }
  return e;
}

export class FaceTracker {
  private readonly opts: Required<FaceTrackOptions>;
  /** Where to look in the next frame: the followed face, or null to detect. */
  private box: FaceBox | null = null;
  /**
   * Side of the expression crop: the square human's detector hands every face model (1.4 times its box, which is
   * MESH_ENLARGE times blazeface's box here), set at each detection and kept while the face is followed, centered
   * on the landmarks' extent (human's calculateFaceBox).
   */
  private expressionSide = 0;

  constructor(
    private readonly models: FaceModels,
    opts: FaceTrackOptions = {},
  ) {
    this.opts = { scoreThreshold: opts.scoreThreshold ?? 0.5, minFlag: opts.minFlag ?? 0.5 };
  }

  /** Features of one RGB frame ([H, W, 3] bytes): FACE_DIM values, all zero when no face is found. */
  async analyze(frame: Uint8Array, width: number, height: number): Promise<Float32Array> {
    const img: Rgb = { data: frame, width, height };
    const { mesh, expressions } = this.models;
    let lm = this.box ? await mesh.landmarks(img, this.box) : null;
    if (!lm || lm.flag < this.opts.minFlag) {
      const found = await mesh.detect(img, this.opts.scoreThreshold);
      lm = found ? await mesh.landmarks(img, found) : null;
      if (found) this.expressionSide = found.size * MESH_ENLARGE;
    }
    const out = new Float32Array(FACE_DIM);
    if (!lm || lm.flag < this.opts.minFlag) {
      this.box = null;
      return out;
    }
    this.box = boxOfLandmarks(lm.points, lm.flag);
    const e = landmarkExtent(lm.points);
    const probs = await expressions.classify(img, (e.x0 + e.x1) / 2, (e.y0 + e.y1) / 2, this.expressionSide);
    out.set([
      1,
      lm.flag,
      (e.x0 + e.x1) / 2 / width,
      (e.y0 + e.y1) / 2 / height,
      (e.x1 - e.x0) / width,
      (e.y1 - e.y0) / height,
      mouthOpening(lm.points),
    ]);
    out.set(probs, 7);
    return out;
  }
}

/** A tracker on the shared models (converted and loaded once per process, lazily). */
export async function loadFaceTracker(opts: FaceTrackOptions = {}): Promise<FaceTracker> {
  loading ??= loadModels();
  try {
    return new FaceTracker(await loading, opts);
  } catch (err) {
    loading = null;
    throw err;
  }
}
