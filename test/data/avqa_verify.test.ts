/**
 * An independent check of every answer: the scene is rebuilt from AV-Synth itself (generateClip's
 * ground truth and simulateScene's segments, with settings spelled out here rather than taken from the
 * AVQA code), the question's parameters are parsed back out of its text, and the answer is recomputed
 * from the definitions in docs/avqa.md. It also checks the stated guarantees (isolation, gaps) and
 * that it rejects deliberately wrong answers, so a generator bug cannot pass silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateAvqa, type AvqaQuestion } from '../../src/data/avqa/index.js';
import { generateClip, sceneKey, simulateScene, synthClasses, synthConfig } from '../../src/data/synth/index.js';
import { Rng } from '../../src/util/rng.js';
import { onsetNear } from './onset.js';

interface Obj {
  name: string;
  shape: string;
  color: string;
  sounding: boolean;
  sound: string | null;
  bounces: number[];
}
interface Truth {
  d: number;
  objects: Obj[];
  sounds: { time: number; object: number }[];
}

const WORD: Record<string, string> = { harmonic: 'piano', odd: 'clarinet', bell: 'bell', membrane: 'drum' };

function truthOf(index: number, duration: number): Truth {
  const cfg = synthConfig({
    seed: 0,
    duration,
    fps: 16,
    sampleRate: 16000,
    size: 64,
    classes: 48,
    sounding: [1, 3],
    distractors: [0, 2],
    speed: [22, 55],
    noise: 0.02,
    margin: 2.5,
    flash: 0.1,
    timbre: 'scene',
  });
  const clip = generateClip(cfg, index, { video: false, audio: false });
  const scene = simulateScene(cfg, new Rng(sceneKey(cfg, index)));
  const classes = synthClasses(48);
  const objects = scene.objects.map((o) => {
    const [color, shape] = classes[o.cls].name.split('-');
    const bounces: number[] = [];
    for (let k = 1; k < o.segments.length; k++) bounces.push(o.segments[k].t0);
    return {
      name: o.sounding ? `${color} ${shape}` : `gray ${shape}`,
      shape,
      color: o.sounding ? color : 'gray',
      sounding: o.sounding,
      sound: o.sounding ? WORD[classes[clip.voices![o.cls]].family] : null,
      bounces,
    };
  });
  // The segment-derived impacts of sounding objects are exactly the synth's own sounding events.
  const fromSegments = objects
    .flatMap((o, i) =>
      o.sounding ? o.bounces.filter((t) => t >= 0 && t < duration).map((time) => ({ time, object: i })) : [],
    )
    .sort((a, b) => a.time - b.time || a.object - b.object);
  assert.deepEqual(
    fromSegments.map((e) => [e.time, e.object]),
    clip.events.map((e) => [e.time, e.object]),
  );
  return { d: duration, objects, sounds: clip.events.map((e) => ({ time: e.time, object: e.object })) };
}

const inClip = (t: number, d: number) => t >= 0 && t < d;

/** The answer the definitions give, or a string starting with '!' naming a broken guarantee. */
function expected(q: AvqaQuestion, s: Truth): string {
  const { d, objects } = s;
  const one = <T>(xs: T[], what: string): T => {
    if (xs.length !== 1) throw new Error(`${q.id}: ${xs.length} ${what}`);
    return xs[0];
  };
  const byName = (n: string) =>
    one(
      objects.filter((o) => o.name === n),
      `objects named ${n}`,
    );
  const heard = [...new Set(s.sounds.map((e) => objects[e.object].sound!))];
  const m = (re: RegExp) => {
    const r = q.question.match(re);
    if (!r) throw new Error(`${q.id}: '${q.question}' does not match ${re}`);
    return r;
  };
  const first = (times: number[]) => times.filter((t) => inClip(t, d)).sort((a, b) => a - b)[0];
  // A count, or '!gap' when two of the counted times are under 0.05 s apart (heard as one).
  const counted = (times: number[]) => {
    const t = times.filter((x) => inClip(x, d)).sort((a, b) => a - b);
    return t.some((x, k) => k > 0 && x - t[k - 1] < 0.05) ? '!gap' : String(t.length);
  };
  switch (q.template) {
    case 'audio.kind':
      return one(heard, 'kinds of sound');
    case 'audio.heard':
      return heard.includes(m(/^is a (\w+) heard\?$/)[1]) ? 'yes' : 'no';
    case 'audio.kinds':
      return String(heard.length);
    case 'visual.color':
      return one(
        objects.filter((o) => o.shape === m(/^what color is the (\w+)\?$/)[1]),
        'objects of that shape',
      ).color;
    case 'visual.shape':
      return one(
        objects.filter((o) => o.color === m(/^what shape is the (\w+) object\?$/)[1]),
        'objects of that color',
      ).shape;
    case 'visual.count':
      return String(objects.length);
    case 'visual.gray':
      return String(objects.filter((o) => !o.sounding).length);
    case 'source.at': {
      const t = Number(m(/^which object made the sound at ([\d.]+) seconds\?$/)[1]);
      const near = s.sounds.filter((e) => Math.abs(e.time - t) <= 0.25 + 1e-9);
      const e = one(near, `sounds near ${t} s`);
      if (Math.abs(e.time - q.time!) > 1e-5) return '!time';
      const others = objects.flatMap((o, i) => o.bounces.filter((b) => !(i === e.object && b === e.time)));
      if (others.some((b) => Math.abs(b - t) < 0.5)) return '!another impact within 0.5 s of the asked time';
      return objects[e.object].name;
    }
    case 'source.sound':
      return byName(m(/^what does the (\w+ \w+) sound like\?$/)[1]).sound!;
    case 'source.which':
      return one(
        objects.filter((o) => o.sound === m(/^which object sounds like a (\w+)\?$/)[1]),
        'objects with that sound',
      ).name;
    case 'order.wall': {
      const [, a, b] = m(/^which hit the wall first, the (\w+ \w+) or the (\w+ \w+)\?$/);
      if (q.choices?.join('|') !== `${a}|${b}`) return '!choices';
      const fa = first(byName(a).bounces),
        fb = first(byName(b).bounces);
      if (Math.abs(fa - fb) < 0.5) return '!gap';
      return fa < fb ? a : b;
    }
    case 'order.sounds': {
      const [, w1, w2] = m(/^was the first (\w+) heard before the first (\w+)\?$/);
      const f = (w: string) => first(s.sounds.filter((e) => objects[e.object].sound === w).map((e) => e.time));
      if (Math.abs(f(w1) - f(w2)) < 0.5) return '!gap';
      return f(w1) < f(w2) ? 'yes' : 'no';
    }
    case 'order.first': {
      const [e, next] = s.sounds;
      if (next && next.time - e.time < 0.5) return '!gap';
      return objects[e.object].name;
    }
    case 'count.sounds':
      return counted(byName(m(/^how many times did the (\w+ \w+) make a sound\?$/)[1]).bounces);
    case 'count.wall':
      return counted(byName(m(/^how many times did the (\w+ \w+) hit the wall\?$/)[1]).bounces);
    case 'count.heard': {
      const w = m(/^how many times is a (\w+) heard\?$/)[1];
      return counted(s.sounds.filter((e) => objects[e.object].sound === w).map((e) => e.time));
    }
    case 'causal.next': {
      const x = byName(m(/^which other object hit the wall right after the (\w+ \w+) first hit the wall\?$/)[1]);
      const a = first(x.bounces);
      if (objects.some((o) => o !== x && o.bounces.some((b) => Math.abs(b - a) < 0.5)))
        return '!another impact within 0.5 s of the anchor';
      const after = objects
        .filter((o) => o !== x)
        .map((o) => ({ o, t: Math.min(...o.bounces.filter((b) => b > a)) }))
        .sort((p, r) => p.t - r.t);
      if (after[1] && after[1].t - after[0].t < 0.5) return '!runner-up too close';
      return after[0].o.name;
    }
    case 'causal.heard': {
      const x = byName(m(/^what was heard right after the (\w+ \w+) first hit the wall\?$/)[1]);
      const a = first(x.bounces);
      const next = s.sounds.filter((e) => e.time > a && !(objects[e.object] === x && e.time === a))[0];
      return objects[next.object].sound!;
    }
    case 'matching.belong':
      return q.audio?.foil === undefined ? 'yes' : 'no';
    case 'sync.late':
      return (q.audio?.offset ?? 0) > 0 ? 'yes' : 'no';
    case 'sync.sync':
      return (q.audio?.offset ?? 0) === 0 ? 'yes' : 'no';
    case 'sync.when': {
      const o = q.audio?.offset ?? 0;
      return o > 0 ? 'late' : o < 0 ? 'early' : 'in sync';
    }
    default:
      throw new Error(`unknown template ${q.template}`);
  }
}

