import type { Command } from 'commander';
import { resolve } from 'node:path';
import { BATCH_HELP, addBatchOptions, runBatchCommand, type BatchCliOptions } from '../batch.js';

/** `attune index DIR|MANIFEST --model RUN --out INDEX`: embed every media file, whole, for `attune retrieve`. */
interface IndexOptions extends BatchCliOptions {
  model: string;
  out: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('index')
    .description(
      'decode, featurise and embed every media file of a folder or manifest (video and/or audio, each file whole) into a retrieval index; bad files are listed and skipped',
    )
    .argument('<input>', 'folder of media files (searched recursively) or a manifest .jsonl')
    .requiredOption(
      '--model <run>',
      'trained av-align or av-retrieval run folder (e.g. attune-demo/av-align, or an `attune train` --out)',
    )
    .requiredOption(
      '--out <dir>',
      'the index folder: embeddings.safetensors, index.json, results.jsonl, summary.csv (attune retrieve --index DIR)',
    )
    .option('--json', 'print the summary as JSON', false);
  addBatchOptions(cmd, 'unreadable, no audio or video stream');
  cmd
    .addHelpText(
      'after',
      `
Each file is embedded whole: the model's windows (6 s for the demo's models) back to back over the full duration,
decoded a minute at a time; the file's embedding is the mean of its windows' (weighted by the frames they cover),
and every window's embedding is kept too (video_windows / audio_windows in embeddings.safetensors). A file of one
window gives the same embedding as 'attune retrieve' computes for a query.
${BATCH_HELP}`,
    )
    .action(async (input: string, o: IndexOptions) => {
      await runBatchCommand('index', input, { model: resolve(o.model) }, o, (s) => {
        const lines = [
          s.indexDir
            ? `  index: ${String(s.indexDir)} (${String(s.indexed)} files; attune retrieve --query FILE --index ${String(s.indexDir)})`
            : '  no index written: no file could be embedded',
        ];
        const recall = s.recall as Record<string, number> | null | undefined;
        if (recall)
          lines.push(
            `  self-retrieval (files with both streams): ${Object.entries(recall)
              .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`)
              .join(', ')}`,
          );
        return lines;
      });
    });
}
