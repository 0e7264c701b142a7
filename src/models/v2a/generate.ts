/**
 * Conditions in, waveforms out: the sampler in chunks of the network's batch, then the log-mel decoder.
 *
 *   conditions -> sampleLatents (Euler, CFG, cond+uncond in one call per step) -> latents [Ta, M] (-> autoencoder decoder) -> mel [Ta, 64] -> decodeAudio
 *   (one thread, or a DecoderPool's) -> waves
 */
import type { Predictor } from '../../engine/export.js';
import { toFloat32 } from '../../io/array.js';
import { decodeAudio } from './audio.js';
import type { DecoderPool } from './decode_pool.js';
import type { Sequence } from './config.js';
import { type Condition, type SampleOptions, sampleLatents, type VelocityFn } from './sampler.js';

export interface GenerateOptions extends SampleOptions {
  /** Griffin-Lim iterations (default 16). */
  griffinLim?: number;
  /** Latents -> normalized log-mel frames [Ta * 64] (the autoencoder's decoder; default: the latents are log-mel). */
  toMel?: (latents: Float32Array[]) => Promise<Float32Array[]>;
  /** Decode on these threads (decode_pool.ts; bit-identical to the one-thread decoder). */
  decoder?: DecoderPool;
  /** Called after each chunk of items with the count done. */
  onItems?: (done: number, total: number) => void;
}

export function predictorVelocity(predictor: Predictor): VelocityFn {
  return async (feeds) => toFloat32((await predictor.run(feeds)).velocity);
}

/** Latents for every condition, `batch / 2` items per sampler call; item i's noise is seeded by (seed, first + i). */
export async function generateLatents(
  velocity: VelocityFn,
  items: Condition[],
  seq: Sequence,
  batch: number,
  opts: GenerateOptions = {},
): Promise<Float32Array[]> {
  const half = batch >> 1;
  const out: Float32Array[] = [];
  for (let s = 0; s < items.length; s += half) {
    out.push(
      ...(await sampleLatents(velocity, items.slice(s, s + half), seq, batch, {
        ...opts,
        first: (opts.first ?? 0) + s,
      })),
    );
    opts.onItems?.(out.length, items.length);
  }
  return out;
}

export async function generateWaves(
  velocity: VelocityFn,
  items: Condition[],
  seq: Sequence,
  batch: number,
  opts: GenerateOptions = {},
): Promise<Float32Array[]> {
  const generated = await generateLatents(velocity, items, seq, batch, opts);
  const latents = opts.toMel ? await opts.toMel(generated) : generated;
  const decode = { iterations: opts.griffinLim, length: Math.round(seq.seconds * 16000) };
  const waves: Float32Array[] = [];
  for (const z of latents)
    waves.push(opts.decoder ? await opts.decoder.decode(z, seq.latent, decode) : decodeAudio(z, seq.latent, decode));
  return waves;
}
