/**
 * Per-frame ground truth of an AVQA clip, for supervising the stream encoders (FAVOR's encoders are pretrained; ours
 * are trained here, and this is the signal that stands in for their pretraining: docs/favor.md).
 *
 *   visual [F, 69]: which looks (9 colors incl. the distractors' gray x 6 shapes: 54) are on screen in frame t,
 *                   then which colors (9) and which shapes (6) on their own (easier to learn, and scored apart)
 *   audio  [F, 4]:  which kinds of sound (piano, clarinet, bell, drum) have an impact heard in [t/2, (t+1)/2) s
 *
 * The audio labels follow the audio the question is asked over: shifted audio moves the impacts by its offset (as
 * AV-Synth renders it, heard time = seen time + offset), another scene's audio ({foil}) brings that scene's impacts.
 */
import { COLORS, SHAPES } from '../synth/classes.js';
import { type AvqaConfig, sceneDuration } from './config.js';
import { type AvqaScene, SOUND_WORDS, avqaScene } from './scene.js';
import type { AvqaAudio } from './templates.js';

/** Color words of the looks: AV-Synth's 8 colors and the distractors' gray. */
export const LOOK_COLORS: readonly string[] = [...COLORS.map((c) => c.name), 'gray'];
/** Visual labels per frame: one per (color, shape), then one per color, then one per shape. */
export const FRAME_LOOKS = LOOK_COLORS.length * SHAPES.length;
export const FRAME_VISUAL_PARTS = [FRAME_LOOKS, LOOK_COLORS.length, SHAPES.length] as const;
export const FRAME_VISUAL = FRAME_LOOKS + LOOK_COLORS.length + SHAPES.length;
/** Audio labels per frame: one per kind of sound. */
export const FRAME_SOUNDS = SOUND_WORDS.length;

export interface FrameLabels {
  frames: number;
  visual: Float32Array; // [F, FRAME_VISUAL]
  audio: Float32Array; // [F, FRAME_SOUNDS]
}

/** Index of a look (color word, shape) in the visual labels. */
export function lookIndex(color: string, shape: string): number {
  const c = LOOK_COLORS.indexOf(color);
  const s = SHAPES.indexOf(shape as (typeof SHAPES)[number]);
  if (c < 0 || s < 0) throw new Error(`unknown look ${color} ${shape}`);
  return c * SHAPES.length + s;
}

/** Impacts heard in [0, duration), with the kind of sound: `scene`'s own (shifted by `offset`). */
function heardImpacts(scene: AvqaScene, offset: number): { time: number; sound: number }[] {
  return scene.objects.flatMap((o) =>
    o.sound === null ? [] : o.bounces.map((t) => ({ time: t + offset, sound: SOUND_WORDS.indexOf(o.sound!) })),
  );
}

/** The labels of scene `index` heard with `audio` (its own, shifted, or a foil scene's), for 2 Hz frames. */
export function frameLabels(cfg: AvqaConfig, index: number, audio: AvqaAudio = {}): FrameLabels {
  const duration = sceneDuration(cfg, index);
  const frames = Math.round(2 * duration);
  const scene = avqaScene(cfg, index, duration);
  const visual = new Float32Array(frames * FRAME_VISUAL);
  for (const o of scene.objects) {
    const k = lookIndex(o.color, o.shape);
    const c = FRAME_LOOKS + Math.floor(k / SHAPES.length);
    const s = FRAME_LOOKS + LOOK_COLORS.length + (k % SHAPES.length);
    for (let t = 0; t < frames; t++) for (const j of [k, c, s]) visual[t * FRAME_VISUAL + j] = 1;
  }
  const heard =
    audio.foil === undefined
      ? heardImpacts(scene, audio.offset ?? 0)
      : heardImpacts(avqaScene(cfg, audio.foil, duration), 0);
  const labels = new Float32Array(frames * FRAME_SOUNDS);
  for (const { time, sound } of heard) {
    const t = Math.floor(2 * time);
    if (t >= 0 && t < frames) labels[t * FRAME_SOUNDS + sound] = 1;
  }
  return { frames, visual, audio: labels };
}
