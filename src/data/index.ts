export * from './manifest.js';
export * from './batch.js';
export * from './cache.js';
export * from './extract.js';
export * from './feature_job.js';
export * from './synth/index.js';
export * from './emospeech/index.js';
export * from './avqa/index.js';
