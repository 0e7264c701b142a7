/** AVQA: questions with exact answers on AV-Synth scenes, their streams and vocabulary (docs/avqa.md). */
export * from './config.js';
export * from './scene.js';
export * from './templates.js';
export * from './questions.js';
export * from './generate.js';
export * from './baseline.js';
export * from './streams.js';
export * from './frame_labels.js';
export * from './vocab.js';
export * from './write.js';
