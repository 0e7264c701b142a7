import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { humanModelSession } from '../../src/media/face_mesh.js';
import { Rng } from '../../src/util/rng.js';
import { runOnTfjs } from './human_tfjs.js';

/**
 * human's face models converted to ONNX (tfjs_onnx.ts) against the same graphs run by TensorFlow.js itself (the copy
 * bundled inside @vladmandic/human, cpu backend), on identical inputs: random pixels and smooth shaded patterns.
 * The worst |ONNX - TFJS| per model is printed, so the figure in docs/media.md can be re-measured.
 */
function inputs(n: number, size: number, channels: number, lo: number, hi: number, seed: string): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n * size * size * channels);
  for (let k = 0; k < n; k++)
    for (let y = 0; y < size; y++)
      for (let i = 0; i < size; i++)
        for (let c = 0; c < channels; c++) {
          // Half the images noise, half a smooth blob field (closer to a face crop than noise is).
          const smooth =
            0.5 + 0.35 * Math.sin((i / size) * (3 + k) + c) * Math.cos((y / size) * (2 + k) - c) + 0.05 * rng.normal();
          const u = k % 2 === 0 ? rng.uniform() : Math.min(1, Math.max(0, smooth));
          x[((k * size + y) * size + i) * channels + c] = lo + (hi - lo) * u;
        }
  return x;
}

async function worstDifference(name: string, x: Float32Array, shape: number[]): Promise<number> {
  const net = await humanModelSession(name);
  const [n, ...one] = shape;
  const per = x.length / n;
  let worst = 0;
  try {
    // One input at a time: blazeface and facemesh take a batch of one.
    for (let k = 0; k < n; k++) {
      const xk = x.slice(k * per, (k + 1) * per);
      const want = await runOnTfjs(name, xk, [1, ...one]);
      const got = await net.s.run({ [net.input]: new ort.Tensor('float32', xk, [1, ...one]) });
      // Outputs are matched by size: graph output names differ between the two runtimes.
      for (const g of Object.values(got)) {
        const data = g.data as Float32Array;
        const ref = want.find((w) => w.length === data.length);
        assert.ok(ref, `${name}: a TFJS output of ${data.length} values`);
        for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(data[i] - ref[i]));
      }
    }
  } finally {
    await net.s.release();
  }
  process.stdout.write(`# ${name}: max |ONNX - TFJS| ${worst.toExponential(2)} over ${n} inputs\n`);
  return worst;
}

test('emotion (64x64 gray, 7 softmax probabilities): ONNX matches TFJS', async () => {
  // Inputs within [-0.3, 0.3]: full-range noise drives the softmax to 0/1, where any two runtimes agree.
  const worst = await worstDifference('emotion', inputs(4, 64, 1, -0.3, 0.3, 'emotion'), [4, 64, 64, 1]);
  assert.ok(worst < 1e-5, `max |ONNX - TFJS| ${worst}`);
});

test('blazeface (256x256 RGB in [-1, 1]) and facemesh (192x192 RGB in [0, 1]): ONNX matches TFJS', async () => {
  // Blazeface logits and box offsets are in pixels of a 256 input; facemesh landmarks in pixels of 192.
  const detector = await worstDifference('blazeface', inputs(2, 256, 3, -1, 1, 'blazeface'), [2, 256, 256, 3]);
  assert.ok(detector < 2e-3, `blazeface: max |ONNX - TFJS| ${detector}`);
  const mesh = await worstDifference('facemesh', inputs(2, 192, 3, 0, 1, 'facemesh'), [2, 192, 192, 3]);
  assert.ok(mesh < 2e-3, `facemesh: max |ONNX - TFJS| ${mesh}`);
});
