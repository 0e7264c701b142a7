import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostArray, HostArray } from '../../src/io/array.js';
import { ConfigError } from '../../src/util/errors.js';
import { init, ParamStore } from '../../src/engine/params.js';
import { adamw, sgd, Optimizer, withEma } from '../../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import { warmupCosine } from '../../src/engine/schedule.js';

// loss = sum(w * x): the gradient w.r.t. w is exactly the fed x, so each optimizer's arithmetic can be
// checked against a float64 reference of the PyTorch formulas.
const N = 5;
const W0 = [0.5, -1, 2, 0.25, -0.75];
const f32 = (v: number[]) => hostArray('float32', [v.length], Float32Array.from(v));

async function linearProbe(opt: Optimizer, opts: { clipNorm?: number; lr?: number | ((s: number) => number) } = {}) {
  const store = new ParamStore(0);
  store.set('w', f32(W0));
  const compiled = compileTrainStep(
    (g, p) => {
      const x = g.input('x', 'float32', [N]);
      const w = p.param('w', [N], init.zeros());
      const frozen = p.param('frozen', [N], init.ones(), { trainable: false });
      return { loss: w.mul(x).sum().add(frozen.mul(x).sum()) };
    },
    store,
    { optimizer: opt, clipNorm: opts.clipNorm },
  );
  return Trainer.create(compiled, { lr: opts.lr ?? 0.1, worker: false, session: { threads: 1 } });
}

const grads = [
  [1, 2, -3, 0.5, 0],
  [-0.5, 0.1, 0.2, 4, -1],
  [0.3, -0.3, 1, 1, 1],
  [2, 2, 2, -2, 0.01],
];

function assertClose(got: ArrayLike<number>, want: number[], tol: number, what: string) {
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
}

test('AdamW in the step graph matches torch.optim.AdamW arithmetic (bias correction, decoupled decay, schedule)', async () => {
  const [b1, b2, eps, wd] = [0.9, 0.999, 1e-8, 0.1];
  const schedule = warmupCosine({ lr: 0.1, warmupSteps: 2, totalSteps: 4 });
  const trainer = await linearProbe(adamw({ beta1: b1, beta2: b2, eps, weightDecay: wd }), { lr: schedule });
  const w = [...W0],
    m = new Array(N).fill(0),
    v = new Array(N).fill(0);
  for (let t = 1; t <= grads.length; t++) {
    const g = grads[t - 1];
    const res = await trainer.trainStep({ x: f32(g) });
    const lr = schedule(t - 1);
    assert.equal(res.lr, lr);
    for (let i = 0; i < N; i++) {
      w[i] *= 1 - lr * wd;
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      w[i] -= (lr / (1 - b1 ** t)) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps));
    }
    assert.equal(res.step, t);
    assertClose([res.gradNorm], [Math.hypot(...g)], 1e-6, 'grad_norm');
  }
  const params = await trainer.params();
  assertClose(params.w.data as Float32Array, w, 2e-6, 'w');
  assert.deepEqual([...(params.frozen.data as Float32Array)], [1, 1, 1, 1, 1], 'frozen parameter not updated');
  const ckpt = await trainer.checkpoint();
  assert.deepEqual(
    Object.keys(ckpt.optimState).sort(),
    ['optim.m.w', 'optim.v.w'],
    'no optimizer state for frozen parameters',
  );
  assertClose(ckpt.optimState['optim.m.w'].data as Float32Array, m, 1e-6, 'm');
  await trainer.close();
});

test('SGD with momentum and coupled weight decay matches torch.optim.SGD', async () => {
  const [mu, wd, lr] = [0.9, 0.01, 0.05];
  const trainer = await linearProbe(sgd({ momentum: mu, weightDecay: wd }), { lr });
  const w = [...W0],
    buf = new Array(N).fill(0);
  for (const g of grads) {
    await trainer.trainStep({ x: f32(g) });
    for (let i = 0; i < N; i++) {
      buf[i] = mu * buf[i] + g[i] + wd * w[i];
      w[i] -= lr * buf[i];
    }
  }
  assertClose((await trainer.params()).w.data as Float32Array, w, 1e-6, 'w');
  await trainer.close();
});

