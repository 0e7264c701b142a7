/** The examples of docs/nn.md, run as written (with inputs declared), so the page stays true. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, ParamStore, Scope, Session } from '../../src/engine/index.js';
import * as nn from '../../src/nn/index.js';
import { randn } from './helpers.js';

test('docs/nn.md examples trace and run with the documented shapes', async () => {
  const g = new Graph();
  const store = new ParamStore(42);
  const p = new Scope(g, store);
  // top of the page
  const x = g.input('x', 'float32', ['B', 50, 64]);
  const h = nn.addSinusoidal(nn.linear(p.scope('in'), x, 64));
  const { out, weights } = nn.transformerBlock(p.scope('block0'), h, { heads: 4 }, { mask: nn.causalMask(g, 50) });
  // Q-Former
  const frames = g.input('frames', 'float32', [2, 25, 4, 16]);
  const w = nn.windowFrames(frames, 10);
  const qf = nn.qFormer(
    p.scope('qformer'),
    w.tokens,
    { heads: 4, tokensPerFrame: 4, queries: 8, layers: 2, causal: 'future' },
    w.mask,
  );
  const div = nn.diversityLoss(qf.out).mul(0.01);
  // joint attention with aligned RoPE (MMAudio geometry, scaled down: 25 latents at 31.25 Hz against 8 fps)
  const latent = g.input('latent', 'float32', [2, 25, 32]);
  const clipTok = g.input('clip', 'float32', [2, 6, 32]);
  const textTok = g.input('text', 'float32', [2, 3, 32]);
  const latentPositions = Array.from({ length: 25 }, (_, i) => i);
  const j = nn.jointAttention(
    p.scope('joint'),
    [latent, clipTok, textTok],
    { heads: 2, qkNorm: 'rms' },
    {
      rope: [latentPositions, nn.alignedRopePositions(6, 8, 31.25), undefined],
    },
  );
  const t = g.input('t', 'float32', [2]);
  const c = nn.mlp(p.scope('t_embed'), nn.timestepEmbedding(t, 32), { out: 32 });
  const jb = nn.jointBlock(p.scope('jb'), [latent, clipTok], [c, c], { heads: 2 }, { preOnly: [false, true] });
  const ffn = nn.convMlp(p.scope('ffn'), jb.outs[0], { hidden: 48 });
  // losses
  const videoEmb = nn.linear(p.scope('v'), qf.out.mean(1).slice([0], [2], [0]), 16); // [2, 16]
  const audioEmb = nn.linear(p.scope('a'), latent.mean(1), 16); // [2, 16]
  const { loss: clip } = nn.infoNce(p.scope('clip'), videoEmb, audioEmb);
  const loss = clip
    .add(nn.multiScaleReconstructionLoss(ffn, latent).mul(0.5))
    .add(nn.temporalSmoothnessLoss(j.outs[0], { first: 1, second: 0.5 }).mul(0.1))
    .add(nn.antiCollapseLoss(videoEmb).mul(0.1))
    .add(div);
  const s = await Session.create(
    g,
    { out, weights, qf: qf.out, j0: j.outs[0], jw: j.weights, ffn, loss },
    { threads: 1 },
  );
  const r = await s.run({
    x: randn([3, 50, 64], 1),
    frames: randn([2, 25, 4, 16], 2),
    latent: randn([2, 25, 32], 3),
    clip: randn([2, 6, 32], 4),
    text: randn([2, 3, 32], 5),
    t: randn([2], 6),
    ...store.feeds(g),
  });
  await s.release();
  assert.deepEqual(r.out.shape, [3, 50, 64]);
  assert.deepEqual(r.weights.shape, [3, 4, 50, 50]);
  assert.deepEqual(r.qf.shape, [2 * 3, 8, 16]);
  assert.deepEqual(r.j0.shape, [2, 25, 32]);
  assert.deepEqual(r.jw.shape, [2, 2, 34, 34]);
  assert.deepEqual(r.ffn.shape, [2, 25, 32]);
  assert.ok(Number.isFinite(r.loss.data[0] as number));
});
