/**
 * `attune bench decode`: the ffmpeg CLI backend (the bundled 2018 ffmpeg 4.1 / ffprobe) against libav in-process
 * (node-av, FFmpeg 8), to choose the default ATTUNE_DECODER by figures (docs/media.md):
 *  1. correctness on every clip in ../shared/media/real (when present) and on generated inputs (10 s 720p 29.97 fps
 *     H.264 with B-frames and dropped frames, 44.1 kHz AAC starting 0.25 s late; the same rotated 90 degrees; the
 *     same as MPEG-TS): probe fields, 16 kHz mono audio, video at the sync and av-basic feature sizes;
 *  2. speed, wall and CPU (this process plus its ffmpeg children) on the 720p clip: decoding audio + video, and the
 *     av-basic preset end to end, per ATTUNE_THREADS value, best of 3;
 *  3. install size of each backend's npm packages.
 * --quick: generated inputs only.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchReport } from './types.js';
import { runFfmpeg } from '../src/media/ffmpeg.js';
import { decodeAudio } from '../src/media/decode_audio.js';
import { decodeVideo } from '../src/media/decode_video.js';
import { probe } from '../src/media/probe.js';
import { extractFeatures } from '../src/media/features.js';
import { loadNodeAv, type DecoderBackend } from '../src/media/libav/backend.js';
import {
  COMPARED_SAMPLE_RATE,
  COMPARED_VIEWS,
  compareFile,
  difference,
  withBackend,
  type FileComparison,
} from './decode_compare.js';
import { THREADS_VAR } from '../src/util/threads.js';

// This file runs as dist/bench/decode.js: the repository root is two levels up.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = join(ROOT, '.bench/decode');
const REAL = join(ROOT, '../shared/media/real');

/** Generates (once) the 720p clip and its rotated and MPEG-TS copies with the CLI. */
async function generatedInputs(): Promise<{ clip: string; rotated: string; ts: string }> {
  mkdirSync(CACHE, { recursive: true });
  const clip = join(CACHE, 'clip720.mp4');
  const rotated = join(CACHE, 'clip720-rot90.mp4');
  const ts = join(CACHE, 'clip720.ts');
  const make = async (out: string, args: string[]): Promise<void> => {
    if (existsSync(out)) return;
    await runFfmpeg(['-y', ...args, `${out}.tmp${out.slice(out.lastIndexOf('.'))}`], { file: out });
    renameSync(`${out}.tmp${out.slice(out.lastIndexOf('.'))}`, out);
  };
  await make(clip, [
    ...['-f', 'lavfi', '-i', "testsrc2=s=1280x720:r=30000/1001:d=10,select='not(eq(mod(n,11),5))'"],
    ...['-itsoffset', '0.25', '-f', 'lavfi', '-i', "aevalsrc='0.4*sin(2*PI*(300+200*sin(t))*t)':s=44100:d=9.75"],
    ...['-vsync', 'passthrough', '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-bf', '2'],
    ...['-g', '60', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '96k', '-ac', '2'],
  ]);
  // ffmpeg 4.1 writes a display matrix from the rotate tag (newer versions take -display_rotation instead).
  await make(rotated, ['-i', clip, '-c', 'copy', '-metadata:s:v:0', 'rotate=90']);
  await make(ts, ['-i', clip, '-c', 'copy', '-f', 'mpegts']);
  return { clip, rotated, ts };
}

/** CPU seconds of this process and of its waited-for children (ffmpeg), from /proc (Linux). */
function cpuSeconds(): number {
  const own = process.cpuUsage();
  let children = 0;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    children = (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime in clock ticks (100 Hz)
  } catch {
    // not Linux: children are not counted
  }
  return (own.user + own.system) / 1e6 + children;
}

/** The timed jobs: decoding alone, and the av-basic preset end to end (decode overlapped with feature compute). */
const JOBS: Record<'decode' | 'features', (path: string) => Promise<unknown>> = {
  decode: async (path) => {
    const info = await probe(path);
    await decodeAudio(path, { sampleRate: COMPARED_SAMPLE_RATE, info });
    await decodeVideo(path, { ...COMPARED_VIEWS.features, info });
  },
  features: (path) => extractFeatures(path, 'av-basic'),
};

