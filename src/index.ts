/**
 * Attune: cross-modal attention and alignment for audio, video and text.
 * The public API re-exports each area; see README.md for the tour.
 */
export * from './util/errors.js';
export * from './util/rng.js';
export * from './io/array.js';
export * from './io/safetensors.js';
export * from './io/npy.js';
