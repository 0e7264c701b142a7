/**
 * AVQA generation settings: how AV-Synth scenes are drawn for question answering. Every scene is an
 * AV-Synth clip with its own length (minDuration..maxDuration in durationStep steps, so a 2 Hz stream
 * has a whole number of frames) and a per-scene sound for each class (synth timbre 'scene'), so what
 * an object sounds like has to be seen and heard, not recalled from its look.
 */
import { z } from 'zod';
import { ConfigError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { MAX_CLASSES } from '../synth/classes.js';
import { SynthConfig, synthConfig } from '../synth/config.js';

export const AVQA_FAMILIES = ['audio', 'visual', 'source', 'order', 'count', 'causal', 'matching', 'sync'] as const;
export type AvqaFamily = (typeof AVQA_FAMILIES)[number];

export const AvqaConfigSchema = z
  .object({
    seed: z.number().int().nonnegative().default(0),
    minDuration: z.number().min(1).max(120).default(5),
    maxDuration: z.number().min(1).max(120).default(30),
    /** Clip lengths are multiples of this many seconds (0.5 = one 2 Hz frame). */
    durationStep: z.number().positive().default(0.5),
    /** Scene size in px: the geometry, the MP4 size, and the size streams are downsampled from. */
    size: z
      .number()
      .int()
      .min(32)
      .max(1024)
      .refine((v) => v % 2 === 0, 'must be even (H.264 with yuv420p)')
      .default(64),
    /** Frame rate of written MP4s only (streams are always 2 Hz). */
    fps: z.number().positive().max(120).default(16),
    sampleRate: z
      .number()
      .int()
      .min(4000)
      .max(96000)
      .refine((v) => v % 50 === 0, 'must be a multiple of 50 (50 Hz log-mel hop)')
      .default(16000),
    /** All 48 looks, so every shape comes in every color (no shape gives its color away). */
    classes: z.number().int().min(1).max(MAX_CLASSES).default(MAX_CLASSES),
    sounding: z.tuple([z.number().int().min(1), z.number().int().min(1)]).default([1, 3]),
    distractors: z.tuple([z.number().int().min(0), z.number().int().min(0)]).default([0, 2]),
    /**
     * [min, max] object speed, px/s at 112 px: half of AV-Synth's 45-110, so a 2 Hz frame sees an object
     * move 11-30 px (at 112 px) and impacts are sparse enough to ask about one at a time.
     */
    speed: z.tuple([z.number().positive(), z.number().positive()]).default([22, 55]),
    noise: z.number().nonnegative().max(0.5).default(0.02),
    /** Seconds simulated beyond each end; must cover the largest sync offset (2 s). */
    margin: z.number().min(2).max(30).default(2.5),
    flash: z.number().nonnegative().default(0.1),
    /** Fractions of scenes in the validation and test splits (by scene, from a hash of seed and index). */
    valFraction: z.number().min(0).max(1).default(0.1),
    testFraction: z.number().min(0).max(1).default(0.1),
    /** Questions asked per family per scene (at most; a family is skipped where nothing unambiguous and balanced is left). */
    perFamily: z.number().int().min(1).max(10).default(1),
    families: z
      .array(z.enum(AVQA_FAMILIES))
      .min(1)
      .default([...AVQA_FAMILIES]),
    /** Balance: no answer of a template may exceed (1 + tolerance) times its uniform share (plus a small slack). */
    tolerance: z.number().min(0).max(10).default(0.2),
  })
  .strict()
  .refine((c) => c.minDuration <= c.maxDuration, { message: 'minDuration must be <= maxDuration' })
  .refine((c) => c.valFraction + c.testFraction < 1, { message: 'valFraction + testFraction must be below 1' })
  .refine((c) => c.sounding[0] <= c.sounding[1] && c.distractors[0] <= c.distractors[1], {
    message: 'ranges must be [min, max] with min <= max',
  });

export type AvqaConfig = z.infer<typeof AvqaConfigSchema>;
export type AvqaSplit = 'train' | 'val' | 'test';

export function avqaConfig(partial: Partial<AvqaConfig> = {}): AvqaConfig {
  const parsed = AvqaConfigSchema.safeParse(partial);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || 'config';
    throw new ConfigError(`avqa config field '${field}': ${issue.message}`, { field, issues: parsed.error.issues });
  }
  return parsed.data;
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/** Scene `index`'s length: uniform over minDuration, minDuration + step, ..., maxDuration. */
export function sceneDuration(cfg: AvqaConfig, index: number): number {
  const steps = Math.floor((cfg.maxDuration - cfg.minDuration) / cfg.durationStep + 1e-9);
  const k = new Rng(`avqa/v1/${cfg.seed}/${index}/duration`).int(steps + 1);
  return round6(cfg.minDuration + k * cfg.durationStep);
}

/** Scene `index`'s split, from its own hash: a scene and all its questions are in one split. */
export function sceneSplit(cfg: AvqaConfig, index: number): AvqaSplit {
  const u = new Rng(`avqa/v1/${cfg.seed}/${index}/split`).uniform();
  return u < cfg.testFraction ? 'test' : u < cfg.testFraction + cfg.valFraction ? 'val' : 'train';
}

/** The AV-Synth settings of scene `index` (its own duration; timbre 'scene'). */
export function sceneSynthConfig(cfg: AvqaConfig, index: number, duration = sceneDuration(cfg, index)): SynthConfig {
  return synthConfig({
    seed: cfg.seed,
    duration,
    fps: cfg.fps,
    sampleRate: cfg.sampleRate,
    size: cfg.size,
    classes: cfg.classes,
    sounding: cfg.sounding,
    distractors: cfg.distractors,
    speed: cfg.speed,
    noise: cfg.noise,
    margin: cfg.margin,
    flash: cfg.flash,
    timbre: 'scene',
  });
}

export function sceneId(index: number): string {
  return `avqa${String(index).padStart(6, '0')}`;
}
