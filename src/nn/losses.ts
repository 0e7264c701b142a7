/**
 * Losses: contrastive (InfoNCE with a learnable logit scale, hard-negative NCE), regularizers (FAVOR diversity,
 * attention-entropy diversity, temporal smoothness, VICReg variance/covariance, uniformity), reconstruction
 * (multi-scale, alignment, BCE, cross-entropy, flow matching). Every loss returns a scalar tensor.
 */
export { cosineMatrix, l2Normalize, maskedMean } from './losses/common.js';
export * from './losses/contrastive.js';
export * from './losses/regularizers.js';
export * from './losses/reconstruction.js';
