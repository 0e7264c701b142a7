/**
 * Per-frame ground truth of an AVQA clip, for supervising the stream encoders (FAVOR's encoders are pretrained; ours
 * are trained here, and this is the signal that stands in for their pretraining: docs/favor.md).
 *
 *   visual [F, 69]: which looks (9 colors incl. the distractors' gray x 6 shapes: 54) are on screen in frame t,
 *                   then which colors (9) and which shapes (6) on their own (easier to learn, and scored apart).
 *                   An object is on screen when at least half of its pixels are visible in the frame: objects
 *                   overlap (29 % of 5 s frames have some overlap, 10 % a heavy one), and one mostly hidden under
 *                   another cannot be seen, so labelling it taught the encoder noise (docs/favor.md, session 5).
 *   tokens [F, grid², 69] (tokenLabels): the same visual labels per cell of a grid x grid cut of the frame, each
 *                   object in the one cell holding its centre (stage 1's per-token loss: docs/favor.md, session 6)
 *   audio  [F, 4]:  which kinds of sound (piano, clarinet, bell, drum) have an impact heard in [t/2, (t+1)/2) s
 *   hits   [F, 69]: the look, colour and shape of every object (gray ones too) that hits the wall in [t/2, (t+1)/2) s
 *                   of the video: which object made an impact when, what counting, order and "right after"
 *                   questions ask about (stage 2's query loss: docs/favor.md, session 7)
 *   audioOnsets [F, 4], hitOnsets [F, 69]: the same, counted: how many impacts of each kind of sound are heard, and
 *                   how many wall hits each look, colour and shape makes, in the frame's half second. Summed over the
 *                   frames they are the clip's counts exactly, where the 0/1 labels lose every second impact that
 *                   falls in an already-marked half second (docs/favor.md, session 15)
 *   audioTokenOnsets [25F, 4]: the impacts heard, counted per 20 ms log-mel frame (the audio encoder's token) they
 *                   start in, so a head on the 50 Hz tokens is told where each impact is, not only its half second;
 *                   two impacts half a second apart are one token each instead of the same frame (docs/favor.md,
 *                   session 16)
 *   audioTokenVoices [25F, 48]: which voice (synth class) each impact heard is, marked on the tokens from one before
 *                   its onset to VOICE_AFTER after it, where the counter's peak for it falls (a conv encoder smears an
 *                   impact over a few tokens), so a head on the tokens tells apart two objects under one sound word
 *                   ('piano'): stage 1's voiceAux (docs/favor.md, session 23). Impacts marking one token share it.
 *
 * The audio labels follow the audio the question is asked over: shifted audio moves the impacts by its offset (as
 * AV-Synth renders it, heard time = seen time + offset), another scene's audio ({foil}) brings that scene's impacts.
 */
import { COLORS, MAX_CLASSES, SHAPES, synthClasses } from '../synth/classes.js';
import { sceneKey } from '../synth/clip.js';
import { insideShape } from '../synth/render.js';
import { positionAt, simulateScene } from '../synth/scene.js';
import { ConfigError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { type AvqaConfig, sceneDuration, sceneSynthConfig } from './config.js';
import { type AvqaScene, SOUND_WORDS, avqaScene } from './scene.js';
import { FAVOR_AUDIO_RATE } from './streams.js';
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
  hits: Float32Array; // [F, FRAME_VISUAL]
  audioOnsets: Float32Array; // [F, FRAME_SOUNDS] impacts heard per frame
  audioTokenOnsets: Float32Array; // [F * FAVOR_AUDIO_RATE / 2, FRAME_SOUNDS] impacts heard per 20 ms audio token
  hitOnsets: Float32Array; // [F, FRAME_VISUAL] wall hits per frame
  audioTokenVoices: Float32Array; // [F * FAVOR_AUDIO_RATE / 2, MAX_CLASSES] impacts' voices around their onset tokens
}

/** A voice label covers the tokens from VOICE_BEFORE before an impact's onset token to VOICE_AFTER after it. */
export const VOICE_BEFORE = 1;
export const VOICE_AFTER = 2;

