/**
 * The subset of the ONNX protobuf schema (onnx.proto, IR version 8+) that Attune writes and reads:
 * models, graphs, nodes, attributes, tensors and value infos. Field numbers follow the ONNX spec, so
 * the bytes are ordinary .onnx files for ONNX Runtime, Netron or PyTorch's onnx tooling.
 */

import protobuf from 'protobufjs';
import { InputError } from '../../util/errors.js';

/** onnx.proto's AttributeProto.AttributeType (UNDEFINED = 0 only in the schema). */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

const schema = {
  nested: {
    onnx: {
      nested: {
        AttributeType: { values: { UNDEFINED: 0, ...AttributeType } },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            docString: { type: 'string', id: 13 },
            type: { type: 'AttributeType', id: 20 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            tensors: { rule: 'repeated', type: 'TensorProto', id: 10 },
            graphs: { rule: 'repeated', type: 'GraphProto', id: 11 },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            docString: { type: 'string', id: 3 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            domain: { type: 'string', id: 7 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
          },
        },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            int32Data: { rule: 'repeated', type: 'int32', id: 5 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            doubleData: { rule: 'repeated', type: 'double', id: 10 },
            docString: { type: 'string', id: 12 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: {
                dimValue: { type: 'int64', id: 1 },
                dimParam: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: { type: 'Tensor', id: 1 }, denotation: { type: 'string', id: 6 } },
          nested: {
            Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(schema);
const ModelType = root.lookupType('onnx.ModelProto');

/** ONNX TensorProto.DataType codes. */
export const OnnxDataType = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
} as const;

// Plain-object mirrors of the messages (camelCase field names, as protobufjs uses them).
export interface TensorProto {
  name?: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
}
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}
export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}
export interface DimProto {
  dimValue?: number;
  dimParam?: string;
}
export interface ValueInfoProto {
  name: string;
  type?: { tensorType?: { elemType: number; shape?: { dim: DimProto[] } } };
  docString?: string;
}
export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer?: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
  docString?: string;
}
export interface ModelProto {
  irVersion: number;
  opsetImport: { domain: string; version: number }[];
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  graph: GraphProto;
  metadataProps?: { key: string; value: string }[];
}

/** Serializes a model to .onnx bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  const err = ModelType.verify(model);
  if (err) throw new Error(`internal: invalid ONNX model object: ${err}`);
  return ModelType.encode(ModelType.fromObject(model)).finish();
}

/**
 * Parses .onnx bytes into plain objects (int64 fields as numbers). protobufjs reads within the given bytes only; a
 * truncated or foreign file is an InputError naming `source` (a RangeError or TypeError from the decoder otherwise).
 */
export function decodeModel(bytes: Uint8Array, source = '<buffer>'): ModelProto {
  let model: ModelProto;
  try {
    const msg = ModelType.decode(bytes);
    model = ModelType.toObject(msg, {
      longs: Number,
      bytes: Uint8Array as any,
      defaults: false,
      arrays: true,
    }) as unknown as ModelProto;
  } catch (err) {
    throw new InputError(
      `${source}: not a valid ONNX model file (${bytes.byteLength} bytes): ${(err as Error).message}`,
      { file: source, expected: 'ONNX ModelProto' },
    );
  }
  if (!model.graph)
    throw new InputError(`${source}: not a valid ONNX model file: it has no graph`, {
      file: source,
      expected: 'ONNX ModelProto with a graph',
    });
  return model;
}
