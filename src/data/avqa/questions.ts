/**
 * The candidates a scene supports, per family. Every candidate's answer is computed from the scene's
 * exact ground truth, and a candidate exists only where that answer is unambiguous under
 * AVQA_TOLERANCES (an impact near another one, near a clip edge, or an object whose name is shared is
 * never asked about).
 */
import type { AvqaFamily } from './config.js';
import { AvqaObject, AvqaScene, SOUND_WORDS, SoundWord } from './scene.js';
import { AVQA_TOLERANCES, fillTemplate, formatSeconds, type AvqaAudio } from './templates.js';

const T = AVQA_TOLERANCES;

export interface AvqaCandidate {
  template: string;
  question: string;
  answer: string;
  /** What the balancer equalizes: the answer, or for 'option' templates the answer's position among the options. */
  key: string;
  /** Seconds (video timeline) of the event the answer is about. */
  time?: number;
  choices?: string[];
  audio?: AvqaAudio;
}

export interface CandidateContext {
  /** Uniform in [0, 1), drawn per scene and family. */
  uniform: () => number;
  /** Index of another scene of the same split whose audio (over this scene's length) makes a foil; null if none fits. */
  foil: () => number | null;
}

function cand(
  template: string,
  params: Record<string, string>,
  answer: string,
  extra: Partial<AvqaCandidate> = {},
): AvqaCandidate {
  return { template, question: fillTemplate(template, params), answer, key: answer, ...extra };
}

const inEdge = (t: number, d: number): boolean => (t > -T.edge && t < T.edge) || (t > d - T.edge && t < d + T.edge);
const clear = (t: number, d: number): boolean => t >= T.edge && t <= d - T.edge;

/** Objects whose name ('red circle') no other object in the scene shares. */
function named(s: AvqaScene): AvqaObject[] {
  const n = new Map<string, number>();
  for (const o of s.objects) n.set(o.name, (n.get(o.name) ?? 0) + 1);
  return s.objects.filter((o) => n.get(o.name) === 1);
}

/** First time in the clip, when it is clear of the edges (null when the first one is near an edge or there is none). */
function firstClear(times: number[], d: number): number | null {
  const t = times.find((x) => x > -T.edge && x < d);
  return t !== undefined && clear(t, d) ? t : null;
}

/**
 * Number of times in [0, d) (sorted), or null when one lies near an edge (counted or not is unclear) or two lie
 * closer than countGap (one sound or two?).
 */
function countClear(times: number[], d: number): number | null {
  if (times.some((t) => inEdge(t, d))) return null;
  const counted = times.filter((t) => t >= 0 && t < d);
  if (counted.some((t, k) => k > 0 && t - counted[k - 1] < T.countGap)) return null;
  return counted.length;
}

/** Onsets per sound word of the sounding objects, sorted. */
function onsetsBySound(s: AvqaScene): Map<SoundWord, number[]> {
  const m = new Map<SoundWord, number[]>();
  for (const o of s.objects)
    if (o.sound)
      m.set(
        o.sound,
        [...(m.get(o.sound) ?? []), ...o.bounces].sort((a, b) => a - b),
      );
  return m;
}

/** Sound words heard in the clip, or null when a sound is only near an edge (heard or not is unclear). */
function heardSounds(s: AvqaScene): Set<SoundWord> | null {
  const d = s.duration;
  const heard = new Set<SoundWord>();
  for (const [w, times] of onsetsBySound(s)) {
    const possible = times.some((t) => t > -T.tail && t < d);
    const sure = times.some((t) => clear(t, d));
    if (possible !== sure) return null;
    if (sure) heard.add(w);
  }
  return heard;
}

const soundingOnsets = (s: AvqaScene): number =>
  s.impacts.filter((i) => i.sounding && clear(i.time, s.duration)).length;

function audioFamily(s: AvqaScene): AvqaCandidate[] {
  const heard = heardSounds(s);
  if (!heard || heard.size === 0) return [];
  const out: AvqaCandidate[] = [];
  if (heard.size === 1) out.push(cand('audio.kind', {}, [...heard][0]));
  for (const w of SOUND_WORDS) out.push(cand('audio.heard', { sound: w }, heard.has(w) ? 'yes' : 'no'));
  out.push(cand('audio.kinds', {}, String(heard.size)));
  return out;
}

