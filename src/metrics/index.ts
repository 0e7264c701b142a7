/** Alignment, retrieval, attention, classification, sync and generation metrics; see docs/metrics.md. */
export { asMatrix, asVector, l2Normalize, type MatrixInput, type VectorInput } from './input.js';
export * from './linalg.js';
export { type Precision } from './ort.js';
export * from './retrieval.js';
export * from './similarity.js';
export * from './geometry.js';
export * from './mutual-info.js';
export * from './attention.js';
export * from './classification.js';
export * from './sync.js';
export * from './generation.js';
export * from './stats.js';
export * from './suite.js';
export * from './tridiagonal.js';
