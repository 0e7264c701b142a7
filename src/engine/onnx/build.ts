import type { HostArray } from '../../io/array.js';
import { type Attr, type ConstData, type DType, type Graph, type Node, type Shape } from '../graph.js';
import type { Tensor } from '../tensor.js';
import type { OpName } from '../ops/vocab.js';
import {
  AttributeType,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  OnnxDataType,
  type TensorProto,
  type ValueInfoProto,
} from './proto.js';

/** ai.onnx opset: 20 for the native Gelu op (onnxruntime-node and -web 1.30 both run it). */
export const OPSET = 20;
export const IR_VERSION = 8;

export interface BuildOptions {
  /** Store these host values as initializers instead of graph inputs (self-contained inference export). */
  bake?: Record<string, HostArray> | { feeds(g: Graph): Record<string, HostArray> };
  name?: string;
  docString?: string;
}

const bytesOf = (d: ConstData['data'] | HostArray['data']): Uint8Array =>
  new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));

export function tensorProto(
  name: string,
  dtype: DType,
  shape: readonly number[],
  data: ConstData['data'] | HostArray['data'],
): TensorProto {
  return { name, dims: [...shape], dataType: OnnxDataType[dtype], rawData: bytesOf(data) };
}

export function valueInfo(name: string, dtype: DType, shape: Shape): ValueInfoProto {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: OnnxDataType[dtype], shape: { dim } } } };
}

function attrProto(name: string, a: Attr): AttributeProto {
  switch (a.kind) {
    case 'int':
      return { name, type: AttributeType.INT, i: a.v };
    case 'float':
      return { name, type: AttributeType.FLOAT, f: a.v };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: a.v };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: a.v };
    case 'string':
      return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.v) };
  }
}

/** Ops that only pass their input through: removed on export by renaming. */
const PASS_THROUGH = new Set<OpName>(['StopGradient']);

/**
 * Writes the part of `graph` needed for `outputs` (named as given) as an ONNX model: dead nodes are dropped,
 * stop-gradient/identity nodes are elided, parameters are inputs unless baked.
 */
export function toModelProto(graph: Graph, outputs: Record<string, Tensor>, opts: BuildOptions = {}): ModelProto {
  const bake: Record<string, HostArray> = !opts.bake
    ? {}
    : 'feeds' in opts.bake && typeof opts.bake.feeds === 'function'
      ? opts.bake.feeds(graph)
      : (opts.bake as Record<string, HostArray>);
  // alias: pass-through outputs resolve to their source
  const alias = new Map<string, string>();
  const resolve = (name: string): string => {
    let n = name;
    while (alias.has(n)) n = alias.get(n)!;
    return n;
  };
  for (const n of graph.nodes) if (PASS_THROUGH.has(n.op)) alias.set(n.outputs[0].name, (n.inputs[0] as Tensor).name);
  // dead-code elimination from the outputs
  const byOutput = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) byOutput.set(o.name, n);
  const needed = new Set<number>();
  const usedNames = new Set<string>();
  const stack = Object.values(outputs).map((t) => resolve(t.name));
  while (stack.length) {
    const name = stack.pop()!;
    if (usedNames.has(name)) continue;
    usedNames.add(name);
    const n = byOutput.get(name);
    if (!n || needed.has(n.id)) continue;
    needed.add(n.id);
    for (const t of n.inputs) if (t) stack.push(resolve(t.name));
  }
  // rename a node output to the requested graph-output name where possible, else add an Identity
  const rename = new Map<string, string>();
  const taken = new Set<string>([...graph.inputs.keys(), ...graph.constants.keys()]);
  const extra: NodeProto[] = [];
  const outInfos: ValueInfoProto[] = [];
  for (const [outName, t] of Object.entries(outputs)) {
    const src = resolve(t.name);
    const producible = byOutput.has(src) && !rename.has(src) && !taken.has(outName);
    if (producible) rename.set(src, outName);
    else extra.push({ opType: 'Identity', input: [src], output: [outName], name: `out_${outName}` });
    outInfos.push(valueInfo(outName, t.dtype, t.shape));
  }
  const nm = (name: string): string => {
    const r = resolve(name);
    return rename.get(r) ?? r;
  };
  const nodes: NodeProto[] = [];
  for (const n of graph.nodes) {
    if (!needed.has(n.id) || PASS_THROUGH.has(n.op)) continue;
    const attribute = Object.entries(n.attrs).map(([k, a]) => attrProto(k, a));
    nodes.push({
      opType: n.op,
      input: n.inputs.map((t) => (t ? nm(t.name) : '')),
      output: n.outputs.map((o) => nm(o.name)),
      name: `n${n.id}`,
      attribute,
      docString: n.location,
    });
  }
  nodes.push(...extra.map((e) => ({ ...e, input: e.input.map(nm) })));
  const inputs: ValueInfoProto[] = [];
  const initializer: TensorProto[] = [];
  for (const [name, t] of graph.inputs) {
    if (!usedNames.has(name)) continue;
    if (bake[name]) initializer.push(tensorProto(name, t.dtype, bake[name].shape, bake[name].data));
    else inputs.push(valueInfo(name, t.dtype, t.shape));
  }
  for (const [name, c] of graph.constants)
    if (usedNames.has(name)) initializer.push(tensorProto(name, c.dtype, c.shape, c.data));
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'attune',
    producerVersion: '0.1.0',
    docString: opts.docString,
    graph: { name: opts.name ?? 'attune', node: nodes, initializer, input: inputs, output: outInfos },
  };
}
