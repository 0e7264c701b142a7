import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  matmul,
  matrix,
  symmetricEigenvalues,
  choleskyPsd,
  traceSqrtProduct,
  covariance,
  frechetDistance,
} from '../../src/metrics/index.js';
import { ShapeError, InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { close } from './helpers.js';

function randomMatrix(r: number, c: number, rng: Rng): ReturnType<typeof matrix> {
  const m = matrix(r, c);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal();
  return m;
}

function naiveMatmul(a: ReturnType<typeof matrix>, b: ReturnType<typeof matrix>): Float64Array {
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let j = 0; j < b.cols; j++)
      for (let k = 0; k < a.cols; k++) out[i * b.cols + j] += a.data[i * a.cols + k] * b.data[k * b.cols + j];
  return out;
}

test('ORT matmul agrees with a float64 loop (float64 exactly, float32 to ~1e-5)', async () => {
  const rng = new Rng(1);
  const a = randomMatrix(7, 13, rng);
  const b = randomMatrix(13, 5, rng);
  const want = naiveMatmul(a, b);
  const got64 = await matmul(a, b, { precision: 'float64' });
  const got32 = await matmul(a, b, { precision: 'float32' });
  want.forEach((v, i) => {
    close(got64.data[i], v, 1e-12);
    close(got32.data[i], v, 1e-4);
  });
  const t = await matmul(a, a, { transA: true });
  close(
    t.data[0],
    Array.from({ length: 7 }, (_, i) => a.data[i * 13] ** 2).reduce((x, y) => x + y),
    1e-12,
  );
});

test('symmetric eigenvalues: known spectra and trace/Frobenius identities', () => {
  const d = matrix(3, 3, new Float64Array([3, 0, 0, 0, -1, 0, 0, 0, 2]));
  symmetricEigenvalues(d).forEach((v, i) => close(v, [-1, 2, 3][i], 1e-12));
  const two = symmetricEigenvalues(matrix(2, 2, new Float64Array([2, 1, 1, 2])));
  close(two[0], 1, 1e-13);
  close(two[1], 3, 1e-13);
  const rng = new Rng(2);
  const n = 40;
  const x = randomMatrix(n, n, rng);
  const s = matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s.data[i * n + j] = x.data[i * n + j] + x.data[j * n + i];
  const ev = symmetricEigenvalues(s);
  let tr = 0;
  let fro = 0;
  for (let i = 0; i < n; i++) tr += s.data[i * n + i];
  for (const v of s.data) fro += v * v;
  close(
    ev.reduce((p, v) => p + v, 0),
    tr,
    1e-10,
    'sum of eigenvalues',
  );
  close(
    ev.reduce((p, v) => p + v * v, 0),
    fro,
    1e-8,
    'sum of squares',
  );
  for (let i = 1; i < n; i++) assert.ok(ev[i] >= ev[i - 1]);
});

test('semidefinite Cholesky reproduces a singular covariance exactly', async () => {
  const rng = new Rng(3);
  const x = randomMatrix(4, 9, rng); // rank 3 covariance in 9 dimensions
  const { cov } = await covariance(x, 'float64');
  const l = choleskyPsd(cov);
  const back = naiveMatmul(
    l,
    matrix(
      9,
      9,
      Float64Array.from({ length: 81 }, (_, k) => l.data[(k % 9) * 9 + Math.floor(k / 9)]),
    ),
  );
  back.forEach((v, i) => close(v, cov.data[i], 1e-10));
});

test('Tr sqrt(S1 S2): commuting diagonal case and a Denman-Beavers reference', async () => {
  const s1 = matrix(3, 3, new Float64Array([4, 0, 0, 0, 9, 0, 0, 0, 0]));
  const s2 = matrix(3, 3, new Float64Array([1, 0, 0, 0, 4, 0, 0, 0, 5]));
  close(await traceSqrtProduct(s1, s2), 2 + 6 + 0, 1e-12);
  // random SPD pair vs an independent sqrtm (Denman-Beavers on S1 S2 with 2x2... n x n inverses)
  const rng = new Rng(4);
  const n = 5;
  const spd = () => {
    const g = randomMatrix(n, n, rng);
    const s = matrix(n, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let k = 0; k < n; k++) s.data[i * n + j] += g.data[i * n + k] * g.data[j * n + k];
    for (let i = 0; i < n; i++) s.data[i * n + i] += 0.5;
    return s;
  };
  const a = spd();
  const b = spd();
  const p = matrix(n, n, naiveMatmul(a, b));
  close(await traceSqrtProduct(a, b), denmanBeaversTraceSqrt(p), 1e-9);
});