/** Fraction of an object's pixels that must be visible in a frame for it to count as on screen. */
export const MIN_VISIBLE = 0.5;

/** Every object's place in each 2 Hz frame: its centre (scene px) and the visible share of its pixels. */
interface FramePlaces {
  size: number;
  centres: [number, number][][]; // [F][object] at t / 2 s
  visible: number[][]; // [F][object]
}

/**
 * The scene rasterized at its own size per frame with the renderer's shapes and order (distractors first, then
 * sounding objects, each in scene order); impact flashes (a tenth of a second, objects drawn 1.2x larger) left out.
 */
function framePlaces(cfg: AvqaConfig, index: number, duration: number, frames: number): FramePlaces {
  const synth = sceneSynthConfig(cfg, index, duration);
  const sim = simulateScene(synth, new Rng(sceneKey(synth, index)));
  const classes = synthClasses(synth.classes);
  const shapes = sim.objects.map((o) => classes[o.cls].shape);
  const order = sim.objects.map((_, i) => i).sort((a, b) => +sim.objects[a].sounding - +sim.objects[b].sounding);
  const size = synth.size;
  const top = new Int32Array(size * size);
  const centres: [number, number][][] = [];
  const visible = Array.from({ length: frames }, (_, t) => {
    top.fill(-1);
    const area = new Array<number>(sim.objects.length).fill(0);
    centres.push(sim.objects.map((o) => positionAt(o, t / 2)));
    for (const i of order) {
      const o = sim.objects[i];
      const [cx, cy] = centres[t][i];
      const [x0, x1] = [Math.max(0, Math.floor(cx - o.radius)), Math.min(size - 1, Math.ceil(cx + o.radius))];
      const [y0, y1] = [Math.max(0, Math.floor(cy - o.radius)), Math.min(size - 1, Math.ceil(cy + o.radius))];
      for (let y = y0; y <= y1; y++)
        for (let x = x0; x <= x1; x++)
          if (insideShape(shapes[i], x + 0.5 - cx, y + 0.5 - cy, o.radius)) {
            top[y * size + x] = i;
            area[i]++;
          }
    }
    const shown = new Array<number>(sim.objects.length).fill(0);
    for (const i of top) if (i >= 0) shown[i]++;
    return shown.map((n, i) => (area[i] ? n / area[i] : 0));
  });
  return { size, centres, visible };
}

/** visible[t][i]: the fraction of object i's pixels not covered by objects drawn over it in frame t (framePlaces). */
export function visibleFractions(cfg: AvqaConfig, index: number, duration: number, frames: number): number[][] {
  return framePlaces(cfg, index, duration, frames).visible;
}

/** Index of a look (color word, shape) in the visual labels. */
export function lookIndex(color: string, shape: string): number {
  const c = LOOK_COLORS.indexOf(color);
  const s = SHAPES.indexOf(shape as (typeof SHAPES)[number]);
  if (c < 0 || s < 0) throw new Error(`unknown look ${color} ${shape}`);
  return c * SHAPES.length + s;
}

/** Impacts heard, with the kind of sound and the voice: `scene`'s own (shifted by `offset`). */
function heardImpacts(scene: AvqaScene, offset: number): { time: number; sound: number; voice: number }[] {
  return scene.objects.flatMap((o) =>
    o.sound === null || o.voice === null
      ? []
      : o.bounces.map((t) => ({ time: t + offset, sound: SOUND_WORDS.indexOf(o.sound!), voice: o.voice! })),
  );
}

/** The visual label ids (look, its colour, its shape) of each of a scene's objects. */
function objectLabelIds(scene: AvqaScene): number[][] {
  return scene.objects.map((o) => {
    const k = lookIndex(o.color, o.shape);
    return [k, FRAME_LOOKS + Math.floor(k / SHAPES.length), FRAME_LOOKS + LOOK_COLORS.length + (k % SHAPES.length)];
  });
}

