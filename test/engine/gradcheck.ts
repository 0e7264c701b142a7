/** Finite-difference gradient checks for the engine's gradient graphs (a helper for *.test.ts). */
import assert from 'node:assert/strict';
import {
  type Dim,
  Graph,
  type OpName,
  Session,
  Tensor,
  constant,
  drawRandomFeeds,
  grad,
} from '../../src/engine/index.js';
import type { HostArray } from '../../src/io/array.js';
import { Rng } from '../../src/util/rng.js';

export interface CheckInput {
  shape: number[];
  /** Values (default: seeded normals). */
  data?: number[];
  /** int64 inputs (indices) take no gradient. */
  dtype?: 'float64' | 'int64' | 'bool';
  /** The shape the graph input is declared with, when it differs from the fed `shape` (symbolic dims such as 'B'). */
  declare?: Dim[];
}

export interface CheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  seed?: number;
}

export interface TracedCheck {
  graph: Graph;
  /** The differentiated scalar: build(...) weighted by fixed random numbers and summed. */
  loss: Tensor;
  /** The float64 inputs and their symbolic gradients (same order). */
  diff: Tensor[];
  grads: Tensor[];
  feeds: Record<string, HostArray>;
  /** Op types of the checked function (the part whose gradient is compared with finite differences). */
  forwardOps: Set<OpName>;
  /** Op types anywhere in the checked graph, gradient nodes included. */
  allOps: Set<OpName>;
}

/**
 * Traces a check without running it: f(inputs) reduced to a scalar with a fixed random weighting (so every output
 * element matters), and its symbolic gradients. Dropout masks are drawn once with the engine's sampler
 * (drawRandomFeeds, the one the Trainer uses) and fed as fixed inputs.
 */
export function traceCheck(build: (...xs: Tensor[]) => Tensor, inputs: CheckInput[], seed = 7): TracedCheck {
  const rng = new Rng(seed);
  const g = new Graph();
  const xs = inputs.map((s, i) => g.input(`x${i}`, s.dtype ?? 'float64', s.declare ?? s.shape));
  const feeds: Record<string, HostArray> = {};
  inputs.forEach((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const vals = s.data ?? Array.from({ length: n }, () => rng.normal());
    const dtype = s.dtype ?? 'float64';
    const data =
      dtype === 'int64'
        ? BigInt64Array.from(vals.map((v) => BigInt(v)))
        : dtype === 'bool'
          ? Uint8Array.from(vals)
          : Float64Array.from(vals);
    feeds[`x${i}`] = { dtype, shape: s.shape, data };
  });
  const out = build(...xs);
  const forwardOps = new Set(g.nodes.map((nd) => nd.op));
  Object.assign(feeds, drawRandomFeeds(g.randomInputs, new Rng(seed + 1))); // dropout masks: drawn once, fixed for the check
  if (!out.shape.every((d) => typeof d === 'number'))
    throw new Error(`gradcheck: the checked output must have a static shape, got [${out.shape.join(', ')}]`);
  const shape = out.shape as number[];
  const n = shape.reduce((a, b) => a * b, 1);
  const weights = constant(
    g,
    Array.from({ length: n }, () => rng.normal()),
    'float64',
    shape,
  );
  const loss = out.mul(weights).sum();
  const diff = xs.filter((x) => x.dtype === 'float64');
  const grads = grad(loss, diff);
  return { graph: g, loss, diff, grads, feeds, forwardOps, allOps: new Set(g.nodes.map((nd) => nd.op)) };
}

/**
 * Builds f(inputs) (traceCheck), takes symbolic gradients with grad() and compares them with central differences of
 * the same float64 graph. Returns the largest absolute error seen.
 */
export async function gradcheck(
  build: (...xs: Tensor[]) => Tensor,
  inputs: CheckInput[],
  opts: CheckOptions = {},
): Promise<number> {
  const { eps = 1e-6, rtol = 1e-5, atol = 1e-7, seed = 7 } = opts;
  const { graph: g, loss, diff, grads, feeds } = traceCheck(build, inputs, seed);
  const outputs: Record<string, Tensor> = { loss };
  grads.forEach((t, i) => (outputs[`g${i}`] = t));
  const full = await Session.create(g, outputs, { threads: 1 });
  const fwd = await Session.create(g, { loss }, { threads: 1 });
  const analytic = await full.run(feeds);
  const lossAt = async (): Promise<number> => (await fwd.run(feeds)).loss.data[0] as number;
  let worst = 0;
  for (const [k, x] of diff.entries()) {
    const data = feeds[x.name].data as Float64Array;
    const ga = analytic[`g${k}`];
    assert.deepEqual(ga.shape, feeds[x.name].shape, `gradient of ${x.name} has the input's shape`);
    for (let i = 0; i < data.length; i++) {
      const keep = data[i];
      data[i] = keep + eps;
      const up = await lossAt();
      data[i] = keep - eps;
      const down = await lossAt();
      data[i] = keep;
      const numeric = (up - down) / (2 * eps);
      const a = ga.data[i] as number;
      const err = Math.abs(a - numeric);
      worst = Math.max(worst, err);
      assert.ok(err <= atol + rtol * Math.abs(numeric), `d/d${x.name}[${i}]: analytic ${a} vs numeric ${numeric}`);
    }
  }
  await full.release();
  await fwd.release();
  return worst;
}
