/**
 * `attune demo [PART...]`, the main job: every part in a reduced setting (align: AV-Synth, av-align, retrieval;
 * sync: av-sync; favor: questions about a video; ...), evaluated, in one HTML report. The pipeline is
 * src/app/demo.ts and its parts src/app/demo_parts.ts; this file only parses options and prints.
 */
import type { Command } from 'commander';
import { InputError } from '../../util/errors.js';
import { printJson } from '../output.js';
import { nonNegativeInt } from '../parse.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'the main job: every part (align, sync, favor, ...) trained and evaluated on generated data in a reduced setting, one HTML report',
    )
    .argument('[parts...]', 'run only these parts (align, sync, favor; default: all)')
    .option(
      '--out <dir>',
      'output folder (its part folders are recreated when Attune made them; cache/ is kept)',
      'attune-demo',
    )
    .option('--force', 'write into a non-empty --out that Attune did not create (nothing of yours is deleted)', false)
    .option('--quick', 'a smoke version with fewer clips and steps', false)
    .option('--seed <n>', 'seed for data, initialization and batch order', nonNegativeInt('--seed'), 0)
    .option('--json', 'print the summary as JSON on stdout (progress stays on stderr)', false)
    .addHelpText(
      'after',
      '\nAfterwards:\n  attune sync VIDEO --model <out>/av-sync      offset of a video with the trained model\n  attune retrieve --query FILE --index <out>/avsynth/index --model <out>/av-align\n  attune ask VIDEO "what sound is heard?" --model <out>/favor/row0/seed-1',
    )
    .action(
      async (parts: string[], opts: { out: string; quick: boolean; seed: number; json: boolean; force: boolean }) => {
        const { runDemo, formatDemoSummary } = await import('../../app/demo.js');
        const { DEMO_PARTS } = await import('../../app/demo_parts.js');
        for (const p of parts) {
          if (!(DEMO_PARTS as readonly string[]).includes(p))
            throw new InputError(`unknown demo part '${p}' (expected ${DEMO_PARTS.join(', ')})`, {
              field: 'part',
              got: p,
            });
        }
        const summary = await runDemo({
          out: opts.out,
          quick: opts.quick,
          seed: opts.seed,
          force: opts.force,
          parts: parts.length ? (parts as (typeof DEMO_PARTS)[number][]) : undefined,
        });
        if (opts.json) printJson(summary);
        else process.stdout.write(formatDemoSummary(summary) + '\n');
      },
    );
}