function invert(m: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(m);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[p * n + c])) p = r;
    for (let k = 0; k < n; k++) {
      [a[c * n + k], a[p * n + k]] = [a[p * n + k], a[c * n + k]];
      [inv[c * n + k], inv[p * n + k]] = [inv[p * n + k], inv[c * n + k]];
    }
    const d = a[c * n + c];
    for (let k = 0; k < n; k++) {
      a[c * n + k] /= d;
      inv[c * n + k] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c];
      for (let k = 0; k < n; k++) {
        a[r * n + k] -= f * a[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

/** Tr(sqrtm(P)) by the Denman-Beavers iteration (an independent method, small n only). */
function denmanBeaversTraceSqrt(p: ReturnType<typeof matrix>): number {
  const n = p.rows;
  let y = Float64Array.from(p.data);
  let z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) z[i * n + i] = 1;
  for (let it = 0; it < 60; it++) {
    const yi = invert(y, n);
    const zi = invert(z, n);
    y = y.map((v, i) => 0.5 * (v + zi[i]));
    z = z.map((v, i) => 0.5 * (v + yi[i]));
  }
  let t = 0;
  for (let i = 0; i < n; i++) t += y[i * n + i];
  return t;
}

test('Fréchet distance: 0 for identical sets, |shift|^2 for a translated set, singular covariances', async () => {
  const rng = new Rng(5);
  const x = randomMatrix(30, 6, rng);
  close((await frechetDistance(x, x)).fd, 0, 1e-9);
  const shifted = matrix(
    30,
    6,
    x.data.map((v, i) => v + (i % 6 === 2 ? 3 : 0)),
  );
  const r = await frechetDistance(x, shifted);
  close(r.fd, 9, 1e-9);
  close(r.meanTerm, 9, 1e-12);
  // fewer samples than dimensions: rank-deficient covariances, still finite and non-negative
  const few = await frechetDistance(randomMatrix(4, 10, rng), randomMatrix(5, 10, rng));
  assert.ok(Number.isFinite(few.fd) && few.fd > 0);
  // all-constant features: zero covariance on both sides -> FD is the mean term
  const c1 = matrix(3, 2, new Float64Array([1, 2, 1, 2, 1, 2]));
  const c2 = matrix(3, 2, new Float64Array([0, 0, 0, 0, 0, 0]));
  close((await frechetDistance(c1, c2)).fd, 5, 1e-12);
  await assert.rejects(frechetDistance(randomMatrix(1, 3, rng), randomMatrix(4, 3, rng)), InputError);
  await assert.rejects(frechetDistance(randomMatrix(4, 3, rng), randomMatrix(4, 2, rng)), ShapeError);
});

test('blocked paths (n >= 192) agree with the one-stage float64 paths, singular matrices included', async () => {
  const { symmetricEigenvaluesBlocked, choleskyPsdBlocked } = await import('../../src/metrics/index.js');
  const rng = new Rng(6);
  for (const rows of [260, 90]) {
    const x = randomMatrix(rows, 210, rng); // rows < 210: rank-deficient covariance
    for (let i = 0; i < x.data.length; i++) x.data[i] *= 1 + (i % 210) / 70;
    const { cov } = await covariance(x, 'float64');
    const slow = symmetricEigenvalues(cov);
    const fast = await symmetricEigenvaluesBlocked(cov);
    const scale = slow[slow.length - 1];
    slow.forEach((v, i) => close(fast[i], v, 1e-12 * scale, `eigenvalue ${i} (rows ${rows})`));
    const l1 = choleskyPsd(cov);
    const l2 = await choleskyPsdBlocked(cov);
    let worst = 0;
    l1.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - l2.data[i]))));
    assert.ok(worst < 1e-8 * Math.sqrt(scale), `Cholesky factors differ by ${worst}`);
  }
  const base = randomMatrix(300, 200, rng);
  const moved = matrix(
    300,
    200,
    base.data.map((v, i) => v + (i % 200 === 7 ? 0.5 : 0) + (i % 200 === 100 ? -2 : 0)),
  );
  close((await frechetDistance(base, moved)).fd, 0.25 + 4, 1e-8);
});

test('tridiagonal implicit QR agrees with Sturm bisection, including zero and decoupled blocks', async () => {
  const { tridiagonalEigenvalues, tridiagonalEigenvaluesBisect } = await import('../../src/metrics/index.js');
  const rng = new Rng(8);
  const cases: [Float64Array, Float64Array][] = [];
  const n = 120;
  cases.push([
    Float64Array.from({ length: n }, () => rng.normal()),
    Float64Array.from({ length: n }, (_, i) => (i ? rng.normal() : 0)),
  ]);
  cases.push([new Float64Array(n), Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : 1e-3))]);
  cases.push([Float64Array.from({ length: n }, (_, i) => (i % 3 ? 2 : 0)), new Float64Array(n)]);
  for (const [d, e] of cases) {
    const qr = tridiagonalEigenvalues(d, e);
    const bi = tridiagonalEigenvaluesBisect(d, e);
    qr.forEach((v, i) => close(v, bi[i], 1e-12, `eigenvalue ${i}`));
  }
});

test('congruenceLower: Lᵀ S L from the nonzero blocks equals the dense product', async () => {
  const { congruenceLower } = await import('../../src/metrics/index.js');
  const rng = new Rng(10);
  for (const n of [7, 203]) {
    const s = randomMatrix(n, n, rng);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) s.data[j * n + i] = s.data[i * n + j];
    const l = randomMatrix(n, n, rng);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) l.data[i * n + j] = 0;
    const lt = matrix(
      n,
      n,
      Float64Array.from({ length: n * n }, (_, k) => l.data[(k % n) * n + Math.floor(k / n)]),
    );
    const want = naiveMatmul(lt, matrix(n, n, naiveMatmul(s, l)));
    const got = await congruenceLower(s, l);
    want.forEach((v, i) => close(got.data[i], v, 1e-9 * n));
  }
});