function visualFamily(s: AvqaScene): AvqaCandidate[] {
  const out: AvqaCandidate[] = [];
  const by = (f: (o: AvqaObject) => string) => {
    const m = new Map<string, AvqaObject[]>();
    for (const o of s.objects) m.set(f(o), [...(m.get(f(o)) ?? []), o]);
    return m;
  };
  for (const [shape, objs] of by((o) => o.shape))
    if (objs.length === 1) out.push(cand('visual.color', { shape }, objs[0].color));
  for (const [color, objs] of by((o) => o.color))
    if (objs.length === 1) out.push(cand('visual.shape', { color }, objs[0].shape));
  out.push(cand('visual.count', {}, String(s.objects.length)));
  out.push(cand('visual.gray', {}, String(s.objects.filter((o) => !o.sounding).length)));
  return out;
}

function sourceFamily(s: AvqaScene): AvqaCandidate[] {
  const d = s.duration;
  const out: AvqaCandidate[] = [];
  const ok = new Set(named(s).map((o) => o.id));
  for (const e of s.impacts) {
    if (!e.sounding || !ok.has(e.object) || !clear(e.time, d)) continue;
    const tq = Math.round(e.time / T.timeStep) * T.timeStep;
    if (tq < T.timeStep || tq > d - T.timeStep) continue;
    if (s.impacts.some((o) => o !== e && Math.abs(o.time - e.time) < T.isolation)) continue;
    out.push(cand('source.at', { time: formatSeconds(tq) }, s.objects[e.object].name, { time: e.time }));
  }
  for (const o of s.objects) {
    if (o.sound && ok.has(o.id) && o.bounces.some((t) => clear(t, d)))
      out.push(cand('source.sound', { object: o.name }, o.sound));
  }
  for (const w of SOUND_WORDS) {
    const objs = s.objects.filter((o) => o.sound === w);
    if (objs.length === 1 && ok.has(objs[0].id) && objs[0].bounces.some((t) => clear(t, d)))
      out.push(cand('source.which', { sound: w }, objs[0].name));
  }
  return out;
}

function orderFamily(s: AvqaScene): AvqaCandidate[] {
  const d = s.duration;
  const out: AvqaCandidate[] = [];
  const objs = named(s);
  for (const a of objs) {
    for (const b of objs) {
      if (a === b) continue;
      const fa = firstClear(a.bounces, d),
        fb = firstClear(b.bounces, d);
      if (fa === null || fb === null || Math.abs(fa - fb) < T.orderGap) continue;
      const answer = fa < fb ? a.name : b.name;
      out.push({
        ...cand('order.wall', { a: a.name, b: b.name }, answer, { time: Math.min(fa, fb), choices: [a.name, b.name] }),
        key: fa < fb ? 'first' : 'second',
      });
    }
  }
  const heard = heardSounds(s);
  if (heard) {
    const first = new Map<SoundWord, number | null>();
    for (const [w, times] of onsetsBySound(s)) if (heard.has(w)) first.set(w, firstClear(times, d));
    for (const [w1, f1] of first) {
      for (const [w2, f2] of first) {
        if (w1 === w2 || f1 === null || f2 === null || Math.abs(f1 - f2) < T.orderGap) continue;
        out.push(cand('order.sounds', { s1: w1, s2: w2 }, f1 < f2 ? 'yes' : 'no', { time: f1 }));
      }
    }
  }
  const sounds = s.impacts.filter((i) => i.sounding && i.time > -T.edge && i.time < d);
  const e = sounds[0];
  if (
    e &&
    clear(e.time, d) &&
    named(s).some((o) => o.id === e.object) &&
    (sounds.length < 2 || sounds[1].time >= e.time + T.orderGap) &&
    !s.impacts.some((o) => o !== e && Math.abs(o.time - e.time) < T.isolation)
  ) {
    out.push(cand('order.first', {}, s.objects[e.object].name, { time: e.time }));
  }
  return out;
}

