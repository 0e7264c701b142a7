import { Rng } from '../../util/rng.js';
import type { SynthConfig } from './config.js';

/**
 * AV-Synth scene simulation in continuous time. Objects move in straight lines inside a square
 * frame and bounce off the walls; bounce times are solved exactly (not stepped), so the ground-truth
 * impact times are exact. At each bounce the speed and heading are perturbed at random, which makes
 * the impact pattern non-periodic (no shift on the +-2 s sync grid lines it up with itself).
 *
 * The simulation spans [-margin, duration + margin] so that copies with the audio shifted by up to
 * `margin` seconds still have real impacts at both ends (no silent padding to give the shift away).
 */
export type Wall = 'left' | 'right' | 'top' | 'bottom' | 'corner';

/** Straight-line motion from (x, y) at time t0 until t1. */
interface Segment {
  t0: number;
  t1: number;
  x: number;
  y: number;
  vx: number;
  vy: number;
}

export interface SceneObject {
  id: number;
  cls: number; // class index (for distractors, the shape's class)
  sounding: boolean; // false: a distractor that moves and bounces silently
  radius: number; // px
  segments: Segment[];
}

export interface SceneEvent {
  time: number; // seconds on the video timeline
  object: number;
  cls: number;
  wall: Wall;
  strength: number; // 0..1, normal speed at impact relative to the maximum speed
  x: number; // impact position, px
  y: number;
}

export interface Scene {
  objects: SceneObject[];
  events: SceneEvent[]; // sounding impacts over the whole simulated span, sorted by time
  background: [number, number, number];
  t0: number;
  t1: number;
}

export function simulateScene(cfg: SynthConfig, rng: Rng): Scene {
  const t0 = -cfg.margin;
  const t1 = cfg.duration + cfg.margin;
  const scale = cfg.size / 112;
  const nSound = cfg.sounding[0] + rng.int(cfg.sounding[1] - cfg.sounding[0] + 1);
  const nDistract = cfg.distractors[0] + rng.int(cfg.distractors[1] - cfg.distractors[0] + 1);
  const objects: SceneObject[] = [];
  const events: SceneEvent[] = [];
  for (let i = 0; i < nSound + nDistract; i++) {
    const sounding = i < nSound;
    const obj: SceneObject = {
      id: i,
      cls: rng.int(cfg.classes),
      sounding,
      radius: (sounding ? rng.range(8, 12) : rng.range(6, 10)) * scale,
      segments: [],
    };
    const hits = moveObject(obj, cfg, rng.fork(`object${i}`), t0, t1, scale);
    if (sounding) events.push(...hits);
    objects.push(obj);
  }
  events.sort((a, b) => a.time - b.time || a.object - b.object);
  const background: [number, number, number] = [rng.int(40), rng.int(40), 20 + rng.int(40)];
  return { objects, events, background, t0, t1 };
}

const DEFAULT_MIN_SPEED = 45; // px/s at 112 px (config.speed overrides)
const DEFAULT_MAX_SPEED = 110;

/** Fills obj.segments over [t0, t1] and returns its wall impacts. */
function moveObject(obj: SceneObject, cfg: SynthConfig, rng: Rng, t0: number, t1: number, scale: number): SceneEvent[] {
  const lo = obj.radius;
  const hi = cfg.size - obj.radius;
  const [minSpeed, maxSpeed] = cfg.speed ?? [DEFAULT_MIN_SPEED, DEFAULT_MAX_SPEED];
  let x = rng.range(lo, hi);
  let y = rng.range(lo, hi);
  let speed = rng.range(minSpeed, maxSpeed) * scale;
  let [vx, vy] = heading(rng.range(0, 2 * Math.PI), speed);
  const hits: SceneEvent[] = [];
  let t = t0;
  while (t < t1) {
    const tx = vx > 0 ? (hi - x) / vx : vx < 0 ? (lo - x) / vx : Infinity;
    const ty = vy > 0 ? (hi - y) / vy : vy < 0 ? (lo - y) / vy : Infinity;
    const dt = Math.max(0, Math.min(tx, ty));
    const tEnd = Math.min(t + dt, t1);
    obj.segments.push({ t0: t, t1: tEnd, x, y, vx, vy });
    if (t + dt >= t1) break;
    x += vx * dt;
    y += vy * dt;
    t += dt;
    const hitX = Math.abs(tx - dt) < 1e-9;
    const hitY = Math.abs(ty - dt) < 1e-9;
    const normal = hitX && hitY ? Math.hypot(vx, vy) : hitX ? Math.abs(vx) : Math.abs(vy);
    const wall: Wall = hitX && hitY ? 'corner' : hitX ? (vx > 0 ? 'right' : 'left') : vy > 0 ? 'bottom' : 'top';
    hits.push({
      time: t,
      object: obj.id,
      cls: obj.cls,
      wall,
      strength: Math.min(1, normal / (maxSpeed * scale)),
      x,
      y,
    });
    // Reflect, then perturb speed and heading; keep the reflected component pointing away from the wall.
    if (hitX) vx = -vx;
    if (hitY) vy = -vy;
    speed = clamp(speed * rng.range(0.75, 1.3), minSpeed * scale, maxSpeed * scale);
    [vx, vy] = heading(Math.atan2(vy, vx) + rng.range(-0.35, 0.35), speed);
    if (hitX && Math.sign(vx) !== (x <= lo + 1e-6 ? 1 : -1)) vx = -vx;
    if (hitY && Math.sign(vy) !== (y <= lo + 1e-6 ? 1 : -1)) vy = -vy;
  }
  return hits;
}

/** Velocity for a heading, kept at least 25 degrees away from either axis so no crossing takes forever. */
function heading(angle: number, speed: number): [number, number] {
  const min = (25 * Math.PI) / 180;
  const quadrant = Math.floor(angle / (Math.PI / 2));
  const within = angle - quadrant * (Math.PI / 2);
  const a = quadrant * (Math.PI / 2) + clamp(within, min, Math.PI / 2 - min);
  return [speed * Math.cos(a), speed * Math.sin(a)];
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Position of an object at time t (t inside the simulated span). */
export function positionAt(obj: SceneObject, t: number): [number, number] {
  const segs = obj.segments;
  let lo = 0;
  let hi = segs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segs[mid].t0 <= t) lo = mid;
    else hi = mid - 1;
  }
  const s = segs[lo];
  const dt = t - s.t0;
  return [s.x + s.vx * dt, s.y + s.vy * dt];
}
