/**
 * What the object count paths could know at best: for each "how many times did the {object} make a sound" and "...
 * hit the wall" question of a split, what kind of object it asks about (its own sound, a sound another object also
 * makes, silent) and whether each of countObjects' two rules (object_answers.ts' objectCounts) would be right with
 * perfect heads: the sound's whole count over the clip (a sounding object), the frames (2 Hz) holding one of its hits
 * (a silent one). Read off the generator's scenes (no model): the ceiling the heads' errors come on top of.
 *
 *   node dist/bench/favor_count_truth.js [--scenes 1000] [--duration 10] [--split test] [--json]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type AvqaConfig, avqaConfig, avqaScene, generateAvqa } from '../src/data/avqa/index.js';
import { InputError } from '../src/util/errors.js';

export interface CountTruthRow {
  template: string;
  /** 'own sound', 'shared sound' (another object makes it too) or 'silent'. */
  kind: string;
  questions: number;
  /** The sound's impacts over the clip, all objects making it (a silent object has no sound: never right). */
  soundCountRight: number;
  /** The 2 Hz frames holding one of the object's hits. */
  hitFramesRight: number;
}

const TEMPLATES = ['count.sounds', 'count.wall'];

/** The rows for `split`'s object count questions of `scenes` scenes generated with `cfg`. */
export function countTruth(cfg: AvqaConfig, scenes: number, split: 'val' | 'test'): CountTruthRow[] {
  const rows = new Map<string, CountTruthRow>();
  for (const q of generateAvqa(cfg, scenes).questions) {
    if (q.split !== split || !TEMPLATES.includes(q.template)) continue;
    const s = avqaScene(cfg, q.index);
    const o = s.objects.find((x) => q.question.includes(x.name));
    if (!o) throw new Error(`${q.template}: no object of scene ${q.index} is named in "${q.question}"`);
    const inClip = (t: number) => t >= 0 && t < s.duration;
    const others = s.objects.filter((x) => x !== o && o.sound !== null && x.sound === o.sound);
    const kind = !o.sounding ? 'silent' : others.length ? 'shared sound' : 'own sound';
    const truth = Number(q.answer);
    const soundCount = o.sounding ? [o, ...others].flatMap((x) => x.bounces.filter(inClip)).length : NaN;
    const hitFrames = new Set(o.bounces.filter(inClip).map((t) => Math.floor(2 * t))).size;
    const key = `${q.template} ${kind}`;
    const row = rows.get(key) ?? { template: q.template, kind, questions: 0, soundCountRight: 0, hitFramesRight: 0 };
    row.questions++;
    row.soundCountRight += +(soundCount === truth);
    row.hitFramesRight += +(hitFrames === truth);
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => (a.template + a.kind).localeCompare(b.template + b.kind));
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
  const [scenes, duration] = [Number(values.scenes), Number(values.duration)];
  if (!(scenes > 0) || !(duration > 0))
    throw new InputError(`--scenes ${values.scenes} --duration ${values.duration}: expected positive numbers`, {
      field: '--scenes/--duration',
    });
  const split = values.split;
  if (split !== 'val' && split !== 'test')
    throw new InputError(`--split ${split}: expected val or test`, { field: '--split', got: split });
  const rows = countTruth(avqaConfig({ minDuration: duration, maxDuration: duration }), scenes, split);
  if (values.json) return void console.log(JSON.stringify(rows, null, 2));
  console.log('| template | object | questions | sound count right | hit frames right |');
  console.log('|---|---|---|---|---|');
  for (const r of rows)
    console.log(`| ${r.template} | ${r.kind} | ${r.questions} | ${r.soundCountRight} | ${r.hitFramesRight} |`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main(process.argv.slice(2));