function countFamily(s: AvqaScene): AvqaCandidate[] {
  const d = s.duration;
  const out: AvqaCandidate[] = [];
  const fits = (n: number | null): n is number => n !== null && n <= T.maxCount;
  for (const o of named(s)) {
    const n = countClear(o.bounces, d);
    if (!fits(n)) continue;
    if (o.sounding) out.push(cand('count.sounds', { object: o.name }, String(n)));
    out.push(cand('count.wall', { object: o.name }, String(n)));
  }
  const bySound = onsetsBySound(s);
  for (const w of SOUND_WORDS) {
    const n = countClear(bySound.get(w) ?? [], d);
    if (fits(n)) out.push(cand('count.heard', { sound: w }, String(n)));
  }
  return out;
}

function causalFamily(s: AvqaScene): AvqaCandidate[] {
  const d = s.duration;
  const out: AvqaCandidate[] = [];
  const ok = new Set(named(s).map((o) => o.id));
  for (const x of named(s)) {
    const a = firstClear(x.bounces, d);
    if (a === null) continue;
    // which other object hit the wall next
    const others = s.impacts.filter((i) => i.object !== x.id);
    const n = others.find((i) => i.time > a);
    if (
      !others.some((i) => Math.abs(i.time - a) < T.nextGap) &&
      n &&
      n.time <= a + T.nextMax &&
      clear(n.time, d) &&
      ok.has(n.object)
    ) {
      const n2 = others.find((i) => i.time > n.time && i.object !== n.object);
      if (!n2 || n2.time >= n.time + T.nextGap) {
        out.push(cand('causal.next', { object: x.name }, s.objects[n.object].name, { time: n.time }));
      }
    }
    // what was heard next (the anchor's own impact sound excepted)
    const sounds = s.impacts.filter((i) => i.sounding && !(i.object === x.id && i.time === a));
    const m = sounds.find((i) => i.time > a);
    if (!sounds.some((i) => Math.abs(i.time - a) < T.nextGap) && m && m.time <= a + T.nextMax && clear(m.time, d)) {
      const word = s.objects[m.object].sound!;
      const m2 = sounds.find((i) => i.time > m.time && s.objects[i.object].sound !== word);
      if (!m2 || m2.time >= m.time + T.nextGap)
        out.push(cand('causal.heard', { object: x.name }, word, { time: m.time }));
    }
  }
  return out;
}

function matchingFamily(s: AvqaScene, ctx: CandidateContext): AvqaCandidate[] {
  if (soundingOnsets(s) < 2) return [];
  const out = [cand('matching.belong', {}, 'yes')];
  const j = ctx.foil();
  if (j !== null) out.push(cand('matching.belong', {}, 'no', { audio: { foil: j } }));
  return out;
}

function syncFamily(s: AvqaScene, ctx: CandidateContext): AvqaCandidate[] {
  if (soundingOnsets(s) < 2) return [];
  const offs = T.syncOffsets;
  const m = offs[Math.floor(ctx.uniform() * offs.length)];
  const sign = ctx.uniform() < 0.5 ? 1 : -1;
  const notLate = ctx.uniform() < 0.5 ? 0 : -m;
  return [
    cand('sync.late', {}, 'yes', { audio: { offset: m } }),
    cand('sync.late', {}, 'no', { audio: { offset: notLate } }),
    cand('sync.sync', {}, 'yes', { audio: { offset: 0 } }),
    cand('sync.sync', {}, 'no', { audio: { offset: sign * m } }),
    cand('sync.when', {}, 'early', { audio: { offset: -m } }),
    cand('sync.when', {}, 'late', { audio: { offset: m } }),
    cand('sync.when', {}, 'in sync', { audio: { offset: 0 } }),
  ];
}

/** Every unambiguous question of one family the scene supports. */
export function familyCandidates(family: AvqaFamily, s: AvqaScene, ctx: CandidateContext): AvqaCandidate[] {
  switch (family) {
    case 'audio':
      return audioFamily(s);
    case 'visual':
      return visualFamily(s);
    case 'source':
      return sourceFamily(s);
    case 'order':
      return orderFamily(s);
    case 'count':
      return countFamily(s);
    case 'causal':
      return causalFamily(s);
    case 'matching':
      return matchingFamily(s, ctx);
    case 'sync':
      return syncFamily(s, ctx);
  }
}
