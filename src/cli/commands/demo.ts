import type { Command } from 'commander';
import { InputError } from '../../util/errors.js';
import { printJson } from '../output.js';

/**
 * `attune demo`, the main job: synthesise AV-Synth, extract features, train av-align and av-sync, evaluate
 * (before/after metric-suite table, sync accuracy, retrieval recall) and write one HTML report. The pipeline is
 * src/app/demo.ts; this file only parses options and prints.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('the main job: synthesize AV-Synth clips, train av-align and av-sync, evaluate them and write an HTML report')
    .option('--out <dir>', 'output folder (its av-align/, av-sync/ and avsynth/ are recreated; cache/ is kept)', 'attune-demo')
    .option('--quick', 'a ~1 minute smoke version with fewer clips and steps', false)
    .option('--seed <n>', 'seed for data, initialisation and batch order', '0')
    .option('--json', 'print the summary as JSON on stdout (progress stays on stderr)', false)
    .addHelpText('after', '\nAfterwards:\n  attune sync VIDEO --model <out>/av-sync      offset of a video with the trained model\n  attune retrieve --query FILE --index <out>/avsynth/index --model <out>/av-align')
    .action(async (opts: { out: string; quick: boolean; seed: string; json: boolean }) => {
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new InputError(`--seed must be a non-negative integer, got "${opts.seed}"`, { field: '--seed' });
      const { runDemo, formatDemoSummary } = await import('../../app/demo.js');
      const summary = await runDemo({ out: opts.out, quick: opts.quick, seed });
      if (opts.json) printJson(summary);
      else process.stdout.write(formatDemoSummary(summary) + '\n');
    });
}
