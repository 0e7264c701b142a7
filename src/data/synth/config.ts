import { z } from 'zod';
import { ConfigError } from '../../util/errors.js';
import { MAX_CLASSES } from './classes.js';

/** AV-Synth generation settings. Defaults suit training: 6 s clips, 16 fps, 112 px, 16 kHz mono. */
export const SynthConfigSchema = z
  .object({
    seed: z.number().int().nonnegative().default(0),
    duration: z.number().positive().max(600).default(6),
    fps: z.number().positive().max(120).default(16),
    sampleRate: z.number().int().min(4000).max(96000).default(16000),
    size: z
      .number()
      .int()
      .min(32)
      .max(1024)
      .refine((v) => v % 2 === 0, 'must be even (H.264 with yuv420p)')
      .default(112),
    classes: z.number().int().min(1).max(MAX_CLASSES).default(8),
    /** [min, max] sounding objects per clip. */
    sounding: z.tuple([z.number().int().min(1), z.number().int().min(1)]).default([1, 2]),
    /** [min, max] silent distractor objects per clip. */
    distractors: z.tuple([z.number().int().min(0), z.number().int().min(0)]).default([1, 2]),
    /** Largest background-noise RMS (each clip draws its level below this). */
    noise: z.number().nonnegative().max(0.5).default(0.02),
    /** Seconds simulated beyond each end, the largest audio shift that stays free of padding. */
    margin: z.number().nonnegative().max(30).default(2.5),
    /** Seconds a sounding object is drawn highlighted after each impact (0 = never). */
    flash: z.number().nonnegative().default(0.1),
    /**
     * What an impact sounds like. Unset or 'class': class k always has class k's sound. 'scene': each scene
     * draws its own permutation of the class sounds (class k sounds like class voices[k]), so an object's
     * sound can only be known by watching and listening, not recalled from its look. Optional with no
     * default, so configs that leave it out parse, key and render exactly as before.
     */
    timbre: z.enum(['class', 'scene']).optional(),
    /** [min, max] object speed in px/s at 112 px (scaled with size). Optional: unset keeps the built-in 45-110. */
    speed: z.tuple([z.number().positive(), z.number().positive()]).optional(),
  })
  .strict()
  .refine(
    (c) =>
      c.sounding[0] <= c.sounding[1] && c.distractors[0] <= c.distractors[1] && (!c.speed || c.speed[0] <= c.speed[1]),
    {
      message: 'ranges must be [min, max] with min <= max',
    },
  );

export type SynthConfig = z.infer<typeof SynthConfigSchema>;

/** Fills defaults and validates; throws a ConfigError naming the field. */
export function synthConfig(partial: Partial<SynthConfig> = {}): SynthConfig {
  const parsed = SynthConfigSchema.safeParse(partial);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || 'config';
    throw new ConfigError(`synth config field '${field}': ${issue.message}`, { field, issues: parsed.error.issues });
  }
  return parsed.data;
}
