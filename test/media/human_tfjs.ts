/**
 * TensorFlow.js as @vladmandic/human bundles it (dist/human.esm.js, tfjs 4.x with its cpu backend), for checking
 * the ONNX conversions of human's models against the runtime they were made for, with no TensorFlow.js package
 * installed. The bundle is a browser build: under Node it would register a Node platform that needs the `util`
 * module the bundle stubs out, so process.versions.node is hidden while it loads and a small platform is set instead.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { types } from 'node:util';

interface TfTensor {
  data(): Promise<Float32Array>;
  shape: number[];
  dispose(): void;
}
interface TfGraphModel {
  execute(x: TfTensor): TfTensor | TfTensor[];
}
interface Tf {
  env(): { setPlatform(name: string, p: unknown): void };
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  tensor(data: Float32Array, shape: number[]): TfTensor;
  io: { fromMemory(a: unknown): unknown };
  loadGraphModel(handler: unknown): Promise<TfGraphModel>;
}

export const HUMAN_MODELS = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/human')), '..', 'models');

let loaded: Promise<Tf> | null = null;

async function loadTf(): Promise<Tf> {
  const bundle = join(HUMAN_MODELS, '..', 'dist', 'human.esm.js');
  const versions = process.versions;
  Object.defineProperty(process, 'versions', { value: { ...versions, node: undefined }, configurable: true });
  let mod: { Human: new (config: object) => { tf: Tf } };
  try {
    mod = (await import(pathToFileURL(bundle).href)) as typeof mod;
  } finally {
    Object.defineProperty(process, 'versions', { value: versions, configurable: true });
  }
  const tf = new mod.Human({ backend: 'cpu' }).tf;
  tf.env().setPlatform('node', {
    fetch: (url: string) => fetch(url),
    now: () => performance.now(),
    encode: (s: string) => new TextEncoder().encode(s),
    decode: (b: Uint8Array, encoding: string) => new TextDecoder(encoding).decode(b),
    isTypedArray: (a: unknown) =>
      types.isFloat32Array(a) || types.isInt32Array(a) || types.isUint8Array(a) || types.isUint8ClampedArray(a),
  });
  if (!(await tf.setBackend('cpu'))) throw new Error('the TFJS cpu backend did not start');
  await tf.ready();
  return tf;
}

const models = new Map<string, Promise<TfGraphModel>>();

async function loadModel(tf: Tf, name: string): Promise<TfGraphModel> {
  const json = JSON.parse(readFileSync(join(HUMAN_MODELS, `${name}.json`), 'utf8')) as {
    modelTopology: unknown;
    weightsManifest: { paths: string[]; weights: unknown[] }[];
  };
  const weights = Buffer.concat(json.weightsManifest.map((g) => readFileSync(join(HUMAN_MODELS, g.paths[0]))));
  return tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
}

/** Runs one of human's models (by file name) on TFJS; returns every output, flattened, in the graph's order. */
export async function runOnTfjs(name: string, input: Float32Array, shape: number[]): Promise<Float32Array[]> {
  loaded ??= loadTf();
  const tf = await loaded;
  if (!models.has(name)) models.set(name, loadModel(tf, name));
  const model = await models.get(name)!;
  const x = tf.tensor(input, shape);
  const out = model.execute(x);
  const list = Array.isArray(out) ? out : [out];
  const data = await Promise.all(list.map((t) => t.data()));
  [x, ...list].forEach((t) => t.dispose());
  return data;
}
