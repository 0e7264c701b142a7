import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { tfjsToOnnx, type TfjsGraphModel, type TfjsNode, type TfjsWeightSpec } from '../../src/media/tfjs_onnx.js';
import { Rng } from '../../src/util/rng.js';

/**
 * The TFJS -> ONNX converter against convolutions computed here in plain JS (NHWC, TensorFlow's SAME padding), on
 * a small random model in TFJS's own format (model.json topology + an fp16 weight shard) that uses every op the
 * converter knows: fused conv + bias + PReLU (stride 2, SAME), depthwise conv, add, max pool, channel pad, ReLU,
 * sigmoid and a reshape to a flat output.
 */
const b64 = (s: string) => Buffer.from(s).toString('base64');
const list = (xs: number[]) => ({ list: { i: xs.map(String) } });

function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >> 16) & 0x8000;
  const e = ((u >> 23) & 0xff) - 127 + 15;
  if (e <= 0) return sign;
  return sign | (e << 10) | ((u >> 13) & 0x3ff);
}
const fromHalf = (h: number) => {
  const e = (h >> 10) & 0x1f,
    f = h & 0x3ff,
    s = h & 0x8000 ? -1 : 1;
  return e === 0 ? s * 2 ** -14 * (f / 1024) : s * 2 ** (e - 15) * (1 + f / 1024);
};

interface T4 {
  shape: number[];
  data: Float32Array;
}
const at = (t: T4, n: number, y: number, x: number, c: number) =>
  t.data[((n * t.shape[1] + y) * t.shape[2] + x) * t.shape[3] + c];

/** TensorFlow conv (NHWC, HWIO or depthwise HWC1), SAME or VALID padding. */
function conv(x: T4, w: T4, stride: number, same: boolean, depthwise: boolean): T4 {
  const [N, H, W, C] = x.shape,
    [KH, KW, , M] = w.shape;
  const O = depthwise ? C : M;
  const OH = same ? Math.ceil(H / stride) : Math.floor((H - KH) / stride) + 1;
  const OW = same ? Math.ceil(W / stride) : Math.floor((W - KW) / stride) + 1;
  const padT = same ? Math.floor(Math.max(0, (OH - 1) * stride + KH - H) / 2) : 0;
  const padL = same ? Math.floor(Math.max(0, (OW - 1) * stride + KW - W) / 2) : 0;
  const out = { shape: [N, OH, OW, O], data: new Float32Array(N * OH * OW * O) };
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let o = 0; o < O; o++) {
          let s = 0;
          for (let ky = 0; ky < KH; ky++)
            for (let kx = 0; kx < KW; kx++) {
              const y = oy * stride + ky - padT,
                xx = ox * stride + kx - padL;
              if (y < 0 || xx < 0 || y >= H || xx >= W) continue;
              if (depthwise) s += at(x, n, y, xx, o) * w.data[((ky * KW + kx) * C + o) * M];
              else for (let c = 0; c < C; c++) s += at(x, n, y, xx, c) * w.data[((ky * KW + kx) * C + c) * M + o];
            }
          out.data[((n * OH + oy) * OW + ox) * O + o] = s;
        }
  return out;
}
const map = (t: T4, f: (v: number, c: number) => number): T4 => ({
  shape: t.shape,
  data: t.data.map((v, i) => f(v, i % t.shape[3])),
});

