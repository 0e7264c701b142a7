/**
 * float64 finite-difference checks of composite blocks and losses, through the engine's gradcheck helper. The block's
 * parameters become checked inputs: a first trace declares them in a float64 ParamStore, then InputScope hands the
 * gradcheck inputs to the block in place of the store's parameters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, type Initializer, type ParamOptions, ParamStore, Scope, type Tensor } from '../../src/engine/index.js';
import * as nn from '../../src/nn/index.js';
import { Rng } from '../../src/util/rng.js';
import { type CheckInput, type CheckOptions, gradcheck } from '../engine/gradcheck.js';

class InputScope extends Scope {
  constructor(
    graph: Graph,
    store: ParamStore,
    prefix: string,
    private readonly tensors: Map<string, Tensor>,
  ) {
    super(graph, store, prefix);
  }
  override scope(name: string): Scope {
    return new InputScope(this.graph, this.store, this.path(name), this.tensors);
  }
  override param(name: string, _shape: readonly number[], _init: Initializer, _opts?: ParamOptions): Tensor {
    const t = this.tensors.get(this.path(name));
    if (!t) throw new Error(`parameter ${this.path(name)} was not declared by the first trace`);
    return t;
  }
}

/** Checks d(block)/d(inputs and every parameter). Parameters get random values (so zero-initialized ones matter too). */
async function checkBlock(
  block: (p: Scope, xs: Tensor[]) => Tensor,
  inputs: CheckInput[],
  opts: CheckOptions = {},
): Promise<number> {
  const store = new ParamStore(4, 'float64');
  const g0 = new Graph();
  block(
    new Scope(g0, store),
    inputs.map((s, i) => g0.input(`x${i}`, s.dtype ?? 'float64', s.shape)),
  );
  const names = store.names();
  const rng = new Rng(12);
  const params: CheckInput[] = names.map((n) => {
    const shape = store.get(n).shape;
    return { shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.5 * rng.normal()) };
  });
  return gradcheck(
    (...xs) => {
      const map = new Map(names.map((n, i) => [n, xs[inputs.length + i]]));
      return block(new InputScope(xs[0].graph, store, '', map), xs.slice(0, inputs.length));
    },
    [...inputs, ...params],
    opts,
  );
}

test('gradcheck: cross-attention transformer block (qk-norm, learnable temperature, swiglu, padding + causal masks)', async () => {
  const worst = await checkBlock(
    (p, [x, ctx, valid]) => {
      const mask = nn.combineMasks(nn.keyPaddingMask(valid), nn.causalMask(x.graph, 3, { tk: 4 }));
      return nn.transformerBlock(
        p,
        x,
        { heads: 2, qkNorm: 'rms', learnableScale: true, activation: 'swiglu', mlpRatio: 1 },
        { context: ctx, mask },
      ).out;
    },
    [{ shape: [2, 3, 4] }, { shape: [2, 4, 4] }, { shape: [2, 4], dtype: 'bool', data: [1, 1, 1, 1, 1, 1, 0, 0] }],
  );
  assert.ok(worst < 1e-6);
});

test('gradcheck: Q-Former layer (frame-block causal self-attention, query self/cross attention, FFN)', async () => {
  await checkBlock(
    (p, [q, f]) => {
      const r = nn.qFormerLayer(p, q, f, { heads: 2, tokensPerFrame: 2, activation: 'silu', mlpRatio: 1 });
      return r.queries.add(r.frames.mean(1, true).slice([0], [2], [2]).sum(-1, true));
    },
    [{ shape: [1, 2, 4] }, { shape: [1, 4, 4] }],
    { rtol: 1e-4, atol: 1e-6 },
  ); // LayerNormalization keeps float32 statistics
});

test('gradcheck: adaLN-zero DiT block + ConvMLP, and joint attention with aligned RoPE', async () => {
  await checkBlock(
    (p, [x, c]) =>
      nn.convMlp(p.scope('ffn'), nn.ditBlock(p, x, c, { heads: 2, activation: 'silu', mlpRatio: 1 }).out, {
        hidden: 3,
      }),
    [{ shape: [1, 3, 4] }, { shape: [1, 3] }],
  );
  await checkBlock(
    (p, [a, v]) => {
      const r = nn.jointAttention(
        p,
        [a, v],
        { heads: 1, qkNorm: 'rms' },
        { rope: [[0, 1, 2, 3], nn.alignedRopePositions(2, 2, 4)] },
      );
      return nn.gatedFusion(p.scope('fuse'), r.outs[0].slice([0], [2], [1]), r.outs[1]);
    },
    [{ shape: [1, 4, 2] }, { shape: [1, 2, 2] }],
  );
});

test('gradcheck: InfoNCE (learnable scale), max-violation NCE, FAVOR diversity, uniformity, multi-scale reconstruction', async () => {
  // (the 'reweight' NCE treats its hardness weights as constants by design, so finite differences do not apply)
  await checkBlock(
    (p, [a, b]) => nn.infoNce(p, a, b).loss.add(nn.nceHardNegatives(p, a, b, { mode: 'hardest', margin: 3 }).loss),
    [{ shape: [3, 4] }, { shape: [3, 4] }],
  );
  await checkBlock(
    (_p, [q]) =>
      nn
        .diversityLoss(q)
        .add(nn.uniformityLoss(nn.l2Normalize(q.reshape([6, 3]))))
        .add(nn.varianceLoss(q.reshape([6, 3]))),
    [{ shape: [2, 3, 3] }],
  );
  await checkBlock(
    (_p, [x, y]) =>
      nn.multiScaleReconstructionLoss(x, y, { scales: [1, 2] }).add(nn.temporalSmoothnessLoss(x, { second: 1 })),
    [{ shape: [1, 4, 2] }, { shape: [1, 4, 2] }],
  );
});
