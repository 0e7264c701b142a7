/**
 * TFJS graph models (model.json + weight shards, as @vladmandic/human ships facemesh and blazeface) converted to
 * ONNX in memory, so they run on onnxruntime-node like the rest of Attune. Only the op set those models use:
 * fused Conv2D (+BiasAdd, +Relu/Prelu), DepthwiseConv2dNative, AddV2, Prelu, Relu, MaxPool, Pad, Sigmoid, Reshape,
 * Mean, Softmax (human's emotion model), Identity; anything else is an InputError naming the op. TFJS is NHWC, ONNX convolutions are NCHW:
 *
 *   input NHWC ─ Transpose ─> NCHW ─ Conv (HWIO -> OIHW; depthwise HWC1 -> C1HW, group C; SAME -> SAME_UPPER) ...
 *   ... ─ Transpose back to NHWC before every Reshape (the flattening order is TFJS's) ─> outputs
 *
 * fp16-quantised weights are widened to fp32.
 */
import {
  encodeModel,
  OnnxDataType,
  AttributeType,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
} from '../engine/onnx/proto.js';
import { InputError } from '../util/errors.js';

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'float16' | 'uint8' | 'uint16'; scale?: number; min?: number; original_dtype?: string };
}

export interface TfjsNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<
    string,
    {
      s?: string;
      i?: string;
      f?: number;
      b?: boolean;
      list?: { s?: string[]; i?: string[] };
      shape?: unknown;
      type?: string;
      tensor?: unknown;
    }
  >;
}

export interface TfjsGraphModel {
  modelTopology: { node: TfjsNode[] };
  weightsManifest: { paths: string[]; weights: TfjsWeightSpec[] }[];
  signature?: { inputs?: Record<string, { name: string }>; outputs?: Record<string, { name: string }> };
}

export interface ConvertedModel {
  onnx: Uint8Array;
  inputs: string[];
  outputs: string[];
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Decodes the weight shards (concatenated in manifest order) into named arrays. */
export function readTfjsWeights(
  model: TfjsGraphModel,
  shards: Uint8Array[],
): Map<string, { shape: number[]; data: Float32Array | Int32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>();
  for (const [g, group] of model.weightsManifest.entries()) {
    const bytes = shards[g];
    if (!bytes)
      throw new InputError(`TFJS model: weight group ${g} (${group.paths.join(', ')}) is missing`, {
        field: 'weightsManifest',
        got: shards.length,
      });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization?.dtype;
      if (q && q !== 'float16')
        throw new InputError(`TFJS model: weight ${w.name} uses ${q} quantization; only float16 is supported`, {
          field: w.name,
          got: q,
        });
      const width = q === 'float16' ? 2 : 4;
      if (at + n * width > bytes.byteLength)
        throw new InputError(`TFJS model: weights end before ${w.name}`, { field: w.name });
      const data = w.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++)
        data[i] =
          q === 'float16'
            ? halfToFloat(view.getUint16(at + 2 * i, true))
            : w.dtype === 'int32'
              ? view.getInt32(at + 4 * i, true)
              : view.getFloat32(at + 4 * i, true);
      at += n * width;
      out.set(w.name, { shape: w.shape, data });
    }
  }
  return out;
}

const text = (s?: string) => (s === undefined ? '' : Buffer.from(s, 'base64').toString('utf8'));
const ints = (a?: { list?: { i?: string[] } }) => (a?.list?.i ?? []).map(Number);
const attrInts = (name: string, v: number[]): AttributeProto => ({ name, type: AttributeType.INTS, ints: v });
const attrInt = (name: string, v: number): AttributeProto => ({ name, type: AttributeType.INT, i: v });
const attrStr = (name: string, v: string): AttributeProto => ({
  name,
  type: AttributeType.STRING,
  s: new TextEncoder().encode(v),
});
const f32 = (name: string, dims: number[], data: Float32Array): TensorProto => ({
  name,
  dims,
  dataType: OnnxDataType.float32,
  rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
});
const i64 = (name: string, data: number[]): TensorProto => ({
  name,
  dims: [data.length],
  dataType: OnnxDataType.int64,
  int64Data: data,
});

/** HWIO (or HWC1 for depthwise) -> OIHW (C1HW). */
function toOIHW(
  w: { shape: number[]; data: Float32Array | Int32Array },
  depthwise: boolean,
): { dims: number[]; data: Float32Array } {
  const [H, W, I, O] = w.shape;
  const outC = depthwise ? I * O : O;
  const inC = depthwise ? 1 : I;
  const data = new Float32Array(H * W * I * O);
  for (let h = 0; h < H; h++)
    for (let x = 0; x < W; x++)
      for (let i = 0; i < I; i++)
        for (let o = 0; o < O; o++) {
          const src = ((h * W + x) * I + i) * O + o;
          const oc = depthwise ? i * O + o : o;
          const ic = depthwise ? 0 : i;
          data[((oc * inC + ic) * H + h) * W + x] = w.data[src];
        }
  return { dims: [outC, inC, H, W], data };
}

