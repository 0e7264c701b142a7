/**
 * `attune bench sync`: latency of `attune sync` (method auto) on 10 s of a 720p clip, decode included, without and
 * with face landmarks, split into its stages: probe + decode (25 fps 64x64 luma planes and 16 kHz audio, two ffmpeg
 * processes), loading the face models (TFJS -> ONNX conversion and ORT sessions, once per process), the face track
 * (a second decode at 480 px RGB, blazeface when the face is lost, facemesh on every frame) and the cues; CPU
 * seconds beside the wall times (node and its ffmpeg children: on a shared machine the wall time is mostly waiting
 * for a core), and the face track with the speed tricks that are not shipped (facemesh batches, no deblocking). The clip
 * is talkinghead_wav2lip-pr600.mov from the real clips (../shared/media/real or $ATTUNE_REAL_MEDIA) when present,
 * else a generated 720p30 test pattern without a face (the face path then costs only its five probe detections).
 * Targets (issue #9): <= 1 s without faces, <= 3 s with face landmarks, on 2 cores.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchReport } from './types.js';
import { runFfmpeg } from '../src/media/ffmpeg.js';
import { probe } from '../src/media/probe.js';
import { syncFile } from '../src/models/av_sync/analyze.js';
import { autoSync } from '../src/models/av_sync/auto.js';
import { decodeSyncClip, featuresOfShifted } from '../src/models/av_sync/decoded.js';
import { faceMesh, mouthTrackOf } from '../src/models/av_sync/face_track.js';
import { learnedCue, loadSyncModel, releaseSyncModel } from '../src/models/av_sync/infer.js';
import { shippedSyncModel } from '../src/models/av_sync/model_cue.js';
import { defaultRealDir } from '../src/models/av_sync/real_clips.js';

// This file runs as dist/bench/sync.js: the repository root is two levels up.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECONDS = 10;
const REAL_CLIP = 'talkinghead_wav2lip-pr600.mov';

async function input(): Promise<{ path: string; label: string }> {
  const real = join(defaultRealDir(), REAL_CLIP);
  if (existsSync(real)) return { path: real, label: `${REAL_CLIP} (1280x720, 30 fps, one face)` };
  const dir = join(ROOT, '.bench/sync');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'testsrc720p_10s.mp4');
  if (!existsSync(path)) {
    await runFfmpeg(
      [
        '-y',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=s=1280x720:r=30:d=${SECONDS}`,
        '-f',
        'lavfi',
        '-i',
        `sine=f=440:d=${SECONDS}`,
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-crf',
        '28',
        '-pix_fmt',
        'yuv420p',
        '-c:a',
        'aac',
        `${path}.tmp.mp4`,
      ],
      { file: path },
    );
    renameSync(`${path}.tmp.mp4`, path);
  }
  return { path, label: 'generated 720p30 test pattern (no face)' };
}

/**
 * CPU seconds used so far by this process (every thread, ORT's included) and by its finished children (the ffmpeg
 * decodes; Linux /proc/self/stat cutime + cstime at 100 ticks per second; elsewhere 0).
 */
export function cpuSplit(): { node: number; children: number } {
  const own = process.cpuUsage();
  let children = 0;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    children = (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    // Not Linux: children's CPU is not counted.
  }
  return { node: (own.user + own.system) / 1e6, children };
}

export function cpuSeconds(): number {
  const c = cpuSplit();
  return c.node + c.children;
}

