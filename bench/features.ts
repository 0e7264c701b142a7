import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchReport } from './types.js';
import { logMel, mfcc } from '../src/media/audio_features.js';
import { AudioFeaturePipeline } from '../src/media/audio_pipeline.js';
import { extractFeatures } from '../src/media/features.js';
import { runFfmpeg } from '../src/media/ffmpeg.js';
import { AUDIO_PRESETS, FEATURE_PRESETS } from '../src/media/presets.js';
import { writeBenchSection } from './docs.js';
import { Rng } from '../src/util/rng.js';

/**
 * `attune bench features`: decode + feature throughput in x real time, and peak memory on a long input.
 *  1. log-mel compute on one core (pure TS; the process is single-threaded), PANNs and MMAudio settings;
 *  2. end-to-end audio: ffmpeg decode (AAC -> 16 kHz) + the audio-basic preset;
 *  3. end-to-end video: 720p30 H.264 -> 8 fps, 224 px center crop + pixels/color/luma/motion (ffmpeg with 2 threads);
 *  4. peak RSS of a child process running the av-basic preset over a long 720p input (1 hour; --quick: 2 minutes),
 *     sampled over the whole process tree (node + its ffmpeg children).
 * Inputs are generated with ffmpeg's lavfi sources (testsrc2 + sine) and cached in .bench/features/.
 */
// This file runs as dist/bench/features.js: the repository root is two levels up.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = join(ROOT, '.bench/features');

