import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParamStore, type Scope, type Tensor } from '../../src/engine/index.js';
import { adamw } from '../../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import type { HostArray } from '../../src/io/array.js';
import * as nn from '../../src/nn/index.js';
import { Rng } from '../../src/util/rng.js';
import { f32 } from './helpers.js';

const B = 12,
  T = 6,
  DV = 10,
  DA = 7,
  Z = 4,
  D = 16;

/** A tiny audio-video encoder pair built only from src/nn blocks. */
function encode(p: Scope, x: Tensor): Tensor {
  const h = nn.addSinusoidal(nn.linear(p.scope('in'), x, D)); // [B, T, D]
  const { out } = nn.transformerBlock(
    p.scope('block'),
    h,
    { heads: 2, mlpRatio: 2 },
    { mask: nn.slidingWindowMask(x.graph, T, { radius: 2 }) },
  );
  return nn.linear(p.scope('head'), out.mean(1), D); // [B, D]
}

/** Paired clips: both streams are fixed random projections of a shared latent sequence, plus noise. */
function makeBatch(rng: Rng, pv: number[], pa: number[]): Record<string, HostArray> {
  const z = Array.from({ length: B * T * Z }, () => rng.normal());
  const proj = (w: number[], d: number) => {
    const out = new Float32Array(B * T * d);
    for (let r = 0; r < B * T; r++)
      for (let j = 0; j < d; j++) {
        let s = 0.3 * rng.normal();
        for (let k = 0; k < Z; k++) s += z[r * Z + k] * w[k * d + j];
        out[r * d + j] = s;
      }
    return out;
  };
  return { video: f32([B, T, DV], proj(pv, DV)), audio: f32([B, T, DA], proj(pa, DA)) };
}

test('a tiny model from nn blocks trains with compileTrainStep/Trainer: InfoNCE + regularizers drop', async () => {
  const store = new ParamStore(7);
  const compiled = compileTrainStep(
    (g, p) => {
      const v = encode(p.scope('video'), g.input('video', 'float32', [B, T, DV]));
      const a = encode(p.scope('audio'), g.input('audio', 'float32', [B, T, DA]));
      const clip = nn.infoNce(p.scope('clip'), v, a);
      const loss = clip.loss.add(nn.antiCollapseLoss(v, { uniformity: 0 }).mul(0.1));
      return { loss, metrics: { infonce: clip.loss, scale: clip.scale } };
    },
    store,
    { optimizer: adamw({ weightDecay: 0.01 }), clipNorm: 1 },
  );
  const trainer = await Trainer.create(compiled, { lr: 3e-3, worker: false, session: { threads: 1 } });
  try {
    const rng = new Rng(3);
    const pv = Array.from({ length: Z * DV }, () => rng.normal());
    const pa = Array.from({ length: Z * DA }, () => rng.normal());
    const first: number[] = [],
      last: number[] = [];
    const steps = 60;
    for (let s = 0; s < steps; s++) {
      const r = await trainer.trainStep(makeBatch(rng, pv, pa));
      if (s < 5) first.push(r.metrics.infonce);
      if (s >= steps - 5) last.push(r.metrics.infonce);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    if (process.env.NN_VERBOSE) console.log(`infonce ${mean(first).toFixed(3)} -> ${mean(last).toFixed(3)}`);
    assert.ok(mean(first) > 2, `starts near chance (log ${B} = ${Math.log(B).toFixed(2)}): ${mean(first)}`);
    assert.ok(mean(last) < 0.6 * mean(first), `InfoNCE drops: ${mean(first).toFixed(3)} -> ${mean(last).toFixed(3)}`);
    const params = await trainer.params();
    assert.ok(
      Math.abs((params['clip.logit_scale'].data[0] as number) - Math.log(1 / 0.07)) > 1e-4,
      'the logit scale is learned',
    );
  } finally {
    await trainer.close();
  }
});
