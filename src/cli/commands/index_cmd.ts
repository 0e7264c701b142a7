import type { Command } from 'commander';
import { buildIndex } from '../../models/av_retrieval/index_store.js';
import { formatTable, printJson } from '../output.js';
import { positiveInt } from '../parse.js';

/** `attune index DIR --model RUN`: embed every media file in DIR for `attune retrieve`. */
interface IndexOptions { model: string; out?: string; concurrency: number; json: boolean }

async function indexCommand(dir: string, opts: IndexOptions): Promise<void> {
  const r = await buildIndex(dir, { model: opts.model, out: opts.out, quiet: opts.json && !process.stderr.isTTY, concurrency: opts.concurrency });
  if (opts.json) {
    printJson(r);
    return;
  }
  const rows: (string | number)[][] = [
    ['media files', r.files],
    ['indexed', r.indexed],
    ['failed', r.failed.length],
    ['seconds', r.seconds],
  ];
  if (r.recall) rows.push(['self-retrieval (files with both streams)', Object.entries(r.recall).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`).join(', ')]);
  rows.push(['index', r.indexDir]);
  process.stdout.write(`${formatTable(['', 'value'], rows)}\n`);
  for (const f of r.failed) process.stdout.write(`  failed: ${f.id}: ${f.error}\n`);
}

export function register(program: Command): void {
  program
    .command('index')
    .description('decode, featurise and embed every media file in DIR (video and/or audio) into a retrieval index; bad files are listed and skipped')
    .argument('<dir>', 'folder of media files (searched recursively)')
    .requiredOption('--model <run>', 'trained av-align or av-retrieval run folder (e.g. attune-demo/av-align, or an `attune train` --out)')
    .option('--out <dir>', 'where to write the index (default: DIR/.attune-index)')
    .option('--concurrency <n>', 'files decoded at once', positiveInt('--concurrency', 256), 2)
    .option('--json', 'print the summary as JSON', false)
    .action((dir: string, opts: IndexOptions) => indexCommand(dir, opts));
}
