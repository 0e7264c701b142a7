import type { Command } from 'commander';
import { resolve } from 'node:path';
import { formatFeatureSummary, runFeatureJob } from '../../data/feature_job.js';
import { FEATURE_PRESETS } from '../../media/presets.js';
import { inputType } from '../../jobs/inputs.js';
import { BATCH_HELP, addBatchOptions, runBatchCommand, type BatchCliOptions } from '../batch.js';
import { printJson } from '../output.js';
import { oneOf, seconds, positiveInt } from '../parse.js';

/**
 * `attune features FILE|DIR|MANIFEST`: feature extraction with a named preset. One file is extracted here; a folder
 * or a manifest goes through the batch layer (src/jobs): worker processes or a queue, a bad item recorded and the
 * job going on, finished items skipped on a re-run.
 */
interface Options extends BatchCliOptions {
  preset: string;
  out: string;
  format: 'safetensors' | 'npy';
  start?: number;
  duration?: number;
  threads?: number;
  strict: boolean;
  json: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('features')
    .description(
      'extract audio/visual feature streams ({data [T, D], rate, start}) from a media file, a folder of them or a manifest (.jsonl)',
    )
    .argument(
      '<input>',
      'a media file (any container ffmpeg reads), a folder (searched recursively) or a manifest .jsonl',
    )
    .option('--preset <name>', `feature preset: ${Object.keys(FEATURE_PRESETS).join(', ')}`, 'av-basic')
    .requiredOption(
      '--out <dir>',
      'output folder: <name>.safetensors per item (or <name>/*.npy) and features.json (+ results.jsonl, summary.csv for folders and manifests)',
    )
    .option('--format <fmt>', 'safetensors or npy', oneOf('--format', ['safetensors', 'npy'] as const), 'safetensors')
    .option(
      '--start <s>',
      'start of the time range in seconds (manifest items use their own start/end)',
      seconds('--start'),
    )
    .option(
      '--duration <s>',
      'length of the time range in seconds (default: to the end of the file)',
      seconds('--duration'),
    )
    .option('--threads <n>', 'ffmpeg video decoder threads per item', positiveInt('--threads', 256))
    .option('--strict', 'fail an item when the preset needs a stream (audio/video) the file lacks', false)
    .option('--json', 'print the summary as JSON', false);
  addBatchOptions(cmd, 'unreadable, or a stream --strict needs is missing');
  cmd
    .addHelpText(
      'after',
      '\nPresets:\n' +
        Object.values(FEATURE_PRESETS)
          .map((p) => `  ${p.name.padEnd(12)} ${p.about}`)
          .join('\n') +
        '\n\nEach stream name is modality.feature (audio.logmel, video.motion, face.track); in safetensors the tensor\n"<name>@time" holds [rate Hz, start s]. Frame i of a stream covers [start + i/rate, start + (i+1)/rate).\n' +
        "Files are covered whole unless --start/--duration (or a manifest line's start/end) say otherwise.\n" +
        'Output names: an id that is a safe file name is used as is (clip001, über); any other id becomes a readable\n' +
        'slug plus 8 hex digits of its hash (a/b -> a_b-1c2d3e4f), so distinct ids never share a file.\n' +
        BATCH_HELP,
    )
    .action(async (input: string, o: Options) => {
      if (inputType(input) !== 'file') {
        const options = {
          preset: o.preset,
          format: o.format,
          strict: o.strict,
          start: o.start,
          duration: o.duration,
          threads: o.threads,
        };
        await runBatchCommand('features', input, options, { ...o, out: resolve(o.out) }, (s) =>
          s.features ? [`  features.json: ${String(s.features)}`] : [],
        );
        return;
      }
      const summary = await runFeatureJob({
        input,
        preset: o.preset,
        out: o.out,
        format: o.format,
        concurrency: 1,
        start: o.start,
        duration: o.duration,
        strict: o.strict,
        threads: o.threads,
        quiet: o.json && !process.stderr.isTTY,
      });
      if (o.json) printJson(summary);
      else process.stdout.write(formatFeatureSummary(summary) + '\n');
      if (summary.failed.length > 0) process.exitCode = 1;
    });
}