test('a random TFJS graph model converts to ONNX that matches a JS reference within fp32 rounding', async () => {
  const rng = new Rng(12);
  const specs: TfjsWeightSpec[] = [];
  const halves: number[] = [];
  const weights = new Map<string, Float32Array>();
  const weight = (name: string, shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const h = Array.from({ length: n }, () => toHalf(rng.normal() * 0.5));
    halves.push(...h);
    weights.set(name, Float32Array.from(h, fromHalf));
    specs.push({ name, shape, dtype: 'float32', quantization: { dtype: 'float16' } });
  };
  weight('w1', [3, 3, 3, 4]);
  weight('b1', [4]);
  weight('a1', [1, 1, 4]);
  weight('dw', [3, 3, 4, 1]);
  const int = new Int32Array([0, 0, 0, 0, 0, 0, 0, 2]);
  const shape = new Int32Array([-1, 4 * 4 * 6]);
  specs.push({ name: 'pads', shape: [4, 2], dtype: 'int32' }, { name: 'shape', shape: [2], dtype: 'int32' });
  const bytes = Buffer.concat([
    Buffer.from(Uint16Array.from(halves).buffer),
    Buffer.from(int.buffer),
    Buffer.from(shape.buffer),
  ]);
  const node = (name: string, op: string, input: string[], attr: TfjsNode['attr'] = {}): TfjsNode => ({
    name,
    op,
    input,
    attr,
  });
  const same = { padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') }, dilations: list([1, 1, 1, 1]) };
  const nodes: TfjsNode[] = [
    node('x', 'Placeholder', []),
    ...['w1', 'b1', 'a1', 'dw', 'pads', 'shape'].map((n) => node(n, 'Const', [])),
    node('c1', '_FusedConv2D', ['x', 'w1', 'b1', 'a1'], {
      ...same,
      strides: list([1, 2, 2, 1]),
      fused_ops: { list: { s: [b64('BiasAdd'), b64('Prelu')] } },
    }),
    node('d1', 'DepthwiseConv2dNative', ['c1', 'dw'], { ...same, strides: list([1, 1, 1, 1]) }),
    node('s1', 'AddV2', ['c1', 'd1']),
    node('r1', 'Relu', ['s1']),
    node('p1', 'MaxPool', ['r1'], {
      padding: { s: b64('VALID') },
      ksize: list([1, 2, 2, 1]),
      strides: list([1, 2, 2, 1]),
    }),
    node('q1', 'Pad', ['p1', 'pads']),
    node('g1', 'Sigmoid', ['q1']),
    node('flat', 'Reshape', ['g1', 'shape']),
    node('Identity', 'Identity', ['flat']),
  ];
  const model: TfjsGraphModel = {
    modelTopology: { node: nodes },
    weightsManifest: [{ paths: ['w.bin'], weights: specs }],
  };
  const c = tfjsToOnnx(model, [new Uint8Array(bytes)]);
  const session = await ort.InferenceSession.create(c.onnx);
  const x: T4 = { shape: [2, 16, 16, 3], data: Float32Array.from({ length: 2 * 16 * 16 * 3 }, () => rng.uniform()) };
  const out = (await session.run({ x: new ort.Tensor('float32', x.data, x.shape) }))[c.outputs[0]];
  await session.release();

  const W = (n: string, s: number[]): T4 => ({ shape: s, data: weights.get(n)! });
  const b1 = weights.get('b1')!,
    a1 = weights.get('a1')!;
  const c1 = map(conv(x, W('w1', [3, 3, 3, 4]), 2, true, false), (v, ch) => {
    const z = v + b1[ch];
    return z > 0 ? z : a1[ch] * z;
  });
  const d1 = conv(c1, W('dw', [3, 3, 4, 1]), 1, true, true);
  const r1 = { shape: c1.shape, data: c1.data.map((v, i) => Math.max(0, v + d1.data[i])) };
  const [N, H, Wd] = r1.shape;
  const want: number[] = [];
  for (let n = 0; n < N; n++)
    for (let y = 0; y < H / 2; y++)
      for (let xx = 0; xx < Wd / 2; xx++)
        for (let ch = 0; ch < 6; ch++) {
          const m =
            ch < 4
              ? Math.max(
                  at(r1, n, 2 * y, 2 * xx, ch),
                  at(r1, n, 2 * y + 1, 2 * xx, ch),
                  at(r1, n, 2 * y, 2 * xx + 1, ch),
                  at(r1, n, 2 * y + 1, 2 * xx + 1, ch),
                )
              : 0;
          want.push(1 / (1 + Math.exp(-m)));
        }
  assert.deepEqual(out.dims, [2, 96]);
  let worst = 0;
  want.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (out.data as Float32Array)[i]))));
  assert.ok(worst < 1e-5, `max |ONNX - reference| ${worst}`);
});

test('an op the converter does not know is an InputError naming it', () => {
  const model: TfjsGraphModel = {
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder' },
        { name: 'y', op: 'Tanh', input: ['x'] },
      ],
    },
    weightsManifest: [],
  };
  assert.throws(() => tfjsToOnnx(model, []), /op Tanh \(y\) is not supported/);
});

test('a Mean that keeps both channels and space (no NCHW equivalent of its flat layout) is an InputError', () => {
  const axes = new Int32Array([1]);
  const model: TfjsGraphModel = {
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder' },
        { name: 'axes', op: 'Const' },
        { name: 'm', op: 'Mean', input: ['x', 'axes'], attr: { keep_dims: { b: false } } },
      ],
    },
    weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'axes', shape: [1], dtype: 'int32' }] }],
  };
  assert.throws(
    () => tfjsToOnnx(model, [new Uint8Array(axes.buffer)]),
    /m averages NHWC axes 1, leaving channels and space/,
  );
});
