/**
 * `attune bench sync-lips`: the lip cue at frame resolution on the development talking heads (real:dev, never the
 * held-out part): per variant, the lip cue alone (its integer best lag at 25 Hz) within one frame of the known
 * shift, over every dev talking-head clip x the 7 shifts of `attune sync --bench`, plus the CPU seconds the face
 * tracks took, and the lip cue's calibration (the shipped mouth row, and one refitted on the variant's dev cases).
 * Variants: the hand cue alone, with the change curve, with the speaking face of several, and the learned lip net
 * (lip_net.ts) **cross-fitted** (clip i of the list is measured by a net trained on the clips of the other
 * parity, so no clip is measured by a net that saw it). Last, the net trained on every dev talking head where one
 * face was found is written to runs/lip-sync/ (what weights/lip-sync/ ships; copy it there), and the two fold nets
 * to runs/lip-sync-fold0/ and -fold1/ (the dev calibration fit of the lip cue reads them). --quick: the GRID
 * clips only. (The face path's speed tricks, FaceTrackOptions batch / skipLoopFilter / side, were measured here
 * before, docs/sync.md, and left out since: each costs a face-track pass of every clip.)
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions, BenchReport } from './types.js';
import { cpuSeconds } from './sync.js';
import { decodeSyncClip, featuresOfShifted } from '../src/models/av_sync/decoded.js';
import type { SyncFeatures } from '../src/models/av_sync/features.js';
import { faceMesh, mouthTracksOf, speakingTrack, type FaceTrackOptions } from '../src/models/av_sync/face_track.js';
import {
  CALIBRATION,
  DEFAULT_MIN_CONFIDENCE,
  calibratedConfidence,
  calibrationInputs,
  fitCalibrationWeights,
} from '../src/models/av_sync/calibration.js';
import { curveStats, type CurveStats } from '../src/models/av_sync/lag_curve.js';
import { expectedCalibrationError } from '../src/models/av_sync/result.js';
import { saveLipWeights, type LipWeights } from '../src/models/av_sync/lip_cue.js';
import { LIP_NET_DEFAULT } from '../src/models/av_sync/lip_net.js';
import { LIP_TRAIN_DEFAULT, lipTrainClip, trainLipNet } from '../src/models/av_sync/lip_train.js';
import { mouthCue, type MouthCueOptions, type MouthTrack } from '../src/models/av_sync/mouth_cue.js';
import { REAL_SHIFTS, realBenchClips } from '../src/models/av_sync/real_bench.js';
import { defaultRealDir } from '../src/models/av_sync/real_clips.js';
import { SYNC_RATE } from '../src/models/av_sync/features.js';

/** Where the bench writes the lip net trained on all dev talking heads. */
export const LIP_RUN_DIR = 'runs/lip-sync';

interface Variant {
  name: string;
  track: FaceTrackOptions;
  /** Cue options; `fold` means the cross-fitted lip net of the clip's fold. */
  cue: MouthCueOptions | 'fold';
}

const SHIPPED: FaceTrackOptions = {};
const SPEAKING: FaceTrackOptions = { faces: 4 };
const HAND: MouthCueOptions = { lipNet: null };
const VARIANTS: Variant[] = [
  { name: 'hand cue (levels)', track: SHIPPED, cue: HAND },
  { name: 'hand + learned lip net (cross-fitted)', track: SHIPPED, cue: 'fold' },
  { name: 'hand + 0.25 x change curve', track: SHIPPED, cue: { ...HAND, changeWeight: 0.25 } },
  { name: 'hand, speaking face of up to 4', track: SPEAKING, cue: HAND },
  { name: 'hand + learned, speaking face of up to 4', track: SPEAKING, cue: 'fold' },
];

interface BenchClip {
  file: string;
  features: SyncFeatures[];
  tracks: Map<FaceTrackOptions, MouthTrack | undefined>;
  faces: number;
}

