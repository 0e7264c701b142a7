import type { Command } from 'commander';
import { retrieve } from '../../models/av_retrieval/search.js';
import { formatTable, printJson } from '../output.js';
import { oneOf, positiveInt } from '../parse.js';

/** `attune retrieve --query FILE --index DIR`: the index entries whose other modality best matches the query. */
interface RetrieveOptions {
  query: string;
  index: string;
  k: number;
  direction: 'auto' | 'a2v' | 'v2a';
  model?: string;
  json: boolean;
}

async function retrieveCommand(opts: RetrieveOptions): Promise<void> {
  const r = await retrieve({
    query: opts.query,
    index: opts.index,
    k: opts.k,
    direction: opts.direction,
    model: opts.model,
  });
  if (opts.json) {
    printJson(r);
    return;
  }
  const what = r.direction === 'a2v' ? "videos matching the query's audio" : "audio matching the query's video";
  process.stdout.write(`${what} (${r.candidates} candidates in ${r.index})\n`);
  process.stdout.write(
    `${formatTable(
      ['rank', 'score', 'file'],
      r.results.map((h) => [h.rank, h.score, h.path]),
    )}\n`,
  );
}

export function register(program: Command): void {
  program
    .command('retrieve')
    .description('rank indexed files against a query file: its audio finds videos (a2v) or its video finds audio (v2a)')
    .requiredOption('--query <file>', 'query media file (video and/or audio)')
    .requiredOption('--index <dir>', 'index folder from `attune index`, or the media folder that holds .attune-index')
    .option('--k <n>', 'results to show', positiveInt('--k', 100_000), 10)
    .option(
      '--direction <dir>',
      'a2v, v2a or auto (a2v when the query has audio)',
      oneOf('--direction', ['auto', 'a2v', 'v2a'] as const),
      'auto',
    )
    .option('--model <run>', "embed the query with this run instead of the index's own model")
    .option('--json', 'print results as JSON', false)
    .action((opts: RetrieveOptions) => retrieveCommand(opts));
}
