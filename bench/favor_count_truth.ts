/**
 * What the object count paths could know at best: for each "how many times did the {object} make a sound" and "...
 * hit the wall" question of a split, what kind of object it asks about (its own sound, a sound another object also
 * makes, silent) and whether each of countObjects' two rules (object_answers.ts' objectCounts) would be right with
 * perfect heads: the sound's whole count over the clip (a sounding object), the frames (2 Hz) holding one of its hits
 * (a silent one). Read off the generator's scenes (no model): the ceiling the heads' errors come on top of. And what a
 * perfect tracker of the object's centre in the 2 Hz frames would count (session 22): the turns of its x and of its y
 * between frames (each wall hit turns one, a corner both; speeds keep a crossing far longer than a frame), which
 * misses the hits after the last frame's time and those whose turn falls in the first or last frame gap; and the
 * sound's impacts that fall in the frames holding one of the object's hits (a shared sound's impacts told apart by
 * which object hits in their frame), and the impacts of the object's own voice (a counter per voice, not per word).
 *
 *   node dist/bench/favor_count_truth.js [--scenes 1000] [--duration 10] [--split test] [--json]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type AvqaConfig,
  type AvqaQuestion,
  type AvqaScene,
  avqaConfig,
  avqaScene,
  generateAvqa,
  sceneSynthConfig,
} from '../src/data/avqa/index.js';
import { sceneKey } from '../src/data/synth/clip.js';
import { positionAt, simulateScene } from '../src/data/synth/scene.js';
import { InputError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';

export interface CountTruthRow {
  template: string;
  /** 'own sound', 'shared sound' (another object makes it too) or 'silent'. */
  kind: string;
  questions: number;
  /** The sound's impacts over the clip, all objects making it (a silent object has no sound: never right). */
  soundCountRight: number;
  /** The 2 Hz frames holding one of the object's hits. */
  hitFramesRight: number;
  /** The turns of the object's centre, x and y, between the 2 Hz frames (frameTurns). */
  turnsRight: number;
  /** The sound's impacts (all objects making it) in the 2 Hz frames holding one of the object's hits (a sounding object). */
  impactsInHitFramesRight: number;
  /**
   * The impacts of the object's voice (all objects with that voice: the synth class whose sound it makes, one of the
   * several a sound word covers), over the clip: a counter per voice instead of per word (a sounding object).
   */
  voiceCountRight: number;
}

