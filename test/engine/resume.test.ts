import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostArray, HostArray } from '../../src/io/array.js';
import { Rng } from '../../src/util/rng.js';
import { init, ParamStore, Scope } from '../../src/engine/params.js';
import type { Graph } from '../../src/engine/graph.js';
import { adamw } from '../../src/engine/optim.js';
import { warmupCosine } from '../../src/engine/schedule.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';

// A model with dropout (random inputs drawn each step), AdamW and a warmup+cosine schedule: everything
// that carries state across steps. Batches come from a seeded Rng whose state is saved too.
const [B, D, H] = [8, 6, 16];
function build(g: Graph, p: Scope) {
  const x = g.input('x', 'float32', [B, D]);
  const y = g.input('y', 'float32', [B, 1]);
  const h = x
    .linear(p.param('l1.weight', [D, H], init.xavierUniform()), p.param('l1.bias', [H], init.zeros()))
    .relu()
    .dropout(0.25);
  const out = h.linear(p.param('l2.weight', [H, 1], init.xavierUniform()), p.param('l2.bias', [1], init.zeros()));
  return { loss: out.sub(y).square().mean() };
}
const nextBatch = (rng: Rng): Record<string, HostArray> => {
  const x = Float32Array.from({ length: B * D }, () => rng.normal());
  const y = Float32Array.from({ length: B }, (_, i) => Math.sin(x[i * D]) + 0.5 * x[i * D + 1]);
  return { x: hostArray('float32', [B, D], x), y: hostArray('float32', [B, 1], y) };
};
const lr = warmupCosine({ lr: 0.05, warmupSteps: 3, totalSteps: 10 });
const newTrainer = (storeSeed: number, worker: boolean) =>
  Trainer.create(compileTrainStep(build, new ParamStore(storeSeed), { optimizer: adamw(), clipNorm: 1 }), {
    lr,
    seed: 11,
    worker,
    session: { threads: 1 },
  });

const bits = (a: HostArray) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);

test('resume: N steps == k steps + save + load + (N - k) steps, bit for bit (worker thread)', async () => {
  const [N, k] = [10, 4];
  const dir = mkdtempSync(join(tmpdir(), 'attune-resume-'));
  try {
    const straight = await newTrainer(0, true);
    const data = new Rng(99);
    const straightLosses: number[] = [];
    for (let i = 0; i < N; i++) straightLosses.push((await straight.trainStep(nextBatch(data))).loss);
    const want = await straight.checkpoint();
    await straight.close();

    const first = await newTrainer(0, true);
    const data1 = new Rng(99);
    const losses: number[] = [];
    for (let i = 0; i < k; i++) losses.push((await first.trainStep(nextBatch(data1))).loss);
    const path = join(dir, 'ckpt.safetensors');
    await first.save(path, { data: data1.getState() });
    await first.close();

    // A different init seed: everything must come from the checkpoint.
    const resumed = await newTrainer(12345, true);
    const ckpt = await resumed.restore(path);
    assert.equal(resumed.step, k);
    const data2 = new Rng(0);
    data2.setState(ckpt.rng.data!);
    for (let i = k; i < N; i++) losses.push((await resumed.trainStep(nextBatch(data2))).loss);
    const got = await resumed.checkpoint();
    await resumed.close();

    assert.deepEqual(losses, straightLosses);
    assert.equal(got.step, N);
    for (const [name, value] of Object.entries(want.params))
      assert.ok(bits(value).equals(bits(got.params[name])), `parameter ${name} differs`);
    for (const [name, value] of Object.entries(want.optimState))
      assert.ok(bits(value).equals(bits(got.optimState[name])), `optimizer state ${name} differs`);
    assert.deepEqual(got.rng.dropout, want.rng.dropout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dropout masks depend on the seed and are reproducible', async () => {
  const run = async (seed: number) => {
    const t = await Trainer.create(compileTrainStep(build, new ParamStore(0)), {
      lr: 0.01,
      seed,
      worker: false,
      session: { threads: 1 },
    });
    const data = new Rng(1);
    const losses = [];
    for (let i = 0; i < 3; i++) losses.push((await t.trainStep(nextBatch(data))).loss);
    await t.close();
    return losses;
  };
  const [a, b, c] = [await run(1), await run(1), await run(2)];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('restore rejects a checkpoint from another model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-resume-'));
  try {
    const other = await Trainer.create(
      compileTrainStep(
        (g, p) => ({
          loss: p
            .param('w', [3], init.ones())
            .mul(g.input('x', 'float32', [3]))
            .sum(),
        }),
        new ParamStore(0),
      ),
      { worker: false },
    );
    await other.save(join(dir, 'other.safetensors'));
    await other.close();
    const t = await newTrainer(0, false);
    await assert.rejects(
      t.restore(join(dir, 'other.safetensors')),
      /lacks \d+ tensors this model needs, e.g. 'l1.weight'/,
    );
    await t.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
