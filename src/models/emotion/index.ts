/** emotion: 7-way emotion from words + voice (+ speaker metadata), seed 002's cross-modal attention model. */
export * from './config.js';
export * from './features.js';
export * from './encoders.js';
export * from './model.js';
export * from './losses.js';
export * from './graph.js';
export * from './data.js';
export * from './predict.js';
export * from './analysis.js';
export * from './report.js';
export * from './task.js';
export * from './infer.js';
export * from './ablation.js';
