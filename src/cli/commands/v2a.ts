import type { Command } from 'commander';
import { extname } from 'node:path';
import { GUIDANCE_FROM } from '../../models/v2a/config.js';
import { InputError } from '../../util/errors.js';
import { printJson } from '../output.js';
import { nonNegativeInt, number, positiveInt } from '../parse.js';

/**
 * `attune v2a VIDEO --model RUN --out OUT.mp4`: sound for a silent video from a trained v2a run (flow matching with
 * Euler steps and classifier-free guidance), muxed with the original picture; `--wav` writes the audio alone.
 * `attune t2a` (t2a.ts) shares the options and the runner below.
 */
export interface GenerationOptions {
  model: string;
  out: string;
  prompt?: string;
  steps: number;
  cfg: number;
  guidanceFrom: number;
  seed: number;
  duration?: number;
  griffinLim: number;
  threads?: number;
  wav: boolean;
  json: boolean;
}

/** Options every generation command takes. */
export function generationOptions(cmd: Command): Command {
  return cmd
    .requiredOption(
      '--model <run>',
      'a trained v2a run folder (attune train v2a --data synth:400 --out DIR) or its best.safetensors',
    )
    .requiredOption('--out <file>', 'output file (.mp4 with the picture for v2a; .wav for --wav and t2a)')
    .option('--steps <n>', 'Euler steps (default 25)', positiveInt('--steps', 1000), 25)
    .option(
      '--cfg <w>',
      'classifier-free guidance strength (default 4.5; 1 = no guidance)',
      number('--cfg', { min: 0, max: 100 }),
      4.5,
    )
    .option(
      '--guidance-from <t>',
      `apply the guidance only from flow time t on (0 = noise, 1 = data; default ${GUIDANCE_FROM}, chosen on the val split; 0 = every step, as MMAudio)`,
      number('--guidance-from', { min: 0, max: 1 }),
      GUIDANCE_FROM,
    )
    .option('--seed <n>', 'noise seed (default 0)', nonNegativeInt('--seed'), 0)
    .option(
      '--duration <s>',
      'seconds to generate (default: the video length up to 30 s; t2a: the trained clip length)',
      number('--duration', { above: 0, max: 30 }),
    )
    .option(
      '--griffin-lim <n>',
      'Griffin-Lim iterations of the waveform decoder (default 16)',
      positiveInt('--griffin-lim', 1000),
      16,
    )
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)', positiveInt('--threads', 256))
    .option('--json', 'print the result as JSON', false);
}

/** Generates, writes `--out` (WAV, or MP4 muxed with `video`) and prints what was done. */
export async function runGeneration(video: string | undefined, o: GenerationOptions): Promise<void> {
  const { generateSound, loadV2aModel, muxSound, writeSoundWav } = await import('../../models/v2a/infer.js');
  const asWav = o.wav || !video;
  const ext = extname(o.out).toLowerCase();
  if (asWav && ext !== '.wav')
    throw new InputError(`--out ${o.out}: audio-only output is a .wav file`, {
      field: '--out',
      got: o.out,
      expected: '*.wav',
    });
  if (!asWav && ext !== '.mp4')
    throw new InputError(`--out ${o.out}: v2a writes the picture with its new sound as .mp4 (or pass --wav)`, {
      field: '--out',
      got: o.out,
      expected: '*.mp4',
    });
  if (video && o.out === video)
    throw new InputError(`--out ${o.out} would overwrite the input video`, { field: '--out' });
  const model = loadV2aModel(o.model);
  const r = await generateSound(model, {
    video,
    prompt: o.prompt,
    seconds: o.duration,
    steps: o.steps,
    cfg: o.cfg,
    guidanceFrom: o.guidanceFrom,
    seed: o.seed,
    griffinLim: o.griffinLim,
    threads: o.threads,
  });
  if (asWav) await writeSoundWav(o.out, r.wave);
  else await muxSound(video!, r.wave, o.out);
  const summary = {
    output: o.out,
    video: video ?? null,
    prompt: o.prompt ?? null,
    seconds: r.seconds,
    steps: o.steps,
    cfg: o.cfg,
    guidanceFrom: o.guidanceFrom,
    seed: o.seed,
    model: model.source,
    unknownWords: r.unknownWords,
    timing: r.timing,
  };
  if (o.json) return printJson(summary);
  process.stdout.write(
    `${o.out}: ${r.seconds.toFixed(2)} s of sound, ${o.steps} steps, CFG ${o.cfg} from t = ${o.guidanceFrom}, seed ${o.seed} (${r.timing.generate.toFixed(2)} s to generate)\n`,
  );
  if (r.unknownWords.length)
    process.stderr.write(`note: words outside the model's vocabulary were ignored: ${r.unknownWords.join(', ')}\n`);
}

export function register(program: Command): void {
  generationOptions(
    program
      .command('v2a')
      .description('generate sound for a (silent) video with a trained v2a model and mux it with the original picture')
      .argument('<video>', 'a video file (any container ffmpeg reads); its own audio, if any, is replaced')
      .option(
        '--prompt <text>',
        'a caption that also conditions the sound (e.g. "a red circle bounces twice; metallic clang")',
      )
      .option('--wav', 'write only the generated audio (16 kHz WAV) to --out', false),
  )
    .addHelpText(
      'after',
      `
Train a model first (AV-Synth, the bouncing-objects dataset):
  attune train v2a --data synth:400 --out runs/v2a
  attune v2a clip.mp4 --model runs/v2a --out clip_with_sound.mp4
  attune v2a clip.mp4 --model runs/v2a --wav --out sound.wav --steps 8 --cfg 3`,
    )
    .action((video: string, o: GenerationOptions) => runGeneration(video, o));
}
