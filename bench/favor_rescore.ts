/**
 * A finished FAVOR run scored again on its AVQA val or test split as the generator in this tree asks it: the same
 * scenes, weights and greedy decoding as the run's own evaluation (evaluate.ts), with the questions regenerated. When
 * the generator's rules change (docs/avqa.md, e.g. `countGap`, session 22), a run trained before can be read on the
 * new questions without training it again; on an unchanged generator it repeats the run's metrics.json.
 *
 *   node dist/bench/favor_rescore.js RUN [RUN ...] [--split test|val] [--set model.KEY=VALUE ...] [--json]
 *
 * `--set model.…` reads the runs with their model config changed, for a change that adds a frozen head and no
 * trained weight: `--set model.voiceCounts=true --set model.encoders=STAGE1` counts per voice (voices.ts) with the
 * voice head of a stage-1 run whose encoders are the runs' own (the runs' weights otherwise).
 *
 * Prints accuracy per family and per template for each run, and the mean ± std over the runs.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type AvqaConfig,
  type AvqaQuestion,
  AVQA_FAMILIES,
  AVQA_TEMPLATES,
  avqaConfig,
  avqaStreams,
  generateAvqa,
} from '../src/data/avqa/index.js';
import { type Answered, scoreAnswers, templatePriors } from '../src/models/favor/evaluate.js';
import { clipFromStreams } from '../src/models/favor/data.js';
import { answerClipsByLength, loadFavorModel } from '../src/models/favor/infer.js';
import { loadRun } from '../src/train/files.js';
import type { FavorConfig } from '../src/models/favor/config.js';
import { FavorModelSchema } from '../src/models/favor/task.js';
import { parseOverrides } from '../src/train/config.js';
import { ConfigError, InputError } from '../src/util/errors.js';

/** A run's AVQA settings: the generator config, its scene count, and the config val and test are asked with. */
export interface RunAvqa {
  cfg: AvqaConfig;
  scenes: number;
  /** perFamily = the run's heldOutPerFamily: what its val and test questions are (loadAvqaExamples). */
  heldOut: AvqaConfig;
  /** The run's train questions' balance (data.trainTolerance, else the config's). */
  train: AvqaConfig;
}

/** The AVQA settings of the favor run in `dir`, from its config.json. */
export function runAvqa(dir: string): RunAvqa {
  const run = loadRun(dir, { tasks: ['favor'] });
  const data = (run.config.data ?? {}) as {
    avqa?: Partial<AvqaConfig>;
    heldOutPerFamily?: number | null;
    trainTolerance?: number | null;
  };
  const scenes = Number(/^avqa:(\d+)$/.exec(String(run.config.source ?? ''))?.[1]);
  if (!scenes) throw new InputError(`${dir}: config.json source is not avqa:N`, { field: 'source' });
  const cfg = avqaConfig(data.avqa ?? {});
  return {
    cfg,
    scenes,
    heldOut: { ...cfg, perFamily: data.heldOutPerFamily ?? cfg.perFamily },
    train: { ...cfg, tolerance: data.trainTolerance ?? cfg.tolerance },
  };
}

export interface Rescored {
  run: string;
  split: 'val' | 'test';
  questions: number;
  /** scoreAnswers' metrics: acc, acc_<family>, acc_<template>, n_<template>, ... */
  metrics: Record<string, number>;
}

/** Greedy answers of the run in `dir` to its `split` questions as generated now, scored as its evaluation scores. */
export async function rescoreRun(
  dir: string,
  split: 'val' | 'test',
  overrides: Record<string, unknown> = {},
): Promise<Rescored> {
  const loaded = loadFavorModel(dir);
  const changed = FavorModelSchema.safeParse({ ...loaded.config, ...overrides });
  if (!changed.success)
    throw new ConfigError(`--set model.…: ${changed.error.issues[0]?.message}`, {
      field: `model.${String(changed.error.issues[0]?.path[0] ?? '')}`,
    });
  const model = { ...loaded, config: changed.data as FavorConfig };
  const avqa = runAvqa(dir);
  const questions = generateAvqa(avqa.heldOut, avqa.scenes).questions.filter((q) => q.split === split);
  const train = generateAvqa(avqa.train, avqa.scenes).questions.filter((q) => q.split === 'train');
  const answers: Answered[] = [];
  for (let start = 0; start < questions.length; start += 16) {
    const part = questions.slice(start, start + 16);
    const clips = part.map((q: AvqaQuestion) => {
      const s = avqaStreams(avqa.cfg, q.index, q.audio ?? {}, { size: model.config.frameSize });
      return clipFromStreams(s.video.data, s.audio.data, model.config.frameSize);
    });
    answers.push(
      ...(await answerClipsByLength(
        model,
        clips,
        part.map((q) => q.question),
      )),
    );
  }
  const metrics = scoreAnswers(
    questions,
    answers.map((a) => a.answer),
    templatePriors(train),
  );
  return { run: dir, split, questions: questions.length, metrics };
}

function meanStd(xs: number[]): string {
  const m = xs.reduce((a, v) => a + v, 0) / xs.length;
  if (xs.length < 2) return (100 * m).toFixed(1);
  const sd = Math.sqrt(xs.reduce((a, v) => a + (v - m) ** 2, 0) / (xs.length - 1));
  return `${(100 * m).toFixed(1)} ± ${(100 * sd).toFixed(1)}`;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals: runs } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      split: { type: 'string', default: 'test' },
      set: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (!runs.length || values.help) {
    console.log(
      'usage: node dist/bench/favor_rescore.js RUN [RUN ...] [--split test|val] [--set model.KEY=VALUE ...] [--json]',
    );
    return;
  }
  const sets = parseOverrides(values.set);
  const extra = Object.keys(sets).filter((k) => k !== 'model');
  if (extra.length)
    throw new ConfigError(`--set ${extra[0]}.…: only model.… settings can change in a rescore`, { field: extra[0] });
  const split = values.split;
  if (split !== 'val' && split !== 'test')
    throw new InputError(`--split ${split}: expected val or test`, { field: '--split', got: split });
  const scored: Rescored[] = [];
  for (const dir of runs) scored.push(await rescoreRun(dir, split, (sets.model ?? {}) as Record<string, unknown>));
  if (values.json) return void console.log(JSON.stringify(scored, null, 2));
  const rows = [
    'acc',
    ...AVQA_FAMILIES.map((f) => `acc_${f}`),
    ...Object.keys(AVQA_TEMPLATES).map((t) => `acc_${t}`),
  ].filter((k) => scored.every((s) => s.metrics[k] !== undefined));
  console.log(`| ${split} | ${scored.map((s) => s.run).join(' | ')} | mean ± std |`);
  console.log(`|---|${scored.map(() => '---|').join('')}---|`);
  for (const k of rows) {
    const xs = scored.map((s) => s.metrics[k]);
    const n = k.startsWith('acc_') && scored[0].metrics[`n_${k.slice(4)}`];
    const name = k === 'acc' ? `all (${scored[0].questions})` : n ? `${k.slice(4)} (${n})` : k.slice(4);
    console.log(`| ${name} | ${xs.map((x) => (100 * x).toFixed(1)).join(' | ')} | ${meanStd(xs)} |`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main(process.argv.slice(2));
