import type { Command } from 'commander';
import { type GenerationOptions, generationOptions, runGeneration } from './v2a.js';

/** `attune t2a "caption" --model RUN --out x.wav`: sound from a caption alone (the joint model's text path). */
export function register(program: Command): void {
  generationOptions(
    program
      .command('t2a')
      .description('generate sound from a caption with a trained v2a model (trained jointly on audio-caption pairs)')
      .argument('<caption>', 'e.g. "a blue square bounces twice; metallic clang"'),
  )
    .addHelpText(
      'after',
      `
  attune t2a "a red circle bounces 3 times; plucked twang" --model runs/v2a --out red.wav`,
    )
    .action((caption: string, o: GenerationOptions) => runGeneration(undefined, { ...o, prompt: caption, wav: true }));
}
