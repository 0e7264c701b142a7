/**
 * Inference from a trained run: `attune v2a VIDEO` and `attune t2a "caption"`.
 *
 *   run folder -> config (model, clip seconds) + weights -> Predictor (batch 2: cond + uncond)
 *   VIDEO -> ffmpeg at 25 fps, 48 x 48 -> pooled 24 x 24 frames -> Condition -> Euler + CFG -> log-mel -> Griffin-Lim
 *   -> WAV (16 kHz) -> muxed with the original picture (video stream copied) into OUT.mp4
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { ParamStore } from '../../engine/params.js';
import { Predictor } from '../../engine/export.js';
import type { HostArray } from '../../io/array.js';
import { decodeVideo } from '../../media/decode_video.js';
import { runFfmpeg } from '../../media/ffmpeg.js';
import { probe } from '../../media/probe.js';
import { writeWav } from '../../data/synth/write.js';
import { loadRun } from '../../train/files.js';
import { InputError } from '../../util/errors.js';
import { SAMPLE_RATE } from './audio.js';
import { FRAME_SIZE, SYNC_FPS, type Sequence, sequence } from './config.js';
import { poolFrames } from './data.js';
import { generateWaves, predictorVelocity } from './generate.js';
import { DecoderPool } from './decode_pool.js';
import { v2aInference } from './model.js';
import type { Condition } from './sampler.js';
import { V2aModelSchema, type V2aModelConfig } from './task.js';
import { tokenize } from './text.js';

export interface V2aModel {
  config: V2aModelConfig;
  /** Clip length the model was trained on (s). */
  seconds: number;
  weights: Record<string, HostArray>;
  source: string;
}

export function loadV2aModel(path: string): V2aModel {
  const run = loadRun(path, { tasks: ['v2a'] });
  const parsed = V2aModelSchema.safeParse(run.config.model);
  if (!parsed.success)
    throw new InputError(
      `${run.dir}/config.json: model section is not a v2a config: ${parsed.error.issues[0]?.message}`,
      { file: run.dir, field: 'model' },
    );
  if (parsed.data.audioLatent !== 'mel')
    throw new InputError(
      `${run.dir}: audioLatent "${parsed.data.audioLatent}" runs are evaluation-only (the autoencoder is not saved with the run); train with audioLatent "mel"`,
      { file: run.dir, field: 'model.audioLatent' },
    );
  const seconds = Number((run.config.data as { seconds?: number } | undefined)?.seconds ?? 4);
  return { config: parsed.data, seconds, weights: run.params, source: run.weightsPath };
}

/** A Predictor for `seconds` of audio at network batch `batch` (cond + uncond halves); close it when done. */
export function v2aPredictor(model: V2aModel, seq: Sequence, batch = 2, threads?: number): Promise<Predictor> {
  const store = new ParamStore(0);
  store.load(model.weights);
  return Predictor.create((g, p) => v2aInference(g, p, model.config, seq, batch), store, {
    worker: false,
    session: threads ? { threads } : undefined,
  });
}

/** Pooled 24 x 24 frames at 25 fps of `seconds` of a video (stretched to a square, as the model saw AV-Synth). */
export async function videoCondition(path: string, seconds: number): Promise<Uint8Array> {
  const v = await decodeVideo(path, {
    fps: SYNC_FPS,
    width: FRAME_SIZE * 2,
    height: FRAME_SIZE * 2,
    resize: 'stretch',
    pixelFormat: 'rgb',
    scaleFlags: 'area',
    duration: seconds,
  });
  if (v.frameCount === 0) throw new InputError(`${path}: no video frames decoded`, { file: path, field: 'video' });
  return poolFrames(v.frames, v.frameCount, FRAME_SIZE * 2);
}

export interface GenerateRequest {
  video?: string;
  prompt?: string;
  /** Seconds to generate (default: the video's length for v2a, capped at 30; the trained length for t2a). */
  seconds?: number;
  steps?: number;
  cfg?: number;
  /** Guidance only from this t on (sampler.ts; default GUIDANCE_FROM, 0 = every step). */
  guidanceFrom?: number;
  seed?: number;
  griffinLim?: number;
  threads?: number;
}

export interface GenerateResult {
  wave: Float32Array;
  seconds: number;
  unknownWords: string[];
  timing: { decode: number; generate: number };
}

/** Generates the sound for one video and/or prompt. */
export async function generateSound(model: V2aModel, req: GenerateRequest): Promise<GenerateResult> {
  if (!req.video && !req.prompt) throw new InputError('v2a needs a video, a prompt, or both', { field: 'video' });
  const started = Date.now();
  let seconds = req.seconds ?? model.seconds;
  if (req.video && req.seconds === undefined) {
    const info = await probe(req.video);
    seconds = Math.min(30, Math.max(0.5, info.duration ?? model.seconds));
  }
  const seq = sequence(seconds);
  const frames = req.video ? await videoCondition(req.video, seconds) : null;
  const tokens = req.prompt ? tokenize(req.prompt, seq.text) : null;
  const decoded = Date.now();
  const predictor = await v2aPredictor(model, seq, 2, req.threads);
  const decoder = DecoderPool.create(2); // Griffin-Lim on 2 threads: ~half the decoder's time on 2 cores
  try {
    const item: Condition = { frames, text: tokens?.ids ?? null, textValid: tokens?.valid };
    const [wave] = await generateWaves(predictorVelocity(predictor), [item], seq, 2, {
      steps: req.steps,
      cfg: req.cfg,
      guidanceFrom: req.guidanceFrom,
      seed: req.seed,
      griffinLim: req.griffinLim,
      decoder,
    });
    return {
      wave,
      seconds,
      unknownWords: tokens?.unknown ?? [],
      timing: { decode: (decoded - started) / 1000, generate: (Date.now() - decoded) / 1000 },
    };
  } finally {
    await Promise.all([predictor.close(), decoder.close()]);
  }
}

/** Writes `wave` as a 16 kHz WAV, atomically. */
export async function writeSoundWav(path: string, wave: Float32Array): Promise<void> {
  await writeWav(path, wave, SAMPLE_RATE);
}

/** The original picture (stream copy) with `wave` as its only audio track, written atomically to `out`. */
export async function muxSound(video: string, wave: Float32Array, out: string): Promise<void> {
  const wav = `${out}.v2a-tmp.wav`;
  const tmp = `${out}.v2a-tmp.mp4`;
  try {
    await writeWav(wav, wave, SAMPLE_RATE);
    await runFfmpeg(
      [
        '-y',
        '-i',
        video,
        '-i',
        wav,
        '-map',
        '0:v:0',
        '-map',
        '1:a:0',
        '-c:v',
        'copy',
        '-c:a',
        'aac',
        '-b:a',
        '128k',
        '-shortest',
        '-movflags',
        '+faststart',
        '-f',
        'mp4',
        tmp,
      ],
      { file: video },
    );
    renameSync(tmp, out);
  } finally {
    for (const f of [wav, tmp]) if (existsSync(f)) rmSync(f, { force: true });
  }
}
