/**
 * Rendering an AV-Synth scene: RGB frames (frame i shows the scene at t = i / fps, its timestamp)
 * and mono audio (sample n at t = n / sampleRate). Each sounding impact starts a struck-resonator
 * sound with its class's partials and decay, plus a 4 ms broadband click that makes the onset sharp.
 */

import { framesFor } from '../../timeline/timeline.js';
import { Rng } from '../../util/rng.js';
import { Shape, SynthClass } from './classes.js';
import type { SynthConfig } from './config.js';
import { Scene, SceneObject, positionAt } from './scene.js';

/** [T, H, W, 3] RGB frames. */
export function renderVideo(
  scene: Scene,
  cfg: SynthConfig,
  classes: SynthClass[],
): { frames: number; data: Uint8Array } {
  const frames = framesFor(cfg.duration, cfg.fps);
  const { size } = cfg;
  const data = new Uint8Array(frames * size * size * 3);
  const impacts = scene.objects.map((o) => scene.events.filter((e) => e.object === o.id).map((e) => e.time));
  // Distractors first, so sounding objects are drawn on top.
  const order = [...scene.objects].sort((a, b) => Number(a.sounding) - Number(b.sounding));
  for (let i = 0; i < frames; i++) {
    const t = i / cfg.fps;
    const frame = data.subarray(i * size * size * 3, (i + 1) * size * size * 3);
    fillBackground(frame, size, scene.background);
    for (const obj of order) {
      const cls = classes[obj.cls];
      const flashing = obj.sounding && cfg.flash > 0 && impacts[obj.id].some((te) => t >= te && t - te < cfg.flash);
      const color = obj.sounding ? cls.color : gray(cls.color);
      drawObject(
        frame,
        size,
        obj,
        t,
        cls.shape,
        flashing ? mix(color, [255, 255, 255], 0.55) : color,
        flashing ? 1.2 : 1,
      );
    }
  }
  return { frames, data };
}

function fillBackground(frame: Uint8Array, size: number, bg: [number, number, number]): void {
  for (let y = 0; y < size; y++) {
    const g = 0.7 + (0.6 * y) / size;
    const r = Math.round(bg[0] * g),
      gg = Math.round(bg[1] * g),
      b = Math.round(bg[2] * g);
    for (let x = 0; x < size; x++) {
      const p = (y * size + x) * 3;
      frame[p] = r;
      frame[p + 1] = gg;
      frame[p + 2] = b;
    }
  }
}

function gray(c: [number, number, number]): [number, number, number] {
  const l = Math.round(0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]);
  const v = Math.round(70 + 0.4 * l);
  return [v, v, v];
}

function mix(a: [number, number, number], b: [number, number, number], w: number): [number, number, number] {
  return [0, 1, 2].map((k) => Math.round(a[k] * (1 - w) + b[k] * w)) as [number, number, number];
}

function drawObject(
  frame: Uint8Array,
  size: number,
  obj: SceneObject,
  t: number,
  shape: Shape,
  color: [number, number, number],
  scale: number,
): void {
  const [cx, cy] = positionAt(obj, t);
  const r = obj.radius * scale;
  const x0 = Math.max(0, Math.floor(cx - r)),
    x1 = Math.min(size - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r)),
    y1 = Math.min(size - 1, Math.ceil(cy + r));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (!insideShape(shape, x + 0.5 - cx, y + 0.5 - cy, r)) continue;
      const p = (y * size + x) * 3;
      frame[p] = color[0];
      frame[p + 1] = color[1];
      frame[p + 2] = color[2];
    }
  }
}

/** Whether offset (dx, dy) from the center is inside a shape of radius r. */
export function insideShape(shape: Shape, dx: number, dy: number, r: number): boolean {
  const ax = Math.abs(dx),
    ay = Math.abs(dy);
  switch (shape) {
    case 'circle':
      return dx * dx + dy * dy <= r * r;
    case 'square':
      return ax <= 0.85 * r && ay <= 0.85 * r;
    case 'triangle':
      return dy >= -r && dy <= 0.7 * r && ax <= (dy + r) / 1.7;
    case 'diamond':
      return ax + ay <= r;
    case 'ring': {
      const d2 = dx * dx + dy * dy;
      return d2 <= r * r && d2 >= 0.3 * r * r;
    }
    case 'cross':
      return (ax <= 0.33 * r && ay <= r) || (ay <= 0.33 * r && ax <= r);
  }
}