async function trainOn(clips: BenchClip[], seed = LIP_TRAIN_DEFAULT.seed): Promise<LipWeights> {
  const usable = clips.filter((c) => c.faces === 1 && c.tracks.get(SHIPPED));
  const data = usable.map((c) => lipTrainClip(c.file, c.tracks.get(SHIPPED)!, c.features[REAL_SHIFTS.indexOf(0)]));
  const cfg = LIP_NET_DEFAULT;
  const r = await trainLipNet(data, { ...LIP_TRAIN_DEFAULT, cfg, seed });
  return { cfg, params: r.params };
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const dir = defaultRealDir();
  const list = realBenchClips(dir, 'dev').filter(
    (c) => c.category === 'talking head' && (!opts.quick || c.file.includes('_grid-')),
  );
  const variants = VARIANTS;
  const notes: string[] = [];
  const say = (line: string): void => {
    notes.push(line);
    if (!opts.json) process.stdout.write(line + '\n');
  };
  say(
    `sync-lips bench: ${list.length} dev talking-head clips x ${REAL_SHIFTS.length} shifts; load ${loadavg()[0].toFixed(1)}`,
  );
  await faceMesh();
  const cpu = new Map<FaceTrackOptions, number>();
  const clips: BenchClip[] = [];
  for (const c of list) {
    const clip = await decodeSyncClip(join(dir, c.file));
    const tracks = new Map<FaceTrackOptions, MouthTrack | undefined>();
    let faces = 0;
    for (const v of variants) {
      if (tracks.has(v.track)) continue;
      const c0 = cpuSeconds();
      const all = await mouthTracksOf(clip, v.track);
      cpu.set(v.track, (cpu.get(v.track) ?? 0) + cpuSeconds() - c0);
      tracks.set(v.track, speakingTrack(clip, all));
      faces = Math.max(faces, all.length);
    }
    clips.push({ file: c.file, features: REAL_SHIFTS.map((s) => featuresOfShifted(clip, s)), tracks, faces });
  }
  // Two fold nets, each trained on the clips of the other parity (lipFold in real_bench.ts); written for the dev
  // calibration fit of the lip cue's agreement (attune sync --bench real:dev --fold-lip-nets ...).
  const folds = [0, 1].map((k) => trainOn(clips.filter((_, i) => i % 2 !== k)));
  const foldNets = await Promise.all(folds);
  if (!opts.quick)
    foldNets.forEach((net, k) =>
      saveLipWeights(`${LIP_RUN_DIR}-fold${k}`, net, {
        fold: k,
        trainedOn: clips.filter((c, i) => i % 2 !== k && c.faces === 1).map((c) => c.file),
        ...LIP_TRAIN_DEFAULT,
        command: 'attune bench sync-lips',
      }),
    );
  const figures: BenchReport['figures'] = {};
  for (const [v, variant] of variants.entries()) {
    let within = 0,
      cases = 0,
      grid = 0,
      gridCases = 0;
    const measured: { stats: CurveStats; close: boolean }[] = [];
    clips.forEach((c, i) => {
      const track = c.tracks.get(variant.track);
      const cueOpts = variant.cue === 'fold' ? { lipNet: foldNets[i % 2], learnedWeight: 1 } : variant.cue;
      REAL_SHIFTS.forEach((shift, k) => {
        const cue = track && mouthCue(c.features[k], track, cueOpts);
        const stats = cue && curveStats(cue.curve, cue.mask);
        const ok = stats ? Math.abs(stats.best - shift * SYNC_RATE) <= 1 : false;
        if (stats) measured.push({ stats, close: Math.abs(stats.refined / SYNC_RATE - shift) <= 0.2 });
        cases++;
        within += Number(ok);
        if (c.file.includes('_grid-')) {
          gridCases++;
          grid += Number(ok);
        }
      });
    });
    const first = variants.findIndex((x) => x.track === variant.track) === v;
    const trackCpu = first ? `, face tracks ${cpu.get(variant.track)!.toFixed(1)} s CPU` : '';
    say(
      `  ${variant.name.padEnd(40)} within 1 frame ${within} / ${cases} (${((100 * within) / cases).toFixed(1)} %), GRID ${grid} / ${gridCases}${trackCpu}`,
    );
    // The lip cue's confidence with the shipped mouth row, and with a row refitted on this variant's dev cases.
    const refit = fitCalibrationWeights(
      measured.map((m) => calibrationInputs(m.stats)),
      measured.map((m) => Number(m.close)),
    ).map((w) => Math.round(w * 1e4) / 1e4);
    for (const [label, row] of [
      ['shipped mouth row', CALIBRATION.mouth],
      [`refitted [${refit.join(', ')}]`, refit],
    ] as const) {
      const conf = measured.map((m) => calibratedConfidence(m.stats, 'mouth', row));
      const answered = measured.filter((_, j) => conf[j] >= DEFAULT_MIN_CONFIDENCE);
      const wrong = answered.filter((m) => !m.close).length;
      const ece = expectedCalibrationError(
        conf,
        measured.map((m) => m.close),
      );
      say(
        `    ${label}: at ${DEFAULT_MIN_CONFIDENCE} ${answered.length} answered, ${wrong} wrong; ECE ${ece.toFixed(3)}`,
      );
    }
    figures[`within_frame_${v}`] = within / cases;
  }
  if (!opts.quick) {
    const net = await trainOn(clips);
    const trainedOn = clips.filter((c) => c.faces === 1).map((c) => c.file);
    saveLipWeights(LIP_RUN_DIR, net, { trainedOn, ...LIP_TRAIN_DEFAULT, command: 'attune bench sync-lips' });
    say(
      `  lip net trained on ${trainedOn.length} one-face dev talking heads -> ${LIP_RUN_DIR}/ (weights/lip-sync/ ships it)`,
    );
  }
  return { name: 'sync-lips', figures, notes };
}
