import { ConfigError } from '../../util/errors.js';
import { makeStream, type Stream } from '../../timeline/timeline.js';
import { Rng } from '../../util/rng.js';
import { SynthClass, synthClasses } from './classes.js';
import { SynthConfig, synthConfig } from './config.js';
import { renderAudio, renderVideo } from './render.js';
import { Scene, simulateScene } from './scene.js';

/**
 * The in-memory fast path: clip i of a dataset as frames + samples + exact ground truth, with no
 * files and no ffmpeg. Clip i depends only on (seed, i, config), so any clip can be made alone and
 * in any order (random access for training).
 */
export interface SynthEvent {
  time: number; // seconds on the video timeline (when the impact is seen)
  cls: number;
  label: string; // class name
  object: number;
  strength: number;
}

export interface SynthClip {
  id: string; // 'clip000012' (+ '_s+0.40' for shifted copies)
  index: number;
  config: SynthConfig;
  fps: number;
  sampleRate: number;
  width: number;
  height: number;
  duration: number;
  frames: number; // T
  video: Uint8Array; // [T, H, W, 3] RGB; frame i shows time i / fps
  audio: Float32Array; // [N] mono in [-1, 1]; sample n is time n / sampleRate
  /** Seconds the audio is delayed against the video (positive = audio late, heard after it is seen). */
  offset: number;
  events: SynthEvent[]; // sounding impacts seen in [0, duration), sorted
  audioEvents: SynthEvent[]; // impacts heard in [0, duration): time = seen time + offset
  classes: number[]; // sounding classes present, sorted unique
  caption: string; // e.g. 'a red circle bounces 4 times and a blue square bounces twice'
  /** Only with config.timbre 'scene': class k sounds like class voices[k] in this scene (a permutation). */
  voices?: number[];
}

export interface ClipOptions {
  offset?: number;
  /** Skip rendering frames (audio-only training); video is then empty. */
  video?: boolean;
  audio?: boolean;
}

/** Builds clip `index` of the dataset given by `config` (partial configs get defaults). */
export function generateClip(
  config: Partial<SynthConfig> | SynthConfig,
  index: number,
  opts: ClipOptions = {},
): SynthClip {
  const cfg = synthConfig(config);
  const offset = opts.offset ?? 0;
  if (Math.abs(offset) > cfg.margin + 1e-9) {
    throw new ConfigError(
      `audio offset ${offset} s exceeds the simulated margin of ${cfg.margin} s; raise config.margin`,
      { field: 'offset', got: offset, expected: `|offset| <= ${cfg.margin}` },
    );
  }
  const classes = synthClasses(cfg.classes);
  const key = sceneKey(cfg, index);
  const scene = simulateScene(cfg, new Rng(key));
  const voices = cfg.timbre === 'scene' ? sceneVoices(key, cfg.classes) : undefined;
  const video = opts.video === false ? { frames: 0, data: new Uint8Array(0) } : renderVideo(scene, cfg, classes);
  const audio =
    opts.audio === false
      ? new Float32Array(0)
      : renderAudio(scene, cfg, voices ? voiced(classes, voices) : classes, key, offset);
  const seen = toEvents(scene, classes, 0, cfg.duration);
  return {
    id: clipId(index, offset),
    index,
    config: cfg,
    fps: cfg.fps,
    sampleRate: cfg.sampleRate,
    width: cfg.size,
    height: cfg.size,
    duration: cfg.duration,
    frames: video.frames,
    video: video.data,
    audio,
    offset,
    events: seen,
    audioEvents: toEvents(scene, classes, offset, cfg.duration),
    classes: [...new Set(seen.map((e) => e.cls))].sort((a, b) => a - b),
    caption: caption(scene, classes, cfg.duration),
    ...(voices ? { voices } : {}),
  };
}