/** The labels of scene `index` heard with `audio` (its own, shifted, or a foil scene's), for 2 Hz frames. */
export function frameLabels(cfg: AvqaConfig, index: number, audio: AvqaAudio = {}): FrameLabels {
  const duration = sceneDuration(cfg, index);
  const frames = Math.round(2 * duration);
  const scene = avqaScene(cfg, index, duration);
  const { visible } = framePlaces(cfg, index, duration, frames);
  const visual = new Float32Array(frames * FRAME_VISUAL);
  const ids = objectLabelIds(scene);
  ids.forEach((own, i) => {
    for (let t = 0; t < frames; t++)
      if (visible[t][i] >= MIN_VISIBLE) for (const j of own) visual[t * FRAME_VISUAL + j] = 1;
  });
  // Seen impacts: the video's timeline, whatever audio the question is asked over.
  const hitOnsets = new Float32Array(frames * FRAME_VISUAL);
  for (const e of scene.impacts) {
    const t = Math.floor(2 * e.time);
    if (t >= 0 && t < frames) for (const j of ids[e.object]) hitOnsets[t * FRAME_VISUAL + j] += 1;
  }
  const heard =
    audio.foil === undefined
      ? heardImpacts(scene, audio.offset ?? 0)
      : heardImpacts(avqaScene(cfg, audio.foil, duration), 0);
  const audioOnsets = new Float32Array(frames * FRAME_SOUNDS);
  const tokens = (frames * FAVOR_AUDIO_RATE) / 2;
  const audioTokenOnsets = new Float32Array(tokens * FRAME_SOUNDS);
  const audioTokenVoices = new Float32Array(tokens * MAX_CLASSES);
  for (const { time, sound, voice } of heard) {
    const t = Math.floor(2 * time);
    if (t >= 0 && t < frames) audioOnsets[t * FRAME_SOUNDS + sound] += 1;
    const a = Math.floor(FAVOR_AUDIO_RATE * time);
    if (a >= 0 && a < tokens) audioTokenOnsets[a * FRAME_SOUNDS + sound] += 1;
    for (let k = Math.max(a - VOICE_BEFORE, 0); k <= Math.min(a + VOICE_AFTER, tokens - 1); k++)
      audioTokenVoices[k * MAX_CLASSES + voice] += 1;
  }
  const marked = (counts: Float32Array) => counts.map((n) => +(n > 0));
  return {
    frames,
    visual,
    audio: marked(audioOnsets),
    hits: marked(hitOnsets),
    audioOnsets,
    hitOnsets,
    audioTokenOnsets,
    audioTokenVoices,
  };
}

/**
 * Per-token visual labels [F, grid², 69] of scene `index`: the frame is cut into grid x grid cells (token
 * gy * grid + gx, the order of the visual tokens: src/models/favor/stem.ts) and each on-screen object (visible share
 * >= MIN_VISIBLE, as in frameLabels) labels the one cell holding its centre with its look, colour and shape. Every
 * object lands in exactly one cell, so the union over a frame's cells is that frame's visual labels, and a head that
 * reads one token per object has to bind the object's colour to its shape there (docs/favor.md, session 6).
 */
export function tokenLabels(cfg: AvqaConfig, index: number, grid: number): Float32Array {
  if (!Number.isInteger(grid) || grid < 1)
    throw new ConfigError(`tokenLabels: grid must be a positive whole number of cells per side, not ${grid}`, {
      field: 'grid',
      got: grid,
    });
  const duration = sceneDuration(cfg, index);
  const frames = Math.round(2 * duration);
  const scene = avqaScene(cfg, index, duration);
  const { size, centres, visible } = framePlaces(cfg, index, duration, frames);
  const cells = grid * grid;
  const cellOf = (v: number) => Math.min(grid - 1, Math.max(0, Math.floor((v / size) * grid)));
  const out = new Float32Array(frames * cells * FRAME_VISUAL);
  objectLabelIds(scene).forEach((ids, i) => {
    for (let t = 0; t < frames; t++) {
      if (visible[t][i] < MIN_VISIBLE) continue;
      const [cx, cy] = centres[t][i];
      const row = (t * cells + cellOf(cy) * grid + cellOf(cx)) * FRAME_VISUAL;
      for (const j of ids) out[row + j] = 1;
    }
  });
  return out;
}
