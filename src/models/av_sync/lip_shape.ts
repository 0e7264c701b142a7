/**
 * The shape of the lips in one frame, as the learned lip cue reads it (lip_net.ts): the 40 facemesh lip landmarks
 * (20 outer, 20 inner), x and y, moved to the mouth's center, turned so the mouth corners (61, 291) lie on a
 * horizontal line, and divided by the corner distance. The result does not change when the head moves, rolls or
 * comes closer, only when the lips move; z is left out (facemesh's depth is relative and noisy at the lips).
 */

/** Facemesh lip landmarks: outer contour (from corner 61 around), then inner contour (from corner 78 around). */
export const LIP_POINTS = [
  61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146, 78, 191, 80, 81, 82, 13,
  312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95,
] as const;
/** Values per frame: x and y of each lip point. */
export const LIP_DIM = 2 * LIP_POINTS.length;
const LEFT_CORNER = 61;
const RIGHT_CORNER = 291;

/** points: facemesh's [468 * 3] in frame pixels -> [LIP_DIM] written into `out` (a new array when omitted). */
export function lipShape(points: Float32Array, out: Float32Array = new Float32Array(LIP_DIM)): Float32Array {
  if (points.length < 468 * 3) throw new RangeError(`lipShape needs 468 x 3 landmarks, got ${points.length} values`);
  let cx = 0,
    cy = 0;
  for (const p of LIP_POINTS) {
    cx += points[3 * p] / LIP_POINTS.length;
    cy += points[3 * p + 1] / LIP_POINTS.length;
  }
  const dx = points[3 * RIGHT_CORNER] - points[3 * LEFT_CORNER];
  const dy = points[3 * RIGHT_CORNER + 1] - points[3 * LEFT_CORNER + 1];
  const width = Math.max(1e-6, Math.hypot(dx, dy));
  // Rotation by minus the corner line's angle, and the scale, in one 2x2 matrix.
  const c = dx / width / width,
    s = dy / width / width;
  LIP_POINTS.forEach((p, k) => {
    const x = points[3 * p] - cx,
      y = points[3 * p + 1] - cy;
    out[2 * k] = c * x + s * y;
    out[2 * k + 1] = -s * x + c * y;
  });
  return out;
}