/** The scene's class-to-sound permutation for timbre 'scene' (from its own Rng, so the motion is untouched). */
export function sceneVoices(key: string, count: number): number[] {
  const rng = new Rng(`${key}/voices`);
  const v = Array.from({ length: count }, (_, k) => k);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

/** The class table with class k's sound (pitch, partials, decay, family) taken from class voices[k]. */
function voiced(classes: SynthClass[], voices: number[]): SynthClass[] {
  return classes.map((c, k) => {
    const v = classes[voices[k]];
    return { ...c, f0: v.f0, ratios: v.ratios, decay: v.decay, family: v.family };
  });
}

/** The same clip with its audio shifted by `offset` seconds (positive = audio late). */
export function shiftedClip(clip: SynthClip, offset: number): SynthClip {
  return generateClip(clip.config, clip.index, { offset, video: clip.video.length > 0 });
}

export function clipId(index: number, offset = 0): string {
  const base = `clip${String(index).padStart(6, '0')}`;
  return offset === 0 ? base : `${base}_s${offset > 0 ? '+' : '-'}${Math.abs(offset).toFixed(2)}`;
}

/** The key every random draw of clip `index` derives from (simulateScene(cfg, new Rng(sceneKey(cfg, i))) is clip i's scene). */
export function sceneKey(cfg: SynthConfig, index: number): string {
  // Everything that shapes the scene; the rendering-only fields (fps, sampleRate, flash, noise) are left
  // out so the same scene can be rendered at other rates.
  // Fields added later (speed) join the key only when set, so existing configs keep their scenes.
  const speed = cfg.speed ? `/speed${cfg.speed.join('-')}` : '';
  return `avsynth/v1/${cfg.seed}/${index}/${cfg.duration}/${cfg.size}/${cfg.classes}/${cfg.sounding.join('-')}/${cfg.distractors.join('-')}/${cfg.margin}${speed}`;
}

function toEvents(scene: Scene, classes: SynthClass[], offset: number, duration: number): SynthEvent[] {
  return scene.events
    .map((e) => ({
      time: e.time + offset,
      cls: e.cls,
      label: classes[e.cls].name,
      object: e.object,
      strength: e.strength,
    }))
    .filter((e) => e.time >= 0 && e.time < duration);
}

const TIMES = ['never', 'once', 'twice'];

function caption(scene: Scene, classes: SynthClass[], duration: number): string {
  const parts = scene.objects
    .filter((o) => o.sounding)
    .map((o) => {
      const n = scene.events.filter((e) => e.object === o.id && e.time >= 0 && e.time < duration).length;
      return `a ${classes[o.cls].name.replace('-', ' ')} bounces ${TIMES[n] ?? `${n} times`}`;
    });
  return parts.join(' and ');
}

/** The clip as timeline Streams: video [T, H*W*3] in [0, 1] at fps, audio [N, 1] at the sample rate, both from 0 s. */
export function clipStreams(clip: SynthClip): { video: Stream; audio: Stream } {
  const video = new Float32Array(clip.video.length);
  for (let i = 0; i < video.length; i++) video[i] = clip.video[i] / 255;
  return {
    video: makeStream(video, clip.width * clip.height * 3, clip.fps, 0),
    audio: makeStream(clip.audio, 1, clip.sampleRate, 0),
  };
}

/**
 * Offsets of a sync-classification grid, e.g. syncGrid(2, 0.2) = [-2, -1.8, ..., 2] (21 classes, the
 * Synchformer / DeSync grid). Values are rounded to the step so they print and compare cleanly.
 */
export function syncGrid(maxOffset = 2, step = 0.2): number[] {
  const n = Math.round(maxOffset / step);
  return Array.from({ length: 2 * n + 1 }, (_, i) => Math.round((i - n) * step * 1e6) / 1e6);
}

/** A sync-training example: clip `index` with its audio moved by grid[label] seconds (label = class index). */
export function syncExample(
  config: Partial<SynthConfig> | SynthConfig,
  index: number,
  label: number,
  grid = syncGrid(),
): SynthClip & { label: number } {
  if (!Number.isInteger(label) || label < 0 || label >= grid.length) {
    throw new ConfigError(`sync label ${label} is outside the grid of ${grid.length} offsets`, {
      field: 'label',
      got: label,
      expected: `0..${grid.length - 1}`,
    });
  }
  return { ...generateClip(config, index, { offset: grid[label] }), label };
}
