/**
 * Attune: cross-modal attention and alignment for audio, video and text.
 *
 * Areas whose names would collide (the engine's `matmul`/`linear` vs the metrics' `matmul`, nn blocks vs engine ops)
 * are namespaces; the rest is flat.
 *
 * @example
 * import { engine, nn, metrics, decodeAudio, generateClip } from 'attune';
 * const g = new engine.Graph();
 */
// First: keeps onnxruntime-node's telemetry off unless the user opted in (see src/util/ort_env.ts).
import './util/ort_env.js';
export * from './util/errors.js';
export * from './util/rng.js';
export * from './io/array.js';
export * from './io/safetensors.js';
export * from './io/npy.js';
export * from './timeline/index.js';
export * from './data/index.js';
export * from './text/index.js';
export * from './media/index.js';
export * as engine from './engine/index.js';
export * as nn from './nn/index.js';
export * as metrics from './metrics/index.js';
export * as report from './report/index.js';
export * from './train/index.js';
export * from './models/index.js';