/** Best wall and CPU seconds of n runs of a job on one backend with ATTUNE_THREADS = threads. */
async function speed(
  job: (path: string) => Promise<unknown>,
  path: string,
  backend: DecoderBackend,
  threads: number,
  n = 3,
): Promise<{ wall: number; cpu: number }> {
  const before = process.env[THREADS_VAR];
  process.env[THREADS_VAR] = String(threads);
  let wall = Infinity;
  let cpu = Infinity;
  try {
    for (let i = 0; i < n; i++) {
      await withBackend(backend, async () => {
        const t0 = performance.now();
        const c0 = cpuSeconds();
        await job(path);
        wall = Math.min(wall, (performance.now() - t0) / 1000);
        cpu = Math.min(cpu, cpuSeconds() - c0);
      });
    }
  } finally {
    if (before === undefined) delete process.env[THREADS_VAR];
    else process.env[THREADS_VAR] = before;
  }
  return { wall, cpu };
}

/** Bytes under a folder (apparent size, like `du -sb`). */
function treeBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  const st = statSync(dir);
  if (!st.isDirectory()) return st.size;
  return readdirSync(dir).reduce((sum, name) => sum + treeBytes(join(dir, name)), 0);
}

/**
 * A package and the installed packages its dependencies pull in (from node_modules). `optional` adds the roots'
 * installed optional dependencies (npm installs those by default; node-av's include werift, for WebRTC).
 */
function packageClosure(name: string, seen: Set<string>, optional: boolean): Set<string> {
  const manifest = join(ROOT, 'node_modules', name, 'package.json');
  if (seen.has(name) || !existsSync(manifest)) return seen;
  seen.add(name);
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, Record<string, string> | undefined>;
  for (const dep of Object.keys(pkg.dependencies ?? {})) packageClosure(dep, seen, optional);
  // Platform packages (@seydx/node-av-linux-x64, @ffmpeg-installer/linux-x64) are optional dependencies too.
  for (const dep of Object.keys(pkg.optionalDependencies ?? {}))
    if (optional || /-(linux|darwin|win32)-/.test(dep) || /^@\w[\w-]*\/(linux|darwin|win32)-/.test(dep))
      packageClosure(dep, seen, optional);
  return seen;
}

function installMiB(roots: string[], optional = true): { mib: number; packages: string[] } {
  const all = new Set<string>();
  for (const r of roots) for (const p of packageClosure(r, new Set(), optional)) all.add(p);
  const bytes = [...all].reduce((s, p) => s + treeBytes(join(ROOT, 'node_modules', p)), 0);
  return { mib: bytes / 2 ** 20, packages: [...all].sort() };
}

const cell = (v: number | string): string => (typeof v === 'string' ? `error: ${v.slice(0, 60)}` : String(v));
const pair = (s: { ffmpeg: number | string; libav: number | string }): string =>
  s.ffmpeg === s.libav ? cell(s.ffmpeg) : `${cell(s.ffmpeg)} / ${cell(s.libav)}`;