/** What an object count question asks about: an object with its own sound, one sharing its sound, a silent one. */
export const OBJECT_KINDS = ['own sound', 'shared sound', 'silent'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** The object a count.sounds or count.wall question of `scene` names, and its kind. */
export function countedObject(
  scene: AvqaScene,
  q: AvqaQuestion,
): { object: AvqaScene['objects'][number]; kind: ObjectKind } {
  const object = scene.objects.find((x) => q.question.includes(`the ${x.name} `));
  if (!object) throw new Error(`${q.template}: no object of scene ${q.index} is named in "${q.question}"`);
  const shared = scene.objects.some((x) => x !== object && object.sound !== null && x.sound === object.sound);
  return { object, kind: !object.sounding ? 'silent' : shared ? 'shared sound' : 'own sound' };
}

/** The turns of object `id`'s centre in the 2 Hz frames of scene `index`: the sign changes of x and of y between frames. */
export function frameTurns(cfg: AvqaConfig, index: number, id: number): number {
  const synth = sceneSynthConfig(cfg, index);
  const object = simulateScene(synth, new Rng(sceneKey(synth, index))).objects[id];
  const frames = Math.round(2 * synth.duration);
  const at = Array.from({ length: frames }, (_, t) => positionAt(object, t / 2)); // frame t shows the scene at t / 2 s
  let turns = 0;
  for (const axis of [0, 1]) {
    let heading = 0;
    for (let t = 1; t < frames; t++) {
      const step = Math.sign(at[t][axis] - at[t - 1][axis]);
      if (heading !== 0 && step !== 0 && step !== heading) turns++;
      if (step !== 0) heading = step;
    }
  }
  return turns;
}

const TEMPLATES = ['count.sounds', 'count.wall'];

/** The rows for `split`'s object count questions of `scenes` scenes generated with `cfg`. */
export function countTruth(cfg: AvqaConfig, scenes: number, split: 'val' | 'test'): CountTruthRow[] {
  const rows = new Map<string, CountTruthRow>();
  for (const q of generateAvqa(cfg, scenes).questions) {
    if (q.split !== split || !TEMPLATES.includes(q.template)) continue;
    const s = avqaScene(cfg, q.index);
    const { object: o, kind } = countedObject(s, q);
    const inClip = (t: number) => t >= 0 && t < s.duration;
    const others = s.objects.filter((x) => x !== o && o.sound !== null && x.sound === o.sound);
    const truth = Number(q.answer);
    const soundCount = o.sounding ? [o, ...others].flatMap((x) => x.bounces.filter(inClip)).length : NaN;
    const frames = new Set(o.bounces.filter(inClip).map((t) => Math.floor(2 * t)));
    const hitFrames = frames.size;
    const voiceCount = o.sounding
      ? s.objects.filter((x) => x.voice === o.voice).flatMap((x) => x.bounces.filter(inClip)).length
      : NaN;
    const impactsInHitFrames = o.sounding
      ? [o, ...others].flatMap((x) => x.bounces.filter((t) => inClip(t) && frames.has(Math.floor(2 * t)))).length
      : NaN;
    const key = `${q.template} ${kind}`;
    const row = rows.get(key) ?? {
      template: q.template,
      kind,
      questions: 0,
      soundCountRight: 0,
      hitFramesRight: 0,
      turnsRight: 0,
      impactsInHitFramesRight: 0,
      voiceCountRight: 0,
    };
    row.questions++;
    row.soundCountRight += +(soundCount === truth);
    row.hitFramesRight += +(hitFrames === truth);
    row.turnsRight += +(frameTurns(cfg, q.index, o.id) === truth);
    row.impactsInHitFramesRight += +(impactsInHitFrames === truth);
    row.voiceCountRight += +(voiceCount === truth);
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => (a.template + a.kind).localeCompare(b.template + b.kind));
}

/** The --scenes and --duration flags as positive numbers, or an InputError naming them. */
export function scenesAndDuration(values: { scenes?: string; duration?: string }): {
  scenes: number;
  duration: number;
} {
  const [scenes, duration] = [Number(values.scenes), Number(values.duration)];
  if (!(scenes > 0) || !(duration > 0))
    throw new InputError(`--scenes ${values.scenes} --duration ${values.duration}: expected positive numbers`, {
      field: '--scenes/--duration',
    });
  return { scenes, duration };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenes: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '10' },
      split: { type: 'string', default: 'test' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help)
    return void console.log(
      'usage: node dist/bench/favor_count_truth.js [--scenes 1000] [--duration 10] [--split val|test] [--json]',
    );
  const { scenes, duration } = scenesAndDuration(values);
  const split = values.split;
  if (split !== 'val' && split !== 'test')
    throw new InputError(`--split ${split}: expected val or test`, { field: '--split', got: split });
  const rows = countTruth(avqaConfig({ minDuration: duration, maxDuration: duration }), scenes, split);
  if (values.json) return void console.log(JSON.stringify(rows, null, 2));
  console.log(
    '| template | object | questions | sound count right | hit frames right | centre turns right | impacts in its hit frames right | voice count right |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.template} | ${r.kind} | ${r.questions} | ${r.soundCountRight} | ${r.hitFramesRight} | ${r.turnsRight} | ${r.impactsInHitFramesRight} | ${r.voiceCountRight} |`,
    );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main(process.argv.slice(2));
