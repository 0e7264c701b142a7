/** av-sync: audio-visual offset estimation (xcorr baseline and the learned model), synchronisability and fixing. */
export * from './result.js';
export * from './features.js';
export * from './xcorr.js';
export * from './model.js';
export * from './data.js';
export * from './task.js';
export * from './infer.js';
export * from './fix.js';
export * from './analyze.js';
export * from './bench.js';
