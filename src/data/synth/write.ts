import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ffFile, runFfmpeg } from '../../media/ffmpeg.js';
import { sweepOnce, tempPathFor, writeJsonAtomic } from '../../util/atomic.js';
import { prepareOutDir } from '../../util/outdir.js';
import { ConfigError } from '../../util/errors.js';
import { runBatch, BatchFailure } from '../batch.js';
import { ManifestItem, writeManifest } from '../manifest.js';
import { synthClasses } from './classes.js';
import { SynthClip, generateClip } from './clip.js';
import { SynthConfig, synthConfig } from './config.js';

/**
 * Writing AV-Synth to disk through ffmpeg, so the real decode path is exercised: per clip (and per
 * audio shift) a WAV (16-bit PCM) and an MP4 (H.264 yuv420p + AAC), plus manifest.jsonl (one line per
 * file pair, ground truth in labels/events) and synth.json (config, class table, counts).
 */
export interface WriteSynthOptions {
  clips: number;
  out: string;
  config?: Partial<SynthConfig>;
  /** Audio offsets in seconds for extra copies (0 is always written); positive = audio late. */
  shifts?: number[];
  concurrency?: number;
  quiet?: boolean;
  /** Write only the WAV files (no MP4); faster for audio-only work. */
  audioOnly?: boolean;
  /** Write into a non-empty `out` that Attune did not create (see src/util/outdir.ts). */
  force?: boolean;
}

export interface WriteSynthSummary {
  out: string;
  manifest: string;
  clips: number;
  files: number; // items written (clips x offsets)
  failed: BatchFailure[];
  seconds: number;
  config: SynthConfig;
}

export async function writeSynth(opts: WriteSynthOptions): Promise<WriteSynthSummary> {
  const cfg = synthConfig({ ...opts.config });
  const shifts = [0, ...(opts.shifts ?? []).filter((s) => s !== 0)];
  for (const s of shifts) {
    if (Math.abs(s) > cfg.margin)
      throw new ConfigError(`shift ${s} s exceeds the margin ${cfg.margin} s (set a larger margin)`, {
        field: 'shifts',
        got: s,
      });
  }
  const out = prepareOutDir(opts.out, { by: 'attune synth', force: opts.force });
  mkdirSync(join(out, 'clips'), { recursive: true });
  sweepOnce(join(out, 'clips'));
  const jobs = Array.from({ length: opts.clips }, (_, i) => shifts.map((offset) => ({ index: i, offset }))).flat();
  const result = await runBatch(
    jobs,
    async (job) => {
      const clip = generateClip(cfg, job.index, { offset: job.offset, video: !opts.audioOnly });
      return writeClipFiles(clip, out, !opts.audioOnly);
    },
    {
      concurrency: opts.concurrency ?? 2,
      label: 'synth',
      quiet: opts.quiet,
      idOf: (job) => `clip ${job.index} offset ${job.offset}`,
    },
  );
  const items = result.results.filter((r): r is ManifestItem => r !== undefined);
  const manifest = join(out, 'manifest.jsonl');
  writeManifest(manifest, items);
  writeJsonAtomic(join(out, 'synth.json'), {
    generator: 'attune AV-Synth v1',
    config: cfg,
    clips: opts.clips,
    shifts,
    offsetConvention: 'positive offset = audio late (heard offset seconds after the impact is seen)',
    classes: synthClasses(cfg.classes),
    failed: result.failed,
  });
  return {
    out,
    manifest,
    clips: opts.clips,
    files: items.length,
    failed: result.failed,
    seconds: result.seconds,
    config: cfg,
  };
}

/** Writes one clip's WAV (and MP4) and returns its manifest item. */
export async function writeClipFiles(clip: SynthClip, outDir: string, withVideo = true): Promise<ManifestItem> {
  const wav = join(outDir, 'clips', `${clip.id}.wav`);
  const mp4 = join(outDir, 'clips', `${clip.id}.mp4`);
  await writeWav(wav, clip.audio, clip.sampleRate);
  if (withVideo) await writeMp4(mp4, clip, wav);
  return {
    id: clip.id,
    line: 0,
    ...(withVideo ? { video: mp4 } : {}),
    audio: wav,
    text: clip.caption,
    start: 0,
    end: clip.duration,
    labels: { clip: clip.index, offset: clip.offset, classes: clip.classes, impacts: clip.events.length },
    events: clip.events.map((e) => ({ time: round6(e.time), label: e.label })),
    metadata: {
      fps: clip.fps,
      sampleRate: clip.sampleRate,
      size: clip.width,
      seed: clip.config.seed,
      audioEvents: clip.audioEvents.map((e) => round6(e.time)),
    },
  };
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/** Float samples -> 16-bit PCM WAV through ffmpeg (temp file, then rename). */
export async function writeWav(path: string, samples: Float32Array, sampleRate: number): Promise<void> {
  const tmp = tempPathFor(path, '.wav');
  try {
    await runFfmpeg(
      [
        '-y',
        '-f',
        'f32le',
        '-ar',
        String(sampleRate),
        '-ac',
        '1',
        '-i',
        'pipe:0',
        '-c:a',
        'pcm_s16le',
        '-f',
        'wav',
        ffFile(tmp),
      ],
      {
        file: path,
        stdin: new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength),
      },
    );
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Raw RGB frames on stdin + the clip's WAV -> MP4 (H.264 + AAC) at the clip's exact fps. */
export async function writeMp4(path: string, clip: SynthClip, wavPath: string): Promise<void> {
  const tmp = tempPathFor(path, '.mp4');
  try {
    await runFfmpeg(
      [
        '-y',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        '-s',
        `${clip.width}x${clip.height}`,
        '-r',
        String(clip.fps),
        '-i',
        'pipe:0',
        '-i',
        ffFile(wavPath),
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-crf',
        '18',
        '-pix_fmt',
        'yuv420p',
        '-threads',
        '1',
        '-c:a',
        'aac',
        '-b:a',
        '96k',
        '-movflags',
        '+faststart',
        '-f',
        'mp4',
        ffFile(tmp),
      ],
      { file: path, stdin: clip.video },
    );
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}
