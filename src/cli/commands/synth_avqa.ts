/** `attune synth avqa --n N --out DIR`: AV-Synth scenes with balanced questions that have exact answers (docs/avqa.md). */
import type { Command } from 'commander';
import { formatBatchSummary } from '../../data/batch.js';
import { nonNegativeInt as int, positiveInt, seconds } from '../parse.js';
import { printJson } from '../output.js';
import { formatBaselines } from '../../data/avqa/baseline.js';
import { writeAvqa } from '../../data/avqa/write.js';

export function registerAvqaCommand(synth: Command): void {
  synth
    .command('avqa')
    .description(
      'AV-Synth question answering: scenes of 5-30 s and balanced questions with exact answers (questions.jsonl), optionally MP4 + WAV',
    )
    .requiredOption('--n <scenes>', 'number of scenes', positiveInt('--n'))
    .requiredOption(
      '--out <dir>',
      'output folder (questions.jsonl, scenes.jsonl, vocab.json, avqa.json; clips/ with --media)',
    )
    .option('--seed <n>', 'dataset seed', int('--seed'), 0)
    .option('--min-duration <s>', 'shortest clip', seconds('--min-duration'), 5)
    .option('--max-duration <s>', 'longest clip', seconds('--max-duration'), 30)
    .option('--size <px>', 'scene size (MP4 size; streams are downsampled from it)', positiveInt('--size'), 64)
    .option('--per-family <n>', 'questions per family per scene (at most)', positiveInt('--per-family'), 1)
    .option('--families <list>', 'comma-separated subset of audio,visual,source,order,count,causal,matching,sync')
    .option('--media', 'also write MP4 + WAV per scene and per altered audio (ffmpeg; slower)', false)
    .option('--concurrency <n>', 'media files written at once', positiveInt('--concurrency'), 2)
    .option('--json', 'print a JSON summary', false)
    .addHelpText(
      'after',
      "\nEach line of questions.jsonl: id, scene, index, split, family, template, question, answer, time (s, when the answer is an event),\nduration, choices (option questions), audio ({offset} shifted or {foil} another scene's), video/wav (with --media).\nFAVOR-ready streams (2 Hz frames, 50 Hz log-mel) are rendered in memory: questionStreams(config, question).",
    )
    .action(
      async (o: {
        n: number;
        out: string;
        seed: number;
        size: number;
        concurrency: number;
        json: boolean;
        minDuration: number;
        maxDuration: number;
        perFamily: number;
        families?: string;
        media: boolean;
      }) => {
        const families = o.families
          ?.split(',')
          .map((f) => f.trim())
          .filter(Boolean);
        const summary = await writeAvqa({
          scenes: o.n,
          out: o.out,
          media: o.media,
          concurrency: o.concurrency,
          quiet: o.json && !process.stderr.isTTY,
          config: {
            seed: o.seed,
            minDuration: o.minDuration,
            maxDuration: o.maxDuration,
            size: o.size,
            perFamily: o.perFamily,
            ...(families ? { families: families as never } : {}),
          },
        });
        if (o.json) {
          printJson(summary);
        } else {
          process.stdout.write(
            `wrote ${summary.questions} questions about ${summary.scenes} scenes to ${summary.questionsFile}\n`,
          );
          process.stdout.write(
            `splits: ${Object.entries(summary.bySplit)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}; ${summary.scenesPerSecond.toFixed(0)} scenes/s\n`,
          );
          process.stdout.write(
            `question-only baselines on the test split (accuracy %):\n${formatBaselines(summary.baselines)}\n`,
          );
          if (summary.media)
            process.stdout.write(
              formatBatchSummary({
                total: summary.media.files + summary.media.failed.length,
                succeeded: summary.media.files,
                failed: summary.media.failed,
                results: [],
                seconds: summary.seconds.media ?? 0,
              }) + '\n',
            );
        }
        if (summary.media?.failed.length) process.exitCode = 1;
      },
    );
}
