import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MediaError } from '../util/errors.js';

/**
 * Optional face track from @vladmandic/face-api (weights ship inside the npm package), run on the
 * TensorFlow.js WebAssembly backend (@tensorflow/tfjs-backend-wasm: the .wasm ships in the package, nothing is
 * downloaded). All three are optionalDependencies and are imported lazily: when missing, `loadFaceTracker`
 * throws a MediaError saying what to install, and nothing else in src/media depends on them.
 *
 * Per frame (FACE_DIM = 14 values): [present, score, cx, cy, w, h, mouth_open, 7 expression probabilities]
 * with the box in [0, 1] frame units and mouth_open = inner-lip gap / mouth width (0 closed, ~0.3-0.6 wide open).
 */
export const EXPRESSIONS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;
export const FACE_DIM = 7 + EXPRESSIONS.length;
export const FACE_COLUMNS = ['present', 'score', 'cx', 'cy', 'w', 'h', 'mouth_open', ...EXPRESSIONS];

export interface FaceTrackOptions {
  /** Detector input size (multiple of 32): 224 fast, 320 default, 416 finds smaller faces. */
  inputSize?: number;
  scoreThreshold?: number;
}

interface Point {
  x: number;
  y: number;
}
interface FaceResult {
  detection: { score: number; box: { x: number; y: number; width: number; height: number } };
  landmarks: { getMouth(): Point[] };
  expressions: Record<string, number>;
}
interface FaceApi {
  tf: {
    setBackend(name: string): Promise<boolean>;
    ready(): Promise<void>;
    tensor3d(data: Int32Array, shape: [number, number, number], dtype: 'int32'): { dispose(): void };
  };
  nets: Record<
    'tinyFaceDetector' | 'faceLandmark68TinyNet' | 'faceExpressionNet',
    { loadFromDisk(dir: string): Promise<void> }
  >;
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => unknown;
  detectAllFaces(
    img: unknown,
    opts: unknown,
  ): {
    withFaceLandmarks(tiny: boolean): { withFaceExpressions(): Promise<FaceResult[]> };
  };
}

let loading: Promise<FaceApi> | null = null;

async function loadFaceApi(): Promise<FaceApi> {
  const require = createRequire(import.meta.url);
  let api: FaceApi;
  let modelDir: string;
  try {
    api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    require('@tensorflow/tfjs-backend-wasm');
    modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  } catch (err) {
    throw new MediaError(
      `face tracking is unavailable: ${(err as Error).message.split('\n')[0]}. ` +
        'Install the optional packages: npm install @vladmandic/face-api @tensorflow/tfjs @tensorflow/tfjs-backend-wasm',
      { reason: 'face-api unavailable' },
    );
  }
  if (!(await api.tf.setBackend('wasm'))) {
    throw new MediaError('face tracking is unavailable: the TensorFlow.js wasm backend failed to start', {
      reason: 'face-api unavailable',
    });
  }
  await api.tf.ready();
  await api.nets.tinyFaceDetector.loadFromDisk(modelDir);
  await api.nets.faceLandmark68TinyNet.loadFromDisk(modelDir);
  await api.nets.faceExpressionNet.loadFromDisk(modelDir);
  return api;
}

/** Whether the face track can run here (loads the models once). */
export async function faceTrackingAvailable(): Promise<{ ok: boolean; reason?: string }> {
  try {
    await loadFaceTracker();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

function mouthOpening(mouth: Point[]): number {
  // 68-point layout: mouth = points 48..67; corners 48/54 (idx 0/6), inner lips 61-63 over 67-65 (idx 13-15 / 19-17).
  const dist = (a: Point, b: Point): number => Math.hypot(a.x - b.x, a.y - b.y);
  const width = dist(mouth[0], mouth[6]);
  if (!(width > 0)) return 0;
  const gap = (dist(mouth[13], mouth[19]) + dist(mouth[14], mouth[18]) + dist(mouth[15], mouth[17])) / 3;
  return gap / width;
}

export class FaceTracker {
  private readonly api: FaceApi;
  private readonly opts: Required<FaceTrackOptions>;
  private prevCenter: [number, number] | null = null;

  constructor(api: FaceApi, opts: FaceTrackOptions = {}) {
    this.api = api;
    this.opts = { inputSize: opts.inputSize ?? 320, scoreThreshold: opts.scoreThreshold ?? 0.4 };
  }

  /** Features of one RGB frame ([H, W, 3] bytes): FACE_DIM values, all zero when no face is found. */
  async analyze(frame: Uint8Array, width: number, height: number): Promise<Float32Array> {
    const img = this.api.tf.tensor3d(Int32Array.from(frame), [height, width, 3], 'int32');
    let faces: FaceResult[];
    try {
      faces = await this.api
        .detectAllFaces(img, new this.api.TinyFaceDetectorOptions(this.opts))
        .withFaceLandmarks(true)
        .withFaceExpressions();
    } finally {
      img.dispose();
    }
    const out = new Float32Array(FACE_DIM);
    if (faces.length === 0) return out;
    // Follow the face nearest the previous one; on the first frame take the largest.
    const center = (f: FaceResult): [number, number] => {
      const b = f.detection.box;
      return [(b.x + b.width / 2) / width, (b.y + b.height / 2) / height];
    };
    const prev = this.prevCenter;
    const cost = (f: FaceResult): number => {
      if (!prev) return -f.detection.box.width * f.detection.box.height;
      const [cx, cy] = center(f);
      return Math.hypot(cx - prev[0], cy - prev[1]);
    };
    const face = faces.reduce((a, b) => (cost(b) < cost(a) ? b : a));
    const [cx, cy] = center(face);
    this.prevCenter = [cx, cy];
    const b = face.detection.box;
    out.set([
      1,
      face.detection.score,
      cx,
      cy,
      b.width / width,
      b.height / height,
      mouthOpening(face.landmarks.getMouth()),
    ]);
    EXPRESSIONS.forEach((name, i) => {
      out[7 + i] = face.expressions[name] ?? 0;
    });
    return out;
  }
}

/** Loads face-api and its models once (lazily); throws a MediaError when the optional packages are missing. */
export async function loadFaceTracker(opts: FaceTrackOptions = {}): Promise<FaceTracker> {
  loading ??= loadFaceApi();
  try {
    return new FaceTracker(await loading, opts);
  } catch (err) {
    loading = null;
    throw err;
  }
}
