import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { hostArray } from '../../src/io/array.js';
import { Rng } from '../../src/util/rng.js';
import { decodeModel } from '../../src/engine/onnx/proto.js';
import { init, ParamStore, Scope } from '../../src/engine/params.js';
import { Graph } from '../../src/engine/graph.js';
import { exportOnnx, exportOnnxBytes, Predictor } from '../../src/engine/export.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import { ConfigError } from '../../src/util/errors.js';

// A small cross-attention encoder: LayerNorm, attention, GELU, mean-pool, L2-normalize: the op mix of the
// reference model, small enough for the single-threaded wasm backend.
const [B, TQ, TK, D] = [2, 5, 7, 16];
function encoder(g: Graph, p: Scope) {
  const q = g.input('queries', 'float32', [B, TQ, D]);
  const kv = g.input('context', 'float32', [B, TK, D]);
  const lin = (name: string, x: ReturnType<typeof g.input>, o = D) =>
    x.linear(p.param(`${name}.weight`, [D, o], init.xavierUniform()), p.param(`${name}.bias`, [o], init.normal(0.1)));
  const n = q.layerNorm(p.param('ln.weight', [D], init.normal(0.1, 1)), p.param('ln.bias', [D], init.normal(0.1)));
  const att = lin('q', n)
    .matmul(lin('k', kv).mT)
    .mul(1 / Math.sqrt(D))
    .softmax(-1); // [B, TQ, TK]
  const h = q.add(att.matmul(lin('v', kv))).gelu(); // [B, TQ, D]
  const e = lin('out', h.mean(1), 8); // [B, 8]
  return { embedding: e.mul(e.square().sum(-1, true).rsqrt()), attention: att };
}

const feeds = () => {
  const rng = new Rng(8);
  const arr = (shape: number[]) =>
    hostArray(
      'float32',
      shape,
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    );
  return { queries: arr([B, TQ, D]), context: arr([B, TK, D]) };
};

test('exported .onnx is self-contained and gives the same outputs in onnxruntime-node and onnxruntime-web (wasm)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-export-'));
  try {
    const store = new ParamStore(3);
    const path = join(dir, 'encoder.onnx');
    const size = exportOnnx(path, encoder, store, { name: 'encoder', docString: 'test export' });
    const bytes = readFileSync(path);
    assert.equal(size, bytes.byteLength);
    const model = decodeModel(bytes);
    assert.deepEqual(model.graph.input.map((i) => i.name).sort(), ['context', 'queries'], 'parameters are not inputs');
    assert.ok(
      model.graph.initializer!.some((t) => t.name === 'q.weight'),
      'parameters are embedded initializers',
    );
    assert.ok(
      model.opsetImport.every((o) => o.domain === ''),
      'standard ai.onnx ops only',
    );

    const f = feeds();
    const nodeSession = await ortNode.InferenceSession.create(path);
    const nodeOut = await nodeSession.run({
      queries: new ortNode.Tensor('float32', f.queries.data as Float32Array, f.queries.shape),
      context: new ortNode.Tensor('float32', f.context.data as Float32Array, f.context.shape),
    });
    ortWeb.env.wasm.numThreads = 1;
    const webSession = await ortWeb.InferenceSession.create(new Uint8Array(bytes), { executionProviders: ['wasm'] });
    const webOut = await webSession.run({
      queries: new ortWeb.Tensor('float32', f.queries.data as Float32Array, f.queries.shape),
      context: new ortWeb.Tensor('float32', f.context.data as Float32Array, f.context.shape),
    });
    for (const name of ['embedding', 'attention']) {
      const a = nodeOut[name].data as Float32Array;
      const b = webOut[name].data as Float32Array;
      assert.deepEqual(nodeOut[name].dims, webOut[name].dims);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      assert.ok(worst <= 1e-5, `${name}: node vs web differ by ${worst}`);
      assert.ok(a.some((v) => v !== 0) && a.every(Number.isFinite));
    }
    await webSession.release();
    await nodeSession.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Predictor runs the inference graph with trained weights swapped in, matching a fresh export', async () => {
  const store = new ParamStore(5);
  const trainer = await Trainer.create(
    compileTrainStep((g, p) => ({ loss: encoder(g, p).embedding.sum() }), store),
    { lr: 0.05, worker: false, session: { threads: 1 } },
  );
  const f = feeds();
  for (let i = 0; i < 3; i++) await trainer.trainStep(f);
  const trained = await trainer.params();
  await trainer.close();

  const predictor = await Predictor.create(encoder, store, { session: { threads: 1 } }); // worker thread
  const before = await predictor.run(f);
  await predictor.setParams(trained);
  const after = await predictor.run(f);
  await predictor.close();

  const session = await ortNode.InferenceSession.create(exportOnnxBytes(encoder, store, { params: trained }));
  const ref = await session.run({
    queries: new ortNode.Tensor('float32', f.queries.data as Float32Array, f.queries.shape),
    context: new ortNode.Tensor('float32', f.context.data as Float32Array, f.context.shape),
  });
  await session.release();
  assert.deepEqual([...(after.embedding.data as Float32Array)], [...(ref.embedding.data as Float32Array)]);
  assert.notDeepEqual(
    [...(before.embedding.data as Float32Array)],
    [...(after.embedding.data as Float32Array)],
    'training changed the outputs',
  );
});

test('export and Predictor refuse graphs with dropout (random inputs)', async () => {
  const build = (g: Graph, p: Scope) => ({
    y: g
      .input('x', 'float32', [2, 3])
      .mul(p.param('w', [3], init.ones()))
      .dropout(0.5),
  });
  assert.throws(() => exportOnnxBytes(build, new ParamStore(0)), ConfigError);
  await assert.rejects(Predictor.create(build, new ParamStore(0), { worker: false }), ConfigError);
});

test('the caller feeds Graph.dataInputs(): the train program and the Predictor list the same inputs', async () => {
  const build = (g: Graph, p: Scope) => ({
    y: g
      .input('x', 'float32', [2, 3])
      .mul(p.param('w', [3], init.ones()))
      .add(g.input('b', 'float32', [3])),
  });
  const g = new Graph();
  build(g, new Scope(g, new ParamStore(0)));
  assert.deepEqual(
    g.dataInputs().map((t) => t.name),
    ['x', 'b'],
  );
  const { program } = compileTrainStep((g2, p) => ({ loss: build(g2, p).y.dropout(0.2).sum() }), new ParamStore(0));
  assert.deepEqual(
    program.data.map((d) => d.name),
    ['x', 'b'],
  ); // not the parameter w, not the dropout mask
  assert.deepEqual(
    program.random.map((r) => r.name),
    ['random.0'],
  );
  const predictor = await Predictor.create(build, new ParamStore(0), { worker: false, session: { threads: 1 } });
  assert.deepEqual(predictor.inputs, ['x', 'b']);
  await predictor.close();
});
