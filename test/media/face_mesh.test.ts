/**
 * The face stack's crop: cropSquare (the per-frame input of blazeface and facemesh) against a plain bilinear
 * reference, on a random frame, with the square partly outside the picture (black there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropSquare, type Rgb } from '../../src/media/face_mesh.js';
import { Rng } from '../../src/util/rng.js';

function reference(img: Rgb, cx: number, cy: number, side: number, S: number, a: number, b: number): Float32Array {
  const out = new Float32Array(S * S * 3);
  const px = (x: number, y: number, c: number) =>
    x < 0 || y < 0 || x >= img.width || y >= img.height ? 0 : img.data[(y * img.width + x) * 3 + c];
  for (let j = 0; j < S; j++) {
    for (let i = 0; i < S; i++) {
      const sx = cx - side / 2 + ((i + 0.5) * side) / S - 0.5,
        sy = cy - side / 2 + ((j + 0.5) * side) / S - 0.5;
      const x0 = Math.floor(sx),
        y0 = Math.floor(sy),
        fx = sx - x0,
        fy = sy - y0;
      for (let c = 0; c < 3; c++) {
        const v =
          (1 - fy) * ((1 - fx) * px(x0, y0, c) + fx * px(x0 + 1, y0, c)) +
          fy * ((1 - fx) * px(x0, y0 + 1, c) + fx * px(x0 + 1, y0 + 1, c));
        out[(j * S + i) * 3 + c] = a * v + b;
      }
    }
  }
  return out;
}

const rng = new Rng(4);
const img: Rgb = { data: Uint8Array.from({ length: 40 * 30 * 3 }, () => rng.int(256)), width: 40, height: 30 };

for (const [cx, cy, side, S] of [
  [20, 15, 24, 16],
  [3, 28, 30, 19],
  [38.3, 1.7, 12.5, 8],
  [20, 15, 80, 32],
]) {
  test(`cropSquare matches bilinear sampling: center (${cx}, ${cy}), side ${side}, ${S}x${S}`, () => {
    const got = cropSquare(img, cx, cy, side, S, 1 / 127.5, -1);
    const want = reference(img, cx, cy, side, S, 1 / 127.5, -1);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    assert.ok(worst < 1e-5, `max |difference| ${worst}`);
  });
}
