import type { Command } from 'commander';
import { formatFeatureSummary, runFeatureJob } from '../../media/feature_job.js';
import { FEATURE_PRESETS } from '../../media/presets.js';
import { printJson } from '../output.js';
import { oneOf, seconds, positiveInt } from '../parse.js';

/**
 * `attune features <manifest|file>`: feature extraction with a named preset. A manifest (.jsonl) is processed
 * with the feature cache and bounded parallelism; a bad item is recorded and the job goes on.
 */
export function register(program: Command): void {
  program
    .command('features')
    .description('extract audio/visual feature streams ({data [T, D], rate, start}) from a media file or a manifest (.jsonl)')
    .argument('<input>', 'a media file (any container ffmpeg reads) or a manifest .jsonl')
    .option('--preset <name>', `feature preset: ${Object.keys(FEATURE_PRESETS).join(', ')}`, 'av-basic')
    .requiredOption('--out <dir>', 'output folder: <id>.safetensors per item (or <id>/*.npy) and features.json')
    .option('--format <fmt>', 'safetensors or npy', oneOf('--format', ['safetensors', 'npy'] as const), 'safetensors')
    .option('--start <s>', 'start of the time range in seconds (manifest items use their own start/end)', seconds('--start'))
    .option('--duration <s>', 'length of the time range in seconds', seconds('--duration'))
    .option('--cache <dir>', 'feature cache folder for manifests (default <out>/cache)')
    .option('--concurrency <n>', 'items processed at once', positiveInt('--concurrency', 256), 2)
    .option('--threads <n>', 'ffmpeg video decoder threads per item', positiveInt('--threads', 256))
    .option('--strict', 'fail an item when the preset needs a stream (audio/video) the file lacks', false)
    .option('--json', 'print the summary as JSON', false)
    .addHelpText('after', '\nPresets:\n' + Object.values(FEATURE_PRESETS).map((p) => `  ${p.name.padEnd(12)} ${p.about}`).join('\n') +
      '\n\nEach stream name is modality.feature (audio.logmel, video.motion, face.track); in safetensors the tensor\n"<name>@time" holds [rate Hz, start s]. Frame i of a stream covers [start + i/rate, start + (i+1)/rate).')
    .action(async (input: string, o: {
      preset: string; out: string; format: 'safetensors' | 'npy'; start?: number; duration?: number; cache?: string;
      concurrency: number; threads?: number; strict: boolean; json: boolean;
    }) => {
      const summary = await runFeatureJob({
        input, preset: o.preset, out: o.out, format: o.format, cacheDir: o.cache, concurrency: Math.max(1, o.concurrency),
        start: o.start, duration: o.duration, strict: o.strict, threads: o.threads, quiet: o.json && !process.stderr.isTTY,
      });
      if (o.json) printJson(summary);
      else process.stdout.write(formatFeatureSummary(summary) + '\n');
      if (summary.failed.length > 0) process.exitCode = 1;
    });
}