test('withEma keeps the debiased weight average beside SGD; the raw weights and the checkpoint slots are untouched', async () => {
  const [decay, lr] = [0.8, 0.05];
  const trainer = await linearProbe(withEma(sgd({ momentum: 0 }), decay), { lr });
  assert.equal(trainer.program.optimizer.config.emaDecay, decay);
  assert.deepEqual((await trainer.averagedParams())!.w.data, Float32Array.from(W0), 'before a step: the raw weights');
  const w = [...W0],
    ema = new Array(N).fill(0);
  for (const g of grads) {
    await trainer.trainStep({ x: f32(g) });
    for (let i = 0; i < N; i++) {
      w[i] -= lr * g[i];
      ema[i] = decay * ema[i] + (1 - decay) * w[i];
    }
  }
  const debiased = ema.map((e) => e / (1 - decay ** grads.length));
  const averaged = await trainer.averagedParams();
  assertClose(averaged!.w.data as Float32Array, debiased, 1e-6, 'ema');
  assertClose(averaged!.frozen.data as Float32Array, [1, 1, 1, 1, 1], 0, 'frozen');
  assertClose((await trainer.params()).w.data as Float32Array, w, 1e-6, 'w');
  assert.ok(Math.abs(debiased[0] - w[0]) > 1e-3, 'the average differs from the last weights');
  assert.ok('optim.ema.w' in (await trainer.checkpoint()).optimState, 'the average is checkpointed');
  await trainer.close();
  const plain = await linearProbe(sgd({ momentum: 0 }), { lr });
  assert.equal(await plain.averagedParams(), null);
  await plain.close();
  assert.throws(() => withEma(adamw(), 1), ConfigError);
  assert.throws(() => withEma(withEma(adamw(), 0.9), 0.9), ConfigError);
});

test('global-norm clipping scales the gradient to clipNorm and reports the unclipped norm', async () => {
  const trainer = await linearProbe(sgd({ momentum: 0 }), { lr: 1, clipNorm: 1 });
  const g = [3, 4, 0, 0, 0]; // norm 5
  const res = await trainer.trainStep({ x: f32(g) });
  assertClose([res.gradNorm], [5], 1e-6, 'grad_norm');
  const want = W0.map((w, i) => w - g[i] / (5 + 1e-6));
  assertClose((await trainer.params()).w.data as Float32Array, want, 1e-6, 'w');
  // below the threshold nothing is scaled
  await trainer.trainStep({ x: f32([0.1, 0, 0, 0, 0]) });
  assertClose((await trainer.params()).w.data as Float32Array, [want[0] - 0.1, ...want.slice(1)], 1e-6, 'w');
  await trainer.close();
});

test('optimizer and schedule configs are validated', () => {
  assert.throws(() => adamw({ beta1: 1 }), ConfigError);
  assert.throws(() => sgd({ momentum: -0.1 }), ConfigError);
  assert.throws(() => warmupCosine({ lr: 1, warmupSteps: 10, totalSteps: 5 }), ConfigError);
  const s = warmupCosine({ lr: 1, warmupSteps: 4, totalSteps: 14, minLr: 0.1 });
  assert.deepEqual([s(0), s(1), s(3)], [0.25, 0.5, 1]);
  assert.ok(Math.abs(s(9) - 0.55) < 1e-12, 'half way through the cosine');
  assert.equal(s(14), 0.1);
  assert.equal(s(100), 0.1);
});

test('non-finite loss: stop names the step and keeps the weights; skip drops just that update', async () => {
  const bad = f32([NaN, 0, 0, 0, 0]);
  const stop = await linearProbe(sgd({ momentum: 0 }), { lr: 0.1 });
  await stop.trainStep({ x: f32(grads[0]) });
  const before = (await stop.params()).w.data.slice();
  await assert.rejects(
    stop.trainStep({ x: bad }),
    (e: any) => e.code === 'NUMERIC' && /step 2\b/.test(e.message) && e.details.step === 2,
  );
  assert.deepEqual((await stop.params()).w.data, before);
  await stop.close();

  const skip = await Trainer.create(
    compileTrainStep(
      (g, p) => ({
        loss: p
          .param('w', [N], init.ones())
          .mul(g.input('x', 'float32', [N]))
          .sum(),
      }),
      new ParamStore(0),
      { optimizer: sgd({ momentum: 0 }) },
    ),
    { lr: 0.1, onNonFinite: 'skip', worker: false, session: { threads: 1 } },
  );
  const r1 = await skip.trainStep({ x: bad });
  assert.equal(r1.skipped, true);
  assert.equal(r1.step, 0);
  const r2 = await skip.trainStep({ x: f32([1, 1, 1, 1, 1]) });
  assert.equal(r2.step, 1);
  assert.equal(skip.skippedSteps, 1);
  assert.deepEqual(
    [...((await skip.params()).w.data as Float32Array)].map((v) => +v.toFixed(6)),
    [0.9, 0.9, 0.9, 0.9, 0.9],
  );
  await skip.close();
});

test('Trainer rejects a batch without a declared input', async () => {
  const trainer = await linearProbe(sgd());
  await assert.rejects(trainer.trainStep({} as Record<string, HostArray>), /missing input 'x'/);
  await trainer.close();
});
