/**
 * `attune synth avqa --n N --out DIR`: registered under the existing `synth` command. commander lets
 * `synth` parse the flags that follow `avqa` first, so the flags both commands know (--out, --seed,
 * --size, --concurrency, --json) may land on `synth`; the action takes each from whichever command the
 * user's value reached (see `given`), which is why --out is checked here rather than by commander.
 * commander also checks the parent's required options (synth's --clips) before a subcommand runs; a
 * subcommand never uses them, so they are marked as given (null) on the way down.
 */
import type { Command } from 'commander';
import { formatBatchSummary } from '../../data/batch.js';
import { positiveInt, seconds } from '../parse.js';
import { printJson } from '../output.js';
import { InputError } from '../../util/errors.js';
import { formatBaselines } from '../../data/avqa/baseline.js';
import { writeAvqa } from '../../data/avqa/write.js';

export function registerAvqaCommand(program: Command): void {
  const synth = program.commands.find((c) => c.name() === 'synth');
  if (!synth) throw new Error('registerAvqaCommand: register the synth command first');
  synth.hook('preSubcommand', (parent) => {
    for (const opt of parent.options) {
      if (opt.mandatory && parent.getOptionValue(opt.attributeName()) === undefined) parent.setOptionValueWithSource(opt.attributeName(), null, 'default');
    }
  });
  synth
    .command('avqa')
    .description('AV-Synth question answering: scenes of 5-30 s and balanced questions with exact answers (questions.jsonl), optionally MP4 + WAV')
    .requiredOption('--n <scenes>', 'number of scenes', positiveInt('--n'))
    .option('--out <dir>', '(required) output folder (questions.jsonl, scenes.jsonl, vocab.json, avqa.json; clips/ with --media)')
    .option('--seed <n>', 'dataset seed', int('--seed'), 0)
    .option('--min-duration <s>', 'shortest clip', seconds('--min-duration'), 5)
    .option('--max-duration <s>', 'longest clip', seconds('--max-duration'), 30)
    .option('--size <px>', 'scene size (MP4 size; streams are downsampled from it)', positiveInt('--size'), 64)
    .option('--per-family <n>', 'questions per family per scene (at most)', positiveInt('--per-family'), 1)
    .option('--families <list>', 'comma-separated subset of audio,visual,source,order,count,causal,matching,sync')
    .option('--media', 'also write MP4 + WAV per scene and per altered audio (ffmpeg; slower)', false)
    .option('--concurrency <n>', 'media files written at once', positiveInt('--concurrency'), 2)
    .option('--json', 'print a JSON summary', false)
    .addHelpText('after', '\nEach line of questions.jsonl: id, scene, index, split, family, template, question, answer, time (s, when the answer is an event),\nduration, choices (option questions), audio ({offset} shifted or {foil} another scene\'s), video/wav (with --media).\nFAVOR-ready streams (2 Hz frames, 50 Hz log-mel) are rendered in memory: questionStreams(config, question).')
    .action(async (local: Record<string, unknown>, cmd: Command) => {
      const given = (name: string): unknown => (cmd.getOptionValueSource(name) !== 'cli' && cmd.parent?.getOptionValueSource(name) === 'cli' ? cmd.parent.getOptionValue(name) : local[name]);
      const o = {
        ...(local as { n: number; minDuration: number; maxDuration: number; perFamily: number; families?: string; media: boolean }),
        out: given('out') as string | undefined, seed: given('seed') as number, size: given('size') as number,
        concurrency: given('concurrency') as number, json: given('json') as boolean,
      };
      if (o.out === undefined) throw new InputError("synth avqa: required option '--out <dir>' not specified", { field: '--out' });
      const families = o.families?.split(',').map((f) => f.trim()).filter(Boolean);
      const summary = await writeAvqa({
        scenes: o.n, out: o.out, media: o.media, concurrency: o.concurrency, quiet: o.json && !process.stderr.isTTY,
        config: { seed: o.seed, minDuration: o.minDuration, maxDuration: o.maxDuration, size: o.size, perFamily: o.perFamily, ...(families ? { families: families as never } : {}) },
      });
      if (o.json) {
        printJson(summary);
      } else {
        process.stdout.write(`wrote ${summary.questions} questions about ${summary.scenes} scenes to ${summary.questionsFile}\n`);
        process.stdout.write(`splits: ${Object.entries(summary.bySplit).map(([k, v]) => `${k} ${v}`).join(', ')}; ${summary.scenesPerSecond.toFixed(0)} scenes/s\n`);
        process.stdout.write(`question-only baselines on the test split (accuracy %):\n${formatBaselines(summary.baselines)}\n`);
        if (summary.media) process.stdout.write(formatBatchSummary({ total: summary.media.files + summary.media.failed.length, succeeded: summary.media.files, failed: summary.media.failed, results: [], seconds: summary.seconds.media ?? 0 }) + '\n');
      }
      if (summary.media?.failed.length) process.exitCode = 1;
    });
}

function int(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InputError(`${flag} expects a non-negative integer, got "${v}"`, { field: flag, got: v });
    return n;
  };
}
