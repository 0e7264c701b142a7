/**
 * `attune bench sync-lips`: what each speed trick of the face path and each choice of the lip cue does to its
 * accuracy at frame resolution, on the development talking heads (real:dev, never the held-out part): per variant,
 * the lip cue alone (its integer best lag at 25 Hz) within one frame of the known shift, over every dev talking-head
 * clip x the 7 shifts of `attune sync --bench`, plus the CPU seconds the face tracks took (this process and the
 * ffmpeg decodes it waited for). --quick: the GRID clips only.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions, BenchReport } from './types.js';
import { cpuSeconds } from './sync.js';
import { decodeSyncClip, featuresOfShifted } from '../src/models/av_sync/decoded.js';
import { faceMesh, mouthTrackOf, type FaceTrackOptions } from '../src/models/av_sync/face_track.js';
import { curveStats } from '../src/models/av_sync/lag_curve.js';
import { CHANGE_WEIGHT, mouthCue } from '../src/models/av_sync/mouth_cue.js';
import { REAL_SHIFTS, realBenchClips } from '../src/models/av_sync/real_bench.js';
import { defaultRealDir } from '../src/models/av_sync/real_clips.js';
import { SYNC_RATE } from '../src/models/av_sync/features.js';

interface Variant {
  name: string;
  track: FaceTrackOptions;
  changeWeight: number;
}

const SHIPPED: FaceTrackOptions = {};
const VARIANTS: Variant[] = [
  { name: 'shipped (batch 1, deblocking, 480 px, levels)', track: SHIPPED, changeWeight: CHANGE_WEIGHT },
  { name: 'levels + 0.25 x change curve', track: SHIPPED, changeWeight: 0.25 },
  { name: 'levels + 0.5 x change curve', track: SHIPPED, changeWeight: 0.5 },
  { name: 'facemesh in batches of 4', track: { batch: 4 }, changeWeight: CHANGE_WEIGHT },
  { name: 'no deblocking', track: { skipLoopFilter: true }, changeWeight: CHANGE_WEIGHT },
  { name: 'decode at 320 px', track: { side: 320 }, changeWeight: CHANGE_WEIGHT },
];

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const dir = defaultRealDir();
  const clips = realBenchClips(dir, 'dev').filter(
    (c) => c.category === 'talking head' && (!opts.quick || c.file.includes('_grid-')),
  );
  const notes: string[] = [];
  const say = (line: string): void => {
    notes.push(line);
    if (!opts.json) process.stdout.write(line + '\n');
  };
  say(
    `sync-lips bench: ${clips.length} dev talking-head clips x ${REAL_SHIFTS.length} shifts; load ${loadavg()[0].toFixed(1)}`,
  );
  await faceMesh();
  const hits = VARIANTS.map(() => ({ within: 0, cases: 0, grid: 0, gridCases: 0, cpu: 0 }));
  for (const c of clips) {
    const clip = await decodeSyncClip(join(dir, c.file));
    const features = REAL_SHIFTS.map((s) => featuresOfShifted(clip, s));
    const tracks = new Map<FaceTrackOptions, Awaited<ReturnType<typeof mouthTrackOf>>>();
    for (const [v, variant] of VARIANTS.entries()) {
      if (!tracks.has(variant.track)) {
        const c0 = cpuSeconds();
        tracks.set(variant.track, await mouthTrackOf(clip, variant.track));
        hits[v].cpu += cpuSeconds() - c0;
      }
      const track = tracks.get(variant.track);
      REAL_SHIFTS.forEach((shift, k) => {
        const cue = track && mouthCue(features[k], track, variant.changeWeight);
        const ok = cue ? Math.abs(curveStats(cue.curve, cue.mask).best - shift * SYNC_RATE) <= 1 : false;
        hits[v].cases++;
        hits[v].within += Number(ok);
        if (c.file.includes('_grid-')) {
          hits[v].gridCases++;
          hits[v].grid += Number(ok);
        }
      });
    }
  }
  const figures: BenchReport['figures'] = {};
  VARIANTS.forEach((variant, v) => {
    const h = hits[v];
    const cpu = h.cpu > 0 ? `, face tracks ${h.cpu.toFixed(1)} s CPU` : '';
    say(
      `  ${variant.name.padEnd(42)} within 1 frame ${h.within} / ${h.cases} (${((100 * h.within) / h.cases).toFixed(1)} %), GRID ${h.grid} / ${h.gridCases}${cpu}`,
    );
    figures[`within_frame_${v}`] = h.within / h.cases;
  });
  return { name: 'sync-lips', figures, notes };
}