async function generated(name: string, seconds: number): Promise<string> {
  mkdirSync(CACHE, { recursive: true });
  const out = join(CACHE, `${name}.mp4`);
  if (existsSync(out)) return out;
  const segSeconds = Math.min(seconds, 60);
  const seg = join(CACHE, `seg720_${segSeconds}s.mp4`);
  if (!existsSync(seg)) {
    await runFfmpeg(
      [
        '-y',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=s=1280x720:r=30:d=${segSeconds}`,
        '-f',
        'lavfi',
        '-i',
        `aevalsrc='0.3*sin(2*PI*(220+200*sin(t))*t)+0.05*random(0)':s=44100:d=${segSeconds}`,
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-crf',
        '28',
        '-g',
        '60',
        '-pix_fmt',
        'yuv420p',
        '-c:a',
        'aac',
        '-b:a',
        '96k',
        `${seg}.tmp.mp4`,
      ],
      { file: seg },
    );
    renameSync(`${seg}.tmp.mp4`, seg);
  }
  if (seconds <= segSeconds) return seg;
  // Longer inputs: the segment repeated with the concat demuxer (stream copy; continuous timestamps).
  const list = join(CACHE, `${name}.txt`);
  writeFileSync(list, Array.from({ length: Math.ceil(seconds / segSeconds) }, () => `file '${seg}'`).join('\n') + '\n');
  await runFfmpeg(['-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', `${out}.tmp.mp4`], { file: out });
  renameSync(`${out}.tmp.mp4`, out);
  return out;
}

/** Best wall and best CPU seconds (this thread) over n runs of a synchronous job. */
function bestOf(n: number, fn: () => unknown): { wall: number; cpu: number } {
  let wall = Infinity;
  let cpu = Infinity;
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall = Math.min(wall, performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  return { wall: wall / 1000, cpu: cpu / 1000 };
}

/** CPU seconds used so far by this process and its finished children (ffmpeg), from /proc/self/stat. */
function cpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // Fields 14-17 of stat (utime, stime, cutime, cstime) in clock ticks (USER_HZ = 100 on Linux).
  return (f[11] + f[12] + f[13] + f[14]) / 100;
}

/** Wall seconds and CPU seconds (node + ffmpeg) of an async job. */
async function timeAsync(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const c0 = cpuSeconds();
  const t0 = performance.now();
  await fn();
  return { wall: (performance.now() - t0) / 1000, cpu: cpuSeconds() - c0 };
}

/** RSS (MiB) of a process and all its descendants, from /proc. */
function treeRssMiB(root: number): number {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(pid, Number(fields[1]));
      rss.set(pid, (Number(fields[21]) * 4096) / 2 ** 20);
    } catch {
      // The process exited while we looked.
    }
  }
  let total = 0;
  for (const [pid, mib] of rss) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        total += mib;
        break;
      }
    }
  }
  return total;
}

/** Runs av-basic over `file` in a child node process; returns its own max RSS and the sampled tree peak. */
async function rssChild(
  file: string,
): Promise<{ seconds: number; nodeMaxRssMiB: number; treePeakMiB: number; frames: number }> {
  const featuresJs = new URL('../src/media/features.js', import.meta.url).href;
  const script = `const m = await import(${JSON.stringify(featuresJs)});
const t0 = performance.now();
const r = await m.extractFeatures(${JSON.stringify(file)}, 'av-basic', { threads: 2 });
const frames = r.streams['video.motion'].frames;
console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, maxRss: process.resourceUsage().maxRSS / 1024, frames }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRssMiB(child.pid!));
  }, 250);
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const code = await new Promise<number | null>((res) => child.on('close', res));
  clearInterval(timer);
  if (code !== 0) throw new Error(`RSS child exited with code ${code}`);
  const r = JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; maxRss: number; frames: number };
  return { seconds: r.seconds, nodeMaxRssMiB: r.maxRss, treePeakMiB: peak, frames: r.frames };
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const notes: string[] = [];
  const say = (line: string): void => {
    notes.push(line);
    if (!opts.json) process.stdout.write(line + '\n');
  };
  const figures: BenchReport['figures'] = {};
  say(
    `features bench (${opts.quick ? 'quick' : 'full'}); ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} (other work on the machine makes figures noisy)`,
  );

  // 1. Pure compute on one core.
  const sr = 16000;
  const seconds = opts.quick ? 30 : 300;
  const rng = new Rng(1);
  const x = new Float32Array(sr * seconds);
  for (let i = 0; i < x.length; i++)
    x[i] = 0.2 * Math.sin((2 * Math.PI * (300 + (i % sr) / 40) * i) / sr) + 0.05 * rng.normal();
  const jobs: [string, string, () => unknown][] = [
    ['logmel_panns', 'PANNs log-mel (64 mels, hop 160)', () => logMel(x, AUDIO_PRESETS.panns)],
    ['logmel_mmaudio16k', 'MMAudio log-mel (80 mels, n_fft 1024, hop 256)', () => logMel(x, AUDIO_PRESETS.mmaudio16k)],
    ['mfcc_syncnet', 'SyncNet MFCC (100 Hz)', () => mfcc(x, AUDIO_PRESETS.syncnetMfcc)],
    [
      'audio_basic_compute',
      'audio-basic (log-mel + RMS + onset + YIN)',
      () => {
        const p = new AudioFeaturePipeline(FEATURE_PRESETS['audio-basic'].audio!.features, sr);
        for (let i = 0; i < x.length; i += sr) p.push(x.subarray(i, i + sr));
        p.finish();
      },
    ],
  ];
  say(
    `compute on one core (${seconds} s of 16 kHz audio), x real time by wall clock (by CPU time of this thread in brackets)  [target log-mel >= 300x]:`,
  );
  for (const [key, label, fn] of jobs) {
    const t = bestOf(3, fn);
    figures[`${key}_xrt`] = round(seconds / t.wall);
    figures[`${key}_xrt_cpu`] = round(seconds / t.cpu);
    say(`  ${label}: ${figures[`${key}_xrt`]}x (${figures[`${key}_xrt_cpu`]}x)`);
  }

  // 2-3. End-to-end on a generated 720p30 input.
  const clipSeconds = opts.quick ? 20 : 60;
  const clip = await generated(`clip720_${clipSeconds}s`, clipSeconds);
  const audioE2E = await timeAsync(() => extractFeatures(clip, 'panns'));
  const audioBasicE2E = await timeAsync(() => extractFeatures(clip, 'audio-basic'));
  const video = await timeAsync(() => extractFeatures(clip, 'video-basic', { threads: 2 }));
  // Wall-clock x real time depends on what else the machine runs; media seconds per CPU second does not.
  // With 2 free cores and work split between node and ffmpeg, the wall figure approaches 2x the CPU figure.
  Object.assign(figures, {
    audio_decode_logmel_xrt: round(clipSeconds / audioE2E.wall),
    audio_decode_logmel_xrt_per_cpu: round(clipSeconds / audioE2E.cpu),
    audio_decode_basic_xrt: round(clipSeconds / audioBasicE2E.wall),
    audio_decode_basic_xrt_per_cpu: round(clipSeconds / audioBasicE2E.cpu),
    video_720p_8fps_224_xrt: round(clipSeconds / video.wall),
    video_720p_8fps_224_xrt_per_cpu: round(clipSeconds / video.cpu),
  });
  say(
    `decode + features (${clipSeconds} s 720p30 H.264 + 44.1 kHz AAC), wall-clock x real time (per CPU-second in brackets):`,
  );
  say(
    `  audio -> 16 kHz PANNs log-mel ${figures.audio_decode_logmel_xrt}x (${figures.audio_decode_logmel_xrt_per_cpu}x); audio-basic ${figures.audio_decode_basic_xrt}x (${figures.audio_decode_basic_xrt_per_cpu}x)`,
  );
  say(
    `  video -> 8 fps 224 px + motion/color/luma ${figures.video_720p_8fps_224_xrt}x (${figures.video_720p_8fps_224_xrt_per_cpu}x)  [target >= 20x on 2 cores]`,
  );

  // 4. Peak memory on a long input.
  const longSeconds = opts.quick ? 120 : 3600;
  const long = await generated(`long720_${longSeconds}s`, longSeconds);
  const rss = await rssChild(long);
  Object.assign(figures, {
    long_input_seconds: longSeconds,
    long_av_basic_xrt: round(longSeconds / rss.seconds),
    peak_rss_node_mib: Math.round(rss.nodeMaxRssMiB),
    peak_rss_tree_mib: Math.round(rss.treePeakMiB),
  });
  say(
    `av-basic over ${longSeconds} s of 720p30 (${rss.frames} video frames at 8 fps): ${round(longSeconds / rss.seconds)}x real time; peak RSS node ${Math.round(rss.nodeMaxRssMiB)} MiB, node + ffmpeg tree ${Math.round(rss.treePeakMiB)} MiB (sampled every 250 ms)  [target ~500 MB]`,
  );

  // Only a full run replaces the published figures; a --quick smoke run (CI, tests) leaves them alone.
  say(opts.quick ? 'docs/benchmarks.md keeps the figures of the last full run (this was --quick)' : writeDocs(figures));
  return { name: 'features', figures, notes };
}

