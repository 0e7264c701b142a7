import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeModel } from '../../src/engine/onnx/proto.js';
import { toModelProto } from '../../src/engine/onnx/build.js';
import { Graph } from '../../src/engine/graph.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { drawRandomFeeds, LocalRunner, Runner, RunnerSpec } from '../../src/engine/runner.js';
import { Rng } from '../../src/util/rng.js';
import { WorkerRunner } from '../../src/engine/worker.js';
import { hostArray } from '../../src/io/array.js';
import { InputError } from '../../src/util/errors.js';

// Small traced programs, written to ONNX bytes: a runner only sees bytes, so these pin the runner itself.
const program = (g: Graph, outputs: Record<string, Tensor>): Uint8Array => encodeModel(toModelProto(g, outputs));

/** state' = state + x; total = ReduceSum(state'): a "parameter" that accumulates what is fed. */
function accumulator(n: number): Uint8Array {
  const g = new Graph();
  const next = g.input('state', 'float32', [n]).add(g.input('x', 'float32', [n]));
  return program(g, { state_next: next, total: next.sum() });
}

/** A chain of large matmuls: long enough (~0.2-1 s) to show whether the event loop is blocked. */
function slowProgram(n: number, reps: number): Uint8Array {
  const g = new Graph();
  const a = g.input('a', 'float32', [n, n]);
  let prev = a;
  for (let i = 0; i < reps; i++) prev = prev.matmul(a).tanh();
  return program(g, { y: prev.sum() });
}

const accSpec = (): RunnerSpec => ({
  onnx: accumulator(3),
  state: { state: hostArray('float32', [3], new Float32Array([1, 2, 3])) },
  carry: { state_next: 'state' },
  guard: ['total'],
  session: { threads: 1 },
});

for (const [label, make] of [
  ['LocalRunner', LocalRunner.create],
  ['WorkerRunner', WorkerRunner.create],
] as const) {
  test(`${label}: carried outputs replace state; non-finite guard skips the update`, async () => {
    const r: Runner = await make(accSpec());
    try {
      const one = hostArray('float32', [3], new Float32Array([1, 1, 1]));
      let res = await r.run({ x: one });
      assert.equal(res.committed, true);
      assert.equal((res.outputs.total.data as Float32Array)[0], 9);
      assert.equal(res.outputs.state_next, undefined, 'carried outputs are not returned');
      res = await r.run({ x: one });
      assert.equal((res.outputs.total.data as Float32Array)[0], 12);
      res = await r.run({ x: hostArray('float32', [3], new Float32Array([NaN, 0, 0])) });
      assert.equal(res.committed, false);
      assert.deepEqual(
        [...((await r.getState(['state'])).state.data as Float32Array)],
        [3, 4, 5],
        'state kept after a NaN step',
      );
      await r.setState({ state: hostArray('float32', [3], new Float32Array([0, 0, 0])) });
      res = await r.run({ x: one });
      assert.equal((res.outputs.total.data as Float32Array)[0], 3);
      await assert.rejects(r.setState({ state: hostArray('float32', [2]) }), /shape \[3\], got \[2\]/);
      await assert.rejects(r.run({}), (e: unknown) => e instanceof InputError && /program input 'x'/.test(e.message));
    } finally {
      await r.close();
    }
  });
}

test('WorkerRunner keeps the event loop live during a long run; LocalRunner blocks it', async () => {
  const n = 512;
  const spec: RunnerSpec = {
    onnx: slowProgram(n, 24),
    state: { a: hostArray('float32', [n, n], new Float32Array(n * n).fill(0.01)) },
    carry: {},
    session: { threads: 1 },
  };
  const ticksDuring = async (r: Runner) => {
    await r.run({}); // warm-up: session initialization
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    const res = await r.run({});
    const ms = performance.now() - t0;
    clearInterval(timer);
    assert.ok(Number.isFinite((res.outputs.y.data as Float32Array)[0]));
    await r.close();
    return { ticks, ms };
  };
  const worker = await ticksDuring(await WorkerRunner.create(spec));
  const local = await ticksDuring(await LocalRunner.create(spec));
  // A 5 ms interval over a run of `ms` should fire about ms/5 times when the loop is free.
  assert.ok(
    worker.ticks >= Math.min(10, worker.ms / 20),
    `worker: ${worker.ticks} ticks in ${worker.ms.toFixed(0)} ms`,
  );
  assert.ok(local.ticks <= 1, `local: ${local.ticks} ticks in ${local.ms.toFixed(0)} ms (expected the loop blocked)`);
});

test('dropout masks: about p zeros, the rest 1/(1-p), dtype as declared, same stream for the same Rng state', () => {
  const rng = new Rng(21);
  const state = rng.getState();
  const { m, d } = drawRandomFeeds(
    [
      { name: 'm', shape: [100, 100], p: 0.3 },
      { name: 'd', shape: [3], p: 0.5, dtype: 'float64' },
    ],
    rng,
  );
  const vals = m.data as Float32Array;
  const zeros = vals.filter((v) => v === 0).length;
  assert.ok(Math.abs(zeros / vals.length - 0.3) < 0.02, `zero fraction ${zeros / vals.length}`);
  assert.ok(vals.every((v) => v === 0 || v === Math.fround(1 / 0.7)));
  assert.ok(d.data instanceof Float64Array);
  rng.setState(state);
  assert.deepEqual(drawRandomFeeds([{ name: 'm', shape: [100, 100], p: 0.3 }], rng).m.data, m.data);
});