function autoPad(attr: TfjsNode['attr']): AttributeProto {
  const p = text(attr?.padding?.s);
  if (p !== 'SAME' && p !== 'VALID')
    throw new InputError(`TFJS model: padding ${p} is not supported (SAME or VALID)`, { field: 'padding', got: p });
  return attrStr('auto_pad', p === 'SAME' ? 'SAME_UPPER' : 'VALID');
}

function checkLayout(n: TfjsNode): void {
  const fmt = text(n.attr?.data_format?.s);
  if (fmt && fmt !== 'NHWC')
    throw new InputError(`TFJS model: ${n.name} uses data_format ${fmt}; only NHWC is supported`, {
      field: n.name,
      got: fmt,
    });
  if (ints(n.attr?.dilations).some((d) => d !== 1))
    throw new InputError(`TFJS model: ${n.name} is dilated; not supported`, { field: n.name });
}

/** Converts a TFJS graph model to ONNX bytes (opset 13 is enough for every op here). */
export function tfjsToOnnx(model: TfjsGraphModel, shards: Uint8Array[]): ConvertedModel {
  const weights = readTfjsWeights(model, shards);
  const nodes: NodeProto[] = [];
  const init: TensorProto[] = [];
  const inputs: string[] = [];
  const used = new Set<string>();
  // Tensors already in TFJS's flat layout (after a Reshape): no NCHW twin.
  const flat = new Set<string>();
  const constOf = (name: string) => {
    const w = weights.get(name.split(':')[0]);
    if (!w) throw new InputError(`TFJS model: constant ${name} has no weights`, { field: name });
    return w;
  };
  const ref = (name: string) => name.split(':')[0];
  const slope = (name: string) => {
    const w = constOf(name);
    const key = `${ref(name)}__slope`;
    if (!used.has(key)) init.push(f32(key, [w.data.length, 1, 1], Float32Array.from(w.data)));
    used.add(key);
    return key;
  };
  for (const n of model.modelTopology.node) {
    const ins = (n.input ?? []).filter((x) => !x.startsWith('^')).map(ref);
    switch (n.op) {
      case 'Const':
        break;
      case 'Placeholder':
        inputs.push(n.name);
        nodes.push({
          opType: 'Transpose',
          input: [n.name],
          output: [`${n.name}__nchw`],
          attribute: [attrInts('perm', [0, 3, 1, 2])],
        });
        break;
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'Conv2D': {
        checkLayout(n);
        const depthwise = n.op === 'DepthwiseConv2dNative';
        const w = toOIHW(constOf(ins[1]), depthwise);
        init.push(f32(`${n.name}__w`, w.dims, w.data));
        const fused = (n.attr?.fused_ops?.list?.s ?? []).map(text);
        const convIn = [nchw(ins[0]), `${n.name}__w`];
        if (fused.includes('BiasAdd')) {
          const b = constOf(ins[2]);
          init.push(f32(`${n.name}__b`, [b.data.length], Float32Array.from(b.data)));
          convIn.push(`${n.name}__b`);
        }
        const strides = ints(n.attr?.strides);
        const act = fused.find((f) => f === 'Relu' || f === 'Prelu');
        const convOut = act ? `${n.name}__conv` : `${n.name}__nchw`;
        nodes.push({
          opType: 'Conv',
          input: convIn,
          output: [convOut],
          attribute: [
            attrInts('strides', [strides[1] ?? 1, strides[2] ?? 1]),
            autoPad(n.attr),
            attrInt('group', depthwise ? w.dims[0] : 1),
          ],
        });
        if (act === 'Relu') nodes.push({ opType: 'Relu', input: [convOut], output: [`${n.name}__nchw`] });
        if (act === 'Prelu')
          nodes.push({ opType: 'PRelu', input: [convOut, slope(ins[3])], output: [`${n.name}__nchw`] });
        if (fused.some((f) => f !== 'BiasAdd' && f !== 'Relu' && f !== 'Prelu'))
          throw new InputError(`TFJS model: ${n.name} fuses ${fused.join('+')}; not supported`, { field: n.name });
        break;
      }
      case 'AddV2':
      case 'Add':
        nodes.push({ opType: 'Add', input: ins.map(nchw), output: [`${n.name}__nchw`] });
        break;
      case 'Prelu':
        nodes.push({ opType: 'PRelu', input: [nchw(ins[0]), slope(ins[1])], output: [`${n.name}__nchw`] });
        break;
      case 'Relu':
      case 'Sigmoid':
        nodes.push({ opType: n.op, input: [nchw(ins[0])], output: [`${n.name}__nchw`] });
        break;
      case 'MaxPool': {
        checkLayout(n);
        const k = ints(n.attr?.ksize),
          s = ints(n.attr?.strides);
        nodes.push({
          opType: 'MaxPool',
          input: [nchw(ins[0])],
          output: [`${n.name}__nchw`],
          attribute: [attrInts('kernel_shape', [k[1], k[2]]), attrInts('strides', [s[1], s[2]]), autoPad(n.attr)],
        });
        break;
      }
      case 'Pad': {
        const p = Array.from(constOf(ins[1]).data); // NHWC [[n0,n1],[h0,h1],[w0,w1],[c0,c1]]
        const pads = [p[0], p[6], p[2], p[4], p[1], p[7], p[3], p[5]]; // NCHW begins then ends
        init.push(i64(`${n.name}__pads`, pads));
        nodes.push({ opType: 'Pad', input: [nchw(ins[0]), `${n.name}__pads`], output: [`${n.name}__nchw`] });
        break;
      }
      case 'Reshape': {
        nodes.push({
          opType: 'Transpose',
          input: [nchw(ins[0])],
          output: [`${n.name}__nhwc_in`],
          attribute: [attrInts('perm', [0, 2, 3, 1])],
        });
        init.push(i64(`${n.name}__shape`, Array.from(constOf(ins[1]).data)));
        nodes.push({ opType: 'Reshape', input: [`${n.name}__nhwc_in`, `${n.name}__shape`], output: [n.name] });
        flat.add(n.name);
        break;
      }
      case 'Mean': {
        // TFJS reduces NHWC axes; the same axes in NCHW. Without keep_dims the result is in TFJS's layout only when
        // no channel axis survives next to a spatial one (e.g. global average pooling: [N, C] either way).
        const nhwcToNchw = [0, 2, 3, 1];
        const tfAxes = Array.from(constOf(ins[1]).data, (a) => (a < 0 ? a + 4 : a));
        const axes = tfAxes.map((a) => nhwcToNchw[a]);
        const keep = n.attr?.keep_dims?.b === true;
        const keepsChannel = !axes.includes(1);
        const keepsSpace = !axes.includes(2) || !axes.includes(3);
        if (!keep && keepsChannel && keepsSpace)
          throw new InputError(
            `TFJS model: ${n.name} averages NHWC axes ${tfAxes.join(',')}, leaving channels and space`,
            {
              field: n.name,
            },
          );
        nodes.push({
          opType: 'ReduceMean',
          input: [nchw(ins[0])],
          output: [keep ? `${n.name}__nchw` : n.name],
          attribute: [attrInts('axes', axes), attrInt('keepdims', keep ? 1 : 0)],
        });
        if (!keep) flat.add(n.name);
        break;
      }
      case 'Softmax': {
        // TFJS normalises the last axis: channels of a feature map (NCHW axis 1), the last axis of a flat tensor.
        const isFlat = flat.has(ins[0]);
        nodes.push({
          opType: 'Softmax',
          input: [isFlat ? ins[0] : nchw(ins[0])],
          output: [isFlat ? n.name : `${n.name}__nchw`],
          attribute: [attrInt('axis', isFlat ? -1 : 1)],
        });
        if (isFlat) flat.add(n.name);
        break;
      }
      case 'Identity':
        nodes.push({ opType: 'Identity', input: [flat.has(ins[0]) ? ins[0] : nchw(ins[0])], output: [n.name] });
        flat.add(n.name);
        break;
      default:
        throw new InputError(`TFJS model: op ${n.op} (${n.name}) is not supported by the converter`, {
          field: n.name,
          got: n.op,
        });
    }
  }
  const outputs = Object.values(model.signature?.outputs ?? {}).map((o) => ref(o.name));
  if (!outputs.length) outputs.push(...model.modelTopology.node.filter((n) => n.op === 'Identity').map((n) => n.name));
  const graph = {
    name: 'tfjs',
    node: nodes,
    initializer: init,
    input: inputs.map((name) => ({ name, type: { tensorType: { elemType: OnnxDataType.float32 } } })),
    output: outputs.map((name) => ({ name, type: { tensorType: { elemType: OnnxDataType.float32 } } })),
  };
  return {
    onnx: encodeModel({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      producerName: 'attune tfjs_onnx',
      graph,
    }),
    inputs,
    outputs,
  };

  function nchw(name: string): string {
    if (flat.has(name))
      throw new InputError(`TFJS model: ${name} is used as a feature map after a Reshape; not supported`, {
        field: name,
      });
    return `${name}__nchw`;
  }
}