/** Wall seconds of fn, and CPU seconds of this process and of the children (ffmpeg) it waited for. */
async function seconds(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number; node: number }> {
  const c0 = cpuSplit();
  const t0 = performance.now();
  await fn();
  const c1 = cpuSplit();
  const node = c1.node - c0.node;
  return { wall: (performance.now() - t0) / 1000, cpu: node + c1.children - c0.children, node };
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const notes: string[] = [];
  const say = (line: string): void => {
    notes.push(line);
    if (!opts.json) process.stdout.write(line + '\n');
  };
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const { path, label } = await input();
  const duration = opts.quick ? 4 : SECONDS;
  say(
    `sync bench: ${duration} s of ${label}; ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} (other work on the machine makes figures noisy)`,
  );
  const figures: BenchReport['figures'] = {};
  // Without faces, twice: the first run also pays for loading modules and warming ffmpeg's page cache.
  await syncFile(path, { duration });
  const plain = await syncFile(path, { duration });
  figures.no_faces_s = round(plain.timing.total);
  figures.no_faces_decode_s = round(plain.timing.decode);
  figures.load_average = round(loadavg()[0]);
  say(
    `  without faces: ${figures.no_faces_s} s (probe + decode ${figures.no_faces_decode_s} s, cues ${round(plain.timing.estimate)} s)  [target <= 1 s]`,
  );
  const info = await probe(path, { scanPackets: 0 });
  await learnedCost(path, duration, figures, say);
  figures.face_models_load_s = round((await seconds(() => faceMesh())).wall);
  const clip = await decodeSyncClip(path, { duration, info });
  let track: Awaited<ReturnType<typeof mouthTrackOf>>;
  const tracking = await seconds(async () => (track = await mouthTrackOf(clip)));
  figures.face_track_s = round(tracking.wall);
  figures.face_track_cpu_s = round(tracking.cpu);
  figures.face_track_node_cpu_s = round(tracking.node);
  const found = track?.mask.reduce((n, m) => n + m, 0) ?? 0;
  figures.face_ms_per_frame = round((1000 * Number(figures.face_track_s)) / clip.planes.length);
  figures.cues_s = round((await seconds(async () => autoSync(featuresOfShifted(clip, 0), { mouth: track }))).wall);
  let faces: Awaited<ReturnType<typeof syncFile>> | undefined;
  const end = await seconds(
    async () => (faces = await syncFile(path, { duration, mouthTrack: (c) => mouthTrackOf(c) })),
  );
  figures.with_faces_s = round(faces!.timing.total);
  figures.with_faces_cpu_s = round(end.cpu);
  // The speed tricks that are not shipped (attune bench sync-lips: no accuracy gain to pay for them), timed here.
  const fast = await seconds(() => mouthTrackOf(clip, { batch: 4, skipLoopFilter: true }));
  figures.face_track_batch4_nodeblock_s = round(fast.wall);
  figures.face_track_batch4_nodeblock_cpu_s = round(fast.cpu);
  figures.face_track_batch4_nodeblock_node_cpu_s = round(fast.node);
  say(`  face models: ${figures.face_models_load_s} s to convert and load (once per process)`);
  say(
    `  face track: ${figures.face_track_s} s for ${clip.planes.length} frames (${figures.face_ms_per_frame} ms per frame; face on ${found}); CPU ${figures.face_track_cpu_s} s (node ${figures.face_track_node_cpu_s} s + ffmpeg); cues ${figures.cues_s} s`,
  );
  say(
    `  face track with facemesh in batches of 4 and no deblocking (not shipped): ${figures.face_track_batch4_nodeblock_s} s, CPU ${figures.face_track_batch4_nodeblock_cpu_s} s (node ${figures.face_track_batch4_nodeblock_node_cpu_s} s)`,
  );
  say(
    `  with faces: ${figures.with_faces_s} s end to end, CPU ${figures.with_faces_cpu_s} s (node + ffmpeg), models already loaded (${figures.with_faces_s} + ${figures.face_models_load_s} s in a fresh process)  [target <= 3 s on 2 cores]`,
  );
  return { name: 'sync', figures, notes };
}

/**
 * What the shipped learned cue (`--learned`) adds to the no-faces path: loading weights/av-sync and building its ORT
 * session (once per process), then the model on the clip's windows. Decides whether it may run by default (<= 1 s
 * without faces in all).
 */
async function learnedCost(
  path: string,
  duration: number,
  figures: BenchReport['figures'],
  say: (line: string) => void,
): Promise<void> {
  const dir = shippedSyncModel();
  if (!dir) return say('  learned cue: no weights/av-sync in this installation');
  const f = featuresOfShifted(await decodeSyncClip(path, { duration }), 0);
  let model!: ReturnType<typeof loadSyncModel>;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const first = await seconds(() => learnedCue(f, (model = loadSyncModel(dir))));
  const again = await seconds(() => learnedCue(f, model));
  await releaseSyncModel(model);
  figures.learned_first_s = round(first.wall);
  figures.learned_first_cpu_s = round(first.cpu);
  figures.learned_s = round(again.wall);
  figures.learned_cpu_s = round(again.cpu);
  say(
    `  learned cue (--learned): ${figures.learned_first_s} s the first time in a process (session build; CPU ${figures.learned_first_cpu_s} s), ${figures.learned_s} s after (CPU ${figures.learned_cpu_s} s); without faces with it: ${round(Number(figures.no_faces_s) + first.wall)} s  [target <= 1 s]`,
  );
}
