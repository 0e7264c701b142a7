/**
 * `attune ask VIDEO "question" --model RUN`: a trained FAVOR model's answer about a video, and for each window how
 * much the answer drew on it (the language model's attention over that window's audio-visual tokens).
 */
import type { Command } from 'commander';
import { InputError } from '../../util/errors.js';
import { formatTable, printJson } from '../output.js';
import { seconds } from '../parse.js';

interface Options {
  model?: string;
  beam: string;
  options: boolean;
  duration?: number;
  json: boolean;
}

export function register(program: Command): void {
  program
    .command('ask')
    .description(
      'answer a question about a video with a trained FAVOR model, and show when in the video the answer came from',
    )
    .argument('<video>', 'a video file with sound (any container ffmpeg reads)')
    .argument('<question>', 'the question, in the AVQA vocabulary (e.g. "how many objects are there?")')
    .option('--model <path>', 'a trained favor run folder (attune train favor --data avqa:N --out DIR)')
    .option('--beam <n>', 'beam width (1 = greedy)', '1')
    .option('--no-options', 'answer freely even when the question offers its answers ("..., the A or the B?")')
    .option('--duration <s>', 'read only the first seconds of the video', seconds('--duration'))
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      `
Frames are read at 2 Hz and scaled to 32 px; the audio becomes the 50 Hz log-mel AVQA trains on. The attention per
window is the first answer token's attention (last language-model block, mean over heads) summed over the window's
tokens; "share" is its fraction of the attention on all audio-visual tokens (the rest goes to the question).
A question that offers its answers ("which hit the wall first, the red circle or the blue square?") is answered by
the one the model finds likelier (each one's log-probability is shown); --no-options keeps the decoder's own answer.

Example:
  attune train favor --data avqa:400 --out runs/favor
  attune ask clip.mp4 "how many objects are there?" --model runs/favor`,
    )
    .action(async (video: string, question: string, o: Options) => {
      if (!o.model)
        throw new InputError(
          'attune ask needs --model DIR (a run folder from: attune train favor --data avqa:400 --out DIR)',
          { field: '--model' },
        );
      const beam = Number(o.beam);
      if (!Number.isInteger(beam) || beam < 1)
        throw new InputError(`--beam expects a positive integer, got "${o.beam}"`, { field: '--beam', got: o.beam });
      const { askClip, decodeClip, loadFavorModel } = await import('../../models/favor/infer.js');
      const model = loadFavorModel(o.model);
      const t0 = performance.now();
      const clip = await decodeClip(video, { maxSeconds: o.duration, size: model.config.frameSize });
      const r = await askClip(model, clip, question, { beam, options: o.options });
      const total = (performance.now() - t0) / 1000;
      if (o.json) return printJson({ video, ...r, totalSeconds: total });
      process.stdout.write(`${question}\n-> ${r.answer}\n`);
      if (r.options)
        process.stdout.write(
          `   (of the options offered: ${r.options.map((x) => `${x.answer} ${x.logProb.toFixed(2)}`).join(', ')}; decoded freely: ${r.decoded})\n`,
        );
      process.stdout.write('\n');
      process.stdout.write(
        formatTable(
          ['window', 'attention', 'share'],
          r.windows.map((w) => [
            `${w.start.toFixed(1)}-${w.end.toFixed(1)} s`,
            w.attention.toFixed(3),
            `${(100 * w.share).toFixed(0)}% ${'#'.repeat(Math.round(20 * w.share))}`,
          ]),
        ) + '\n',
      );
      process.stdout.write(
        `${r.frames} frames; model ${r.seconds.toFixed(2)} s, with decoding the file ${total.toFixed(2)} s\n`,
      );
    });
}