const CLICK_SECONDS = 0.004;
const ATTACK_SECONDS = 0.001;

/**
 * Mono audio for [0, duration) with every sounding impact heard `offset` seconds after it is seen
 * (offset > 0: audio late). Per-impact variation comes from an Rng keyed by the impact's index, so
 * shifted copies contain exactly the same sounds, only moved in time.
 */
export function renderAudio(
  scene: Scene,
  cfg: SynthConfig,
  classes: SynthClass[],
  sceneKey: string,
  offset = 0,
): Float32Array {
  const sr = cfg.sampleRate;
  const n = Math.round(cfg.duration * sr);
  const out = new Float32Array(n);
  const nyquist = 0.45 * sr;
  scene.events.forEach((e, k) => {
    const cls = classes[e.cls];
    const rng = new Rng(`${sceneKey}/impact${k}`);
    const onset = e.time + offset;
    const tail = 7 * cls.decay;
    if (onset >= cfg.duration || onset + tail < 0) return;
    const amp = (0.2 + 0.3 * e.strength) * rng.range(0.85, 1.15);
    const detune = 1 + rng.range(-0.01, 0.01);
    const partials = cls.ratios
      .map((ratio, h) => ({
        w: 2 * Math.PI * cls.f0 * ratio * detune,
        a: amp / Math.pow(h + 1, 0.8),
        d: cls.decay / (1 + 0.4 * h),
      }))
      .filter((p) => p.w / (2 * Math.PI) < nyquist);
    const click = Array.from({ length: Math.ceil(CLICK_SECONDS * sr) + 1 }, () => rng.normal() * 0.5 * amp);
    const s0 = Math.max(0, Math.ceil(onset * sr - 1e-9));
    const s1 = Math.min(n, Math.ceil((onset + tail) * sr));
    // Each partial is a damped phasor z = a e^{(i w - 1/d) tau}, advanced by one complex multiply per sample.
    const tau0 = s0 / sr - onset; // >= 0: time since the impact at the first sample
    const re = partials.map((p) => p.a * Math.exp(-tau0 / p.d) * Math.cos(p.w * tau0));
    const im = partials.map((p) => p.a * Math.exp(-tau0 / p.d) * Math.sin(p.w * tau0));
    const stepRe = partials.map((p) => Math.exp(-1 / (p.d * sr)) * Math.cos(p.w / sr));
    const stepIm = partials.map((p) => Math.exp(-1 / (p.d * sr)) * Math.sin(p.w / sr));
    for (let s = s0; s < s1; s++) {
      const tau = s / sr - onset;
      let v = 0;
      for (let h = 0; h < partials.length; h++) {
        v += im[h];
        const r = re[h] * stepRe[h] - im[h] * stepIm[h];
        im[h] = re[h] * stepIm[h] + im[h] * stepRe[h];
        re[h] = r;
      }
      v *= Math.min(1, tau / ATTACK_SECONDS);
      if (tau < CLICK_SECONDS) v += click[Math.floor(tau * sr)] * (1 - tau / CLICK_SECONDS);
      out[s] += v;
    }
  });
  addNoise(out, cfg, new Rng(`${sceneKey}/noise`));
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(out[i]));
  if (peak > 0.95) for (let i = 0; i < n; i++) out[i] *= 0.95 / peak;
  return out;
}

/** Background noise: white plus low-passed (rumble), at a level drawn below cfg.noise. */
function addNoise(out: Float32Array, cfg: SynthConfig, rng: Rng): void {
  const level = cfg.noise * rng.range(0.2, 1);
  if (level === 0) return;
  let lp = 0;
  for (let i = 0; i < out.length; i++) {
    const w = rng.normal();
    lp = 0.95 * lp + 0.05 * w;
    out[i] += level * (0.6 * w + 2.5 * lp);
  }
}
