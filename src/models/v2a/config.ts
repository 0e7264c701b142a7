/**
 * v2a model settings and stream geometry (MMAudio's sequence_config.py at 16 kHz, scaled down).
 *
 * | stream        | rate        | 8 s      | what                                                         |
 * |---------------|-------------|----------|--------------------------------------------------------------|
 * | audio latent  | 31.25 /s    | 250 x 64 | normalized log-mel (audio.ts)                                 |
 * | visual tokens | 8 fps       | 64 x P   | 24 x 24 RGB frames (P = 1728), encoded here                   |
 * | sync features | 25 fps      | 200 x P  | frame differences at 25 fps, encoded here (MMAudio: 24/s)     |
 * | text tokens   | -           | 16       | caption words (text.ts vocabulary), padded                    |
 *
 * Variants are factory functions (MMAudio's small_16k / large_44k style): `tiny` for tests, `small` the default.
 */
import { LATENT_RATE, N_MELS, latentFrames } from './audio.js';

export const VISUAL_FPS = 8;
export const SYNC_FPS = 25;
export const FRAME_SIZE = 24;
export const PIXELS = FRAME_SIZE * FRAME_SIZE * 3;
export const TEXT_TOKENS = 16;

export interface V2aConfig {
  /** Token width of every stream. */
  dim: number;
  heads: number;
  /** N1: joint blocks over [audio | visual | text]. */
  jointBlocks: number;
  /** N2: audio-only blocks. */
  audioBlocks: number;
  mlpRatio: number;
  /** Temporal kernel of the motion (sync) encoder. */
  syncKernel: number;
  /** Ablations: sync features into the per-token condition; aligned (vs plain index) RoPE on the visual stream. */
  syncFeatures: boolean;
  alignedRope: boolean;
  /** Frame tokens: 'linear' = one Linear over the flattened frame (position-bound); 'pixels' adds a per-pixel color
   * MLP shared over positions, max- and mean-pooled over the frame (sees a small colored object wherever it is);
   * 'patches' the same MLP over each pixel's 5 x 5 neighborhood (also sees the object's shape). */
  visualEncoder: VisualEncoder;
  /** Weight of the auxiliary class loss on the pooled frame tokens (0 = flow matching only, as MMAudio). */
  visualClassLoss: number;
  /** Steps of the visual pretraining stage (pretrain.ts: encoder + class head on the frames alone; 0 = none). */
  visualPretrainSteps: number;
}

export type VisualEncoder = 'linear' | 'pixels' | 'patches';

/** The visual class loss (weight 1) is on by default since session 4 (with lr 1e-3 it took the generated sound's class
 * accuracy from 0.69 to 0.84 at 1950 steps); the 5 x 5 patch encoder started from 400 steps of visual pretraining
 * since session 6: with 60 epochs it gave class accuracy 0.984 +- 0.016 over 3 seeds, against 0.859 +- 0.063 for
 * the pixel encoder at the same steps (docs/v2a.md). */
const base = {
  mlpRatio: 2,
  syncKernel: 5,
  syncFeatures: true,
  alignedRope: true,
  visualEncoder: 'patches' as const,
  visualClassLoss: 1,
  visualPretrainSteps: 400,
};
/** No pretraining stage in `tiny`: tests train it for seconds (v2a_pretrain.test.ts covers the stage). */
export const v2aTiny = (): V2aConfig => ({
  ...base,
  visualPretrainSteps: 0,
  dim: 32,
  heads: 2,
  jointBlocks: 1,
  audioBlocks: 1,
});
export const v2aSmall = (): V2aConfig => ({ ...base, dim: 96, heads: 4, jointBlocks: 2, audioBlocks: 2 });
export const v2aBase = (): V2aConfig => ({ ...base, dim: 192, heads: 6, jointBlocks: 3, audioBlocks: 6 });

export const V2A_VARIANTS = { tiny: v2aTiny, small: v2aSmall, base: v2aBase };

export interface Sequence {
  seconds: number;
  latent: number; // audio latent frames (31.25 /s)
  visual: number; // 8 fps frames
  sync: number; // 25 fps frames
  text: number;
  mels: number;
}

/** Stream lengths for a clip of `seconds` (8 s -> 250 / 64 / 200 / 16). */
export function sequence(seconds: number): Sequence {
  return {
    seconds,
    latent: latentFrames(seconds),
    visual: Math.round(seconds * VISUAL_FPS),
    sync: Math.round(seconds * SYNC_FPS),
    text: TEXT_TOKENS,
    mels: N_MELS,
  };
}

export { LATENT_RATE };

/** Default start of the guidance interval (flow time t, 0 = noise, 1 = data; sampler.ts): chosen on the val split in
 * session 6 (docs/v2a.md). */
export const GUIDANCE_FROM = 0.4;