function round(v: number): number {
  return v >= 100 ? Math.round(v) : Math.round(v * 10) / 10;
}

/** The Features section of docs/benchmarks.md, from a full run. */
function writeDocs(f: BenchReport['figures']): string {
  return writeBenchSection('features', [
    '## Features',
    '',
    `Command: \`npx attune bench features\` (${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}; load average ${loadavg()[0].toFixed(1)} while running, so figures are noisy).`,
    '',
    '| measure | result | target |',
    '|---|---|---|',
    `| log-mel compute, PANNs (16 kHz, 64 mels, hop 160), 1 core (wall / CPU time) | ${f.logmel_panns_xrt}x / ${f.logmel_panns_xrt_cpu}x real time | >= 300x |`,
    `| log-mel compute, MMAudio 16k (80 mels, n_fft 1024, hop 256), 1 core | ${f.logmel_mmaudio16k_xrt}x / ${f.logmel_mmaudio16k_xrt_cpu}x | >= 300x |`,
    `| MFCC, SyncNet-style (100 Hz), 1 core | ${f.mfcc_syncnet_xrt}x / ${f.mfcc_syncnet_xrt_cpu}x | |`,
    `| audio-basic compute (log-mel + RMS + onset + YIN), 1 core | ${f.audio_basic_compute_xrt}x / ${f.audio_basic_compute_xrt_cpu}x | |`,
    `| decode AAC + PANNs log-mel, end to end (wall / per CPU-second) | ${f.audio_decode_logmel_xrt}x / ${f.audio_decode_logmel_xrt_per_cpu}x | |`,
    `| decode AAC + audio-basic, end to end (wall / per CPU-second) | ${f.audio_decode_basic_xrt}x / ${f.audio_decode_basic_xrt_per_cpu}x | |`,
    `| decode 720p30 H.264 -> 8 fps 224 px + motion/color/luma (ffmpeg 2 threads; wall / per CPU-second) | ${f.video_720p_8fps_224_xrt}x / ${f.video_720p_8fps_224_xrt_per_cpu}x | >= 20x on 2 cores |`,
    `| av-basic over a ${f.long_input_seconds} s 720p input | ${f.long_av_basic_xrt}x | |`,
    `| peak RSS, node process / node + ffmpeg | ${f.peak_rss_node_mib} / ${f.peak_rss_tree_mib} MiB | ~500 MB |`,
    '',
    'Inputs are generated by ffmpeg (testsrc2 720p30, x264 veryfast crf 28, AAC 96 kb/s; long inputs are one 60 s segment repeated).',
  ]);
}