function mismatches(questions: AvqaQuestion[]): string[] {
  const cache = new Map<number, Truth>();
  const bad: string[] = [];
  for (const q of questions) {
    const s = cache.get(q.index) ?? truthOf(q.index, q.duration);
    cache.set(q.index, s);
    let want: string;
    try {
      want = expected(q, s);
    } catch (err) {
      want = `!${(err as Error).message}`;
    }
    if (want !== q.answer) bad.push(`${q.id} '${q.question}' -> '${q.answer}', ground truth says '${want}'`);
  }
  return bad;
}

const data = generateAvqa({}, 400);

test('every answer of 400 scenes agrees with an independent recomputation from AV-Synth ground truth', () => {
  const templates = new Set(data.questions.map((q) => q.template));
  assert.equal(templates.size, 22, `templates covered: ${[...templates].join(', ')}`);
  const bad = mismatches(data.questions);
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} of ${data.questions.length} answers disagree`);
});

test('the check catches wrong answers: swapped answers, an off-by-one count, a silent object given a sound', () => {
  const qs = data.questions;
  // swap answers between two questions of the same template whose answers differ
  const swapped: AvqaQuestion[] = [];
  for (const t of new Set(qs.map((q) => q.template))) {
    const of = qs.filter((q) => q.template === t);
    const a = of[0];
    const b = of.find((q) => q.answer !== a.answer);
    if (b && !a.choices) swapped.push({ ...a, answer: b.answer });
  }
  assert.ok(swapped.length >= 18);
  assert.equal(mismatches(swapped).length, swapped.length);
  const count = qs.find((q) => q.template === 'count.sounds')!;
  assert.equal(mismatches([{ ...count, answer: String(Number(count.answer) + 1) }]).length, 1);
  const order = qs.find((q) => q.template === 'order.wall')!;
  assert.equal(mismatches([{ ...order, answer: order.choices!.find((c) => c !== order.answer)! }]).length, 1);
  const heard = qs.find((q) => q.template === 'causal.heard')!;
  assert.equal(mismatches([{ ...heard, answer: heard.answer === 'bell' ? 'drum' : 'bell' }]).length, 1);
});

test('the sound a source question points at is in the rendered audio, at the answer time', () => {
  const qs = data.questions.filter((q) => q.template === 'source.at').slice(0, 12);
  assert.ok(qs.length >= 10);
  for (const q of qs) {
    const cfg = synthConfig({
      seed: 0,
      duration: q.duration,
      size: 64,
      classes: 48,
      sounding: [1, 3],
      distractors: [0, 2],
      speed: [22, 55],
      timbre: 'scene',
    });
    const audio = generateClip(cfg, q.index, { video: false }).audio;
    const found = onsetNear(audio, 16000, q.time!);
    assert.ok(found !== null && Math.abs(found - q.time!) <= 0.002, `${q.id}: onset ${found} vs ${q.time}`);
  }
});
