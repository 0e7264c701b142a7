/**
 * Sampling: Euler steps over t = linspace(0, 1, steps + 1) from Gaussian noise (MMAudio's default sampler), with
 * classifier-free guidance v = cfg * v_cond + (1 - cfg) * v_uncond on the steps with t >= `guidanceFrom` and v_cond
 * alone before (guidance limited to an interval, Kynkäänniemi et al. 2024). Session 6 measured on the val split
 * (3 seeds, docs/v2a.md) that guidance at the noisiest steps lifts every class logit of the scoring classifier
 * (the generated spectra's level, not one class), which is most of FD at CFG 4.5; from t = 0.4 it keeps CFG 4.5's
 * onsets and classes at a fraction of the FD. The network's batch holds the conditioned items
 * in its first half and the same items with every condition dropped in its second half, so each step is ONE network
 * call for both. Noise is seeded per item (`seed`, item index), so a clip's result does not depend on its batch-mates.
 */
import { type HostArray, hostArray } from '../../io/array.js';
import { Rng } from '../../util/rng.js';
import { InputError } from '../../util/errors.js';
import { GUIDANCE_FROM, PIXELS, type Sequence } from './config.js';
import { motionInput, visualInput } from './data.js';

/** What one generated clip is conditioned on. */
export interface Condition {
  frames: Uint8Array | null; // pooled 25 fps frames [Ts, P], null = no video
  text: number[] | null; // word ids [L] (text.ts tokenize), null = no text
  textValid?: number[];
}

/** The condition inputs of the network for items (drop flags: 1 = use the learned empty condition). */
export function conditionFeeds(
  items: Condition[],
  seq: Sequence,
  dropVideo: number[],
  dropText: number[],
): Record<string, HostArray> {
  const B = items.length;
  const visual = new Float32Array(B * seq.visual * PIXELS);
  const motion = new Float32Array(B * seq.sync * PIXELS);
  const text = new BigInt64Array(B * seq.text);
  const valid = new Float32Array(B * seq.text);
  items.forEach((c, b) => {
    visualInput(c.frames, seq, visual, b * seq.visual * PIXELS);
    motionInput(c.frames, seq, motion, b * seq.sync * PIXELS);
    for (let i = 0; i < seq.text; i++) {
      text[b * seq.text + i] = BigInt(c.text?.[i] ?? 0);
      valid[b * seq.text + i] = c.text ? (c.textValid?.[i] ?? (c.text[i] > 0 ? 1 : 0)) : 0;
    }
  });
  return {
    visual: hostArray('float32', [B, seq.visual, PIXELS], visual),
    motion: hostArray('float32', [B, seq.sync, PIXELS], motion),
    text: hostArray('int64', [B, seq.text], text),
    text_valid: hostArray('float32', [B, seq.text], valid),
    drop_video: hostArray('float32', [B], Float32Array.from(dropVideo)),
    drop_text: hostArray('float32', [B], Float32Array.from(dropText)),
  };
}

/** Runs the network on a full batch: feeds (xt, t and the condition inputs) -> velocity [B, Ta, M] data. */
export type VelocityFn = (feeds: Record<string, HostArray>) => Promise<Float32Array>;

export interface SampleOptions {
  steps?: number; // default 25
  cfg?: number; // default 4.5
  seed?: number; // default 0
  /** Guidance only on steps with t >= this (0 = every step, MMAudio; default GUIDANCE_FROM). */
  guidanceFrom?: number;
  /** Index of the first item (noise is seeded by (seed, first + i)). */
  first?: number;
  onStep?: (step: number, steps: number) => void;
}

/** Gaussian noise of item `index` under `seed`: [Ta * M]. */
export function itemNoise(seed: number, index: number, seq: Sequence): Float32Array {
  const rng = new Rng(`v2a/noise/${seed}/${index}`);
  return Float32Array.from({ length: seq.latent * seq.mels }, () => rng.normal());
}

/**
 * Generates latents [Ta * M] for up to batch/2 conditions with one network call per step. `batch` is the network's
 * static batch size (even); fewer items are padded by repeating the last.
 */
export async function sampleLatents(
  velocity: VelocityFn,
  items: Condition[],
  seq: Sequence,
  batch: number,
  opts: SampleOptions = {},
): Promise<Float32Array[]> {
  const half = batch >> 1;
  if (batch % 2 !== 0 || items.length === 0 || items.length > half)
    throw new InputError(
      `sampleLatents: ${items.length} items for a network batch of ${batch} (needs 1..${half}, batch even)`,
      { field: 'items', got: items.length, expected: `1..${half}` },
    );
  const steps = opts.steps ?? 25;
  const cfg = opts.cfg ?? 4.5;
  const guidanceFrom = opts.guidanceFrom ?? GUIDANCE_FROM;
  if (!Number.isInteger(steps) || steps < 1)
    throw new InputError(`steps must be a positive integer, got ${steps}`, { field: 'steps', got: steps });
  const padded = Array.from({ length: half }, (_, i) => items[Math.min(i, items.length - 1)]);
  const conds = conditionFeeds(
    [...padded, ...padded],
    seq,
    [...padded.map((c) => (c.frames ? 0 : 1)), ...padded.map(() => 1)],
    [...padded.map((c) => (c.text ? 0 : 1)), ...padded.map(() => 1)],
  );
  const size = seq.latent * seq.mels;
  const x = new Float32Array(half * size);
  padded.forEach((_, i) => x.set(itemNoise(opts.seed ?? 0, (opts.first ?? 0) + i, seq), i * size));
  const xt = new Float32Array(batch * size);
  for (let k = 0; k < steps; k++) {
    const t = k / steps,
      dt = 1 / steps;
    xt.set(x, 0);
    xt.set(x, half * size);
    const v = await velocity({
      ...conds,
      xt: hostArray('float32', [batch, seq.latent, seq.mels], xt),
      t: hostArray('float32', [batch], new Float32Array(batch).fill(t)),
    });
    const w = t >= guidanceFrom ? cfg : 1;
    for (let i = 0; i < half * size; i++) x[i] += dt * (w * v[i] + (1 - w) * v[half * size + i]);
    opts.onStep?.(k + 1, steps);
  }
  return items.map((_, i) => x.slice(i * size, (i + 1) * size));
}