function tableRow(name: string, c: FileComparison): string {
  const probeCell =
    c.probeDiffs === null
      ? `${cell(c.probe.ffmpeg as string)} / ${cell(c.probe.libav as string)}`
      : c.probeDiffs.map((d) => `${d.field}: ${JSON.stringify(d.ffmpeg)} / ${JSON.stringify(d.libav)}`).join('; ') ||
        'equal';
  const a = c.audio
    ? `${pair(c.audio.samples)} | ${c.audio.maxAbs.toExponential(1)} | ${c.audio.snrDb.toFixed(0)}`
    : '- | - | -';
  const v = (k: string): string => {
    const x = c.video[k];
    return x ? `${pair(x.frames)} | ${x.maxAbs} / ${x.meanAbs.toFixed(4)}` : '- | -';
  };
  return `| ${name} | ${probeCell} | ${a} | ${v('sync')} | ${v('features')} |`;
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const notes: string[] = [];
  const say = (line: string): void => {
    notes.push(line);
    if (!options.json) console.log(line);
  };
  const t0 = performance.now();
  await loadNodeAv();
  const loadMs = performance.now() - t0;
  const gen = await generatedInputs();
  const inputs: [string, string][] = [
    ['generated 720p (VFR, B-frames, late AAC)', gen.clip],
    ['generated 720p, rotation 90', gen.rotated],
    ['generated 720p, MPEG-TS', gen.ts],
  ];
  if (!options.quick && existsSync(REAL)) {
    for (const f of readdirSync(REAL).sort())
      if (/\.(mp4|mov|mpg|mkv|webm|avi|ts)$/.test(f)) inputs.push([f, join(REAL, f)]);
  }
  say('Correctness: ffmpeg CLI (4.1) vs libav (node-av, FFmpeg 8); "a / b" = ffmpeg / libav where they differ.');
  say(
    '| file | probe fields that differ (ffmpeg / libav) | audio samples | audio max abs diff | SNR dB | sync frames | sync max / mean abs diff | features frames | features max / mean abs diff |',
  );
  say('|---|---|---|---|---|---|---|---|---|');
  const figures: Record<string, number | string | null> = { node_av_load_ms: Math.round(loadMs) };
  let worstSnr = Infinity;
  let frameMismatches = 0;
  let sampleMismatches = 0;
  for (const [name, path] of inputs) {
    const c = await compareFile(path);
    say(tableRow(name, c));
    if (c.audio) {
      worstSnr = Math.min(worstSnr, c.audio.snrDb);
      if (c.audio.samples.ffmpeg !== c.audio.samples.libav) sampleMismatches++;
    }
    for (const v of Object.values(c.video)) if (v.frames.ffmpeg !== v.frames.libav) frameMismatches++;
  }
  // The MPEG-TS copy holds the same samples as the MP4: each backend's TS audio against its own MP4 audio.
  say('');
  say('MPEG-TS audio against the MP4 it was copied from, per backend (16 kHz mono):');
  for (const backend of ['ffmpeg', 'libav'] as const) {
    const [mp4, ts] = await withBackend(backend, () =>
      Promise.all([gen.clip, gen.ts].map((p) => decodeAudio(p, { sampleRate: COMPARED_SAMPLE_RATE }))),
    );
    const d = difference(mp4.data, ts.data);
    say(`- ${backend}: ${ts.length} samples (MP4 ${mp4.length}), SNR ${d.snrDb.toFixed(1)} dB`);
    figures[`ts_vs_mp4_snr_db_${backend}`] = d.snrDb;
  }
  say('');
  say(
    `Speed: ${gen.clip} (10 s, 1280x720), best of 3 (s); load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores.`,
  );
  say('decode = probe + 16 kHz mono audio + 8 fps 224x224 crops; features = the av-basic preset end to end.');
  say('| job | ATTUNE_THREADS | ffmpeg wall | ffmpeg CPU | libav wall | libav CPU |');
  say('|---|---|---|---|---|---|');
  for (const [name, job] of Object.entries(JOBS)) {
    for (const threads of [1, 2]) {
      const f = await speed(job, gen.clip, 'ffmpeg', threads);
      const l = await speed(job, gen.clip, 'libav', threads);
      say(
        `| ${name} | ${threads} | ${f.wall.toFixed(2)} | ${f.cpu.toFixed(2)} | ${l.wall.toFixed(2)} | ${l.cpu.toFixed(2)} |`,
      );
      Object.assign(figures, {
        [`${name}_ffmpeg_wall_s_t${threads}`]: f.wall,
        [`${name}_ffmpeg_cpu_s_t${threads}`]: f.cpu,
        [`${name}_libav_wall_s_t${threads}`]: l.wall,
        [`${name}_libav_cpu_s_t${threads}`]: l.cpu,
      });
    }
  }
  const cli = installMiB(['@ffmpeg-installer/ffmpeg', '@ffprobe-installer/ffprobe']);
  const lav = installMiB(['node-av']);
  const lavCore = installMiB(['node-av'], false);
  say('');
  say(`Install size: ffmpeg CLI ${cli.mib.toFixed(1)} MiB (${cli.packages.join(', ')})`);
  say(
    `Install size: libav ${lavCore.mib.toFixed(1)} MiB without node-av's optional extras (${lavCore.packages.join(', ')})`,
  );
  say(
    `Install size: libav ${lav.mib.toFixed(1)} MiB as npm installs it (${lav.packages.length} packages, werift etc.)`,
  );
  say(`node-av first load: ${loadMs.toFixed(0)} ms`);
  Object.assign(figures, {
    files: inputs.length,
    worst_audio_snr_db: worstSnr,
    audio_length_mismatches: sampleMismatches,
    video_frame_count_mismatches: frameMismatches,
    install_mib_ffmpeg_cli: cli.mib,
    install_mib_libav: lav.mib,
    install_mib_libav_core: lavCore.mib,
  });
  return { name: 'decode', figures, notes };
}
