/**
 * Attune's neural-network blocks and losses: plain functions of (Scope, tensors, config) over engine tensors.
 * See docs/nn.md.
 */
export * from './linear.js';
export * from './norm.js';
export * from './mlp.js';
export * from './conv.js';
export * from './masks.js';
export * from './positions.js';
export * from './attention.js';
export * from './adaln.js';
export * from './blocks.js';
export * from './joint.js';
export * from './fusion.js';
export * from './qformer.js';
export * from './losses.js';
