/**
 * `attune synth [av|emospeech|avqa]`: the synthetic sets, one subcommand each with its own options.
 * `av` (the default, so `attune synth --clips N` works) writes AV-Synth (MP4 + WAV per clip and per audio
 * shift, manifest.jsonl, synth.json) through ffmpeg; training usually uses the in-memory generator instead
 * (generateClip), and the files exercise the real decode path and serve evaluation.
 */
import type { Command } from 'commander';
import { formatBatchSummary } from '../../data/batch.js';
import { writeEmoSpeech } from '../../data/emospeech/write.js';
import { writeSynth } from '../../data/synth/write.js';
import { printJson } from '../output.js';
import { intRange, integer, nonNegativeInt, number, numberList, positiveInt } from '../parse.js';
import { registerAvqaCommand } from './synth_avqa.js';

export function register(program: Command): void {
  const synth = program
    .command('synth')
    .description(
      'generate a synthetic set: av (AV-Synth clips, the default), emospeech (speech with emotions in words and voice), avqa (questions about AV-Synth scenes)',
    );
  synth
    .command('av', { isDefault: true })
    .description(
      'AV-Synth clips (bouncing objects whose wall impacts sound with their class timbre) as MP4 + WAV with a manifest',
    )
    .requiredOption('--clips <n>', 'number of clips', positiveInt('--clips', 1_000_000))
    .requiredOption('--out <dir>', 'output folder (clips/, manifest.jsonl, synth.json)')
    .option('--seed <n>', 'dataset seed (clip i depends only on seed, i and the settings)', nonNegativeInt('--seed'), 0)
    .option('--duration <s>', 'clip length in seconds', number('--duration', { above: 0, max: 600 }), 6)
    .option('--fps <n>', 'video frames per second', number('--fps', { above: 0, max: 120 }), 16)
    .option('--sample-rate <hz>', 'audio sample rate', integer('--sample-rate', 4000, 96000), 16000)
    .option('--size <px>', 'frame width and height (even)', integer('--size', 32, 1024), 112)
    .option('--classes <k>', 'number of object classes (1-48)', integer('--classes', 1, 48), 8)
    .option(
      '--shifts <list>',
      'extra copies with the audio shifted by these seconds, comma-separated (positive = audio late), e.g. "-1,-0.4,0.4,1"',
      numberList('--shifts', { min: -60, max: 60, maxCount: 100, unit: 'seconds', distinct: true }),
      [],
    )
    .option(
      '--margin <s>',
      'seconds simulated beyond each end (>= the largest |shift|)',
      number('--margin', { min: 0, max: 60 }),
      2.5,
    )
    .option('--noise <rms>', 'largest background-noise RMS', number('--noise', { min: 0, max: 10 }), 0.02)
    .option('--sounding <min,max>', 'sounding objects per clip', intRange('--sounding', 1, 64), [1, 2])
    .option('--distractors <min,max>', 'silent distractor objects per clip', intRange('--distractors', 0, 64), [1, 2])
    .option(
      '--flash <s>',
      'seconds an object is drawn lit after each impact (0: no visual cue but the bounce)',
      number('--flash', { min: 0, max: 60 }),
      0.1,
    )
    .option('--audio-only', 'write only WAV files (no MP4)', false)
    .option('--concurrency <n>', 'clips written at once', positiveInt('--concurrency', 256), 2)
    .option('--force', 'write into a non-empty --out that Attune did not create (nothing of yours is deleted)', false)
    .option('--json', 'print a JSON summary', false)
    .addHelpText(
      'after',
      '\nGround truth: manifest.jsonl lists per file the impact times seen in the video (events), the class\nnames, the audio offset (labels.offset) and the impact times heard in the audio (metadata.audioEvents).',
    )
    .action(
      async (o: {
        clips: number;
        out: string;
        seed: number;
        duration: number;
        fps: number;
        sampleRate: number;
        size: number;
        classes: number;
        shifts: number[];
        margin: number;
        noise: number;
        sounding: [number, number];
        distractors: [number, number];
        flash: number;
        audioOnly: boolean;
        concurrency: number;
        force: boolean;
        json: boolean;
      }) => {
        const summary = await writeSynth({
          clips: o.clips,
          out: o.out,
          shifts: o.shifts,
          audioOnly: o.audioOnly,
          concurrency: o.concurrency,
          force: o.force,
          quiet: o.json && !process.stderr.isTTY,
          config: {
            seed: o.seed,
            duration: o.duration,
            fps: o.fps,
            sampleRate: o.sampleRate,
            size: o.size,
            classes: o.classes,
            margin: o.margin,
            noise: o.noise,
            sounding: o.sounding,
            distractors: o.distractors,
            flash: o.flash,
          },
        });
        if (o.json) {
          printJson(summary);
        } else {
          process.stdout.write(`wrote ${summary.files} clip files to ${summary.out}\nmanifest: ${summary.manifest}\n`);
          process.stdout.write(
            formatBatchSummary({
              total: summary.clips * (1 + o.shifts.filter((s) => s !== 0).length),
              succeeded: summary.files,
              failed: summary.failed,
              results: [],
              seconds: summary.seconds,
            }) + '\n',
          );
        }
        if (summary.failed.length) process.exitCode = 1;
      },
    );
  synth
    .command('emospeech')
    .description(
      'EmoSpeech utterances (7 emotions in words and voice; docs/emospeech.md) as WAV + JSONL; needs the optional package @echogarden/espeak-ng-emscripten (GPL-3.0)',
    )
    .requiredOption('--n <n>', 'utterances in all, 70/15/15 train/val/test', positiveInt('--n', 1_000_000))
    .requiredOption(
      '--out <dir>',
      'output folder (audio/ (the content-hashed cache), train/val/test.jsonl, emospeech.json)',
    )
    .option('--seed <n>', 'dataset seed', nonNegativeInt('--seed'), 0)
    .option('--json', 'print a JSON summary', false)
    .action(synthEmoSpeech);
  registerAvqaCommand(synth);
}

async function synthEmoSpeech(o: { n: number; out: string; seed: number; json: boolean }): Promise<void> {
  const summary = await writeEmoSpeech({ n: o.n, out: o.out, seed: o.seed, quiet: o.json && !process.stderr.isTTY });
  if (o.json) printJson(summary);
  else
    process.stdout.write(
      `wrote ${o.n} utterances (${summary.synthesized} synthesized, ${summary.cached} from the cache) to ${summary.out}\n`,
    );
}
