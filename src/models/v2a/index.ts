/**
 * v2a (seed 003, MMAudio): sound for silent video and text-to-audio by flow matching. See docs/v2a.md.
 */
export * from './audio.js';
export * from './config.js';
export * from './network.js';
export * from './model.js';
export * from './sampler.js';
export * from './generate.js';
export * from './text.js';
export * from './classifier.js';
export * from './evaluate.js';
export * from './infer.js';
export { v2aTask, V2aModelSchema, V2aDataSchema, type V2aModelConfig, type V2aDataConfig } from './task.js';
