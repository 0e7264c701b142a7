import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { syncExample } from '../../data/synth/clip.js';
import { syncSynthConfig } from './data.js';
import { featuresFromClip, type SyncFeatures } from './features.js';
import { fixSync } from './fix.js';
import { modelSync, type SyncModel } from './infer.js';
import { syncFile } from './analyze.js';
import { SYNC_CLASSES, argmaxOf, expectedCalibrationError, type SyncEstimate } from './result.js';
import { xcorrSync } from './xcorr.js';

/**
 * Sync evaluations behind `attune sync --bench synth:N` and `attune sync VIDEO --shifts ...`:
 * - synth: fresh AV-Synth clips (a synth seed no training run uses) rendered with their audio shifted by every
 *   grid offset in turn, the central 4.8 s window analysed by xcorr and (when given) the model;
 * - shifts: copies of a real video with its audio moved by known amounts (ffmpeg, stream copy), analysed by both.
 */
export interface MethodScore {
  n: number;
  acc1: number;
  accWithin1: number;
  /** Fraction judged synchronizable, and acc@1 among those. */
  synchronizable: number;
  acc1Synchronizable: number;
  ece: number;
  meanConfidence: number;
}

export interface SynthBenchResult {
  clips: number;
  windows: number;
  seed: number;
  xcorr: MethodScore;
  model?: MethodScore;
  seconds: number;
}

function score(pairs: { e: SyncEstimate; label: number }[]): MethodScore {
  let exact = 0,
    near = 0,
    sync = 0,
    syncExact = 0;
  const conf: number[] = [];
  const correct: boolean[] = [];
  for (const { e, label } of pairs) {
    const k = argmaxOf(e.probs);
    if (k === label) exact++;
    if (Math.abs(k - label) <= 1) near++;
    if (e.synchronizable) {
      sync++;
      if (k === label) syncExact++;
    }
    conf.push(e.probs[k]);
    correct.push(k === label);
  }
  const n = pairs.length;
  return {
    n,
    acc1: exact / n,
    accWithin1: near / n,
    synchronizable: sync / n,
    acc1Synchronizable: sync ? syncExact / sync : NaN,
    ece: expectedCalibrationError(conf, correct),
    meanConfidence: conf.reduce((a, b) => a + b, 0) / n,
  };
}

/** The central `window` frames of a feature set. */
export function centralWindow(f: SyncFeatures, window: number): SyncFeatures {
  const t0 = Math.max(0, Math.floor((f.frames - window) / 2));
  const n = Math.min(window, f.frames);
  const rows = (x: Float32Array, d: number) => x.slice(t0 * d, (t0 + n) * d);
  return {
    rate: f.rate,
    frames: n,
    audio: rows(f.audio, f.audio.length / f.frames),
    video: rows(f.video, f.video.length / f.frames),
    onset: rows(f.onset, 1),
    motion: rows(f.motion, 1),
    motionOnset: rows(f.motionOnset, 1),
    mask: f.mask.slice(t0, t0 + n),
  };
}

export async function benchSynth(opts: {
  clips: number;
  seed?: number;
  model?: SyncModel;
  progress?: (done: number, total: number) => void;
}): Promise<SynthBenchResult> {
  const t0 = performance.now();
  const seed = opts.seed ?? 1234;
  const cfg = syncSynthConfig({ seed, seconds: 9, size: 64, classes: 8, noise: 0.02 });
  const window = opts.model?.window ?? 120;
  const xs: { e: SyncEstimate; label: number }[] = [];
  const ms: { e: SyncEstimate; label: number }[] = [];
  const total = opts.clips * SYNC_CLASSES;
  for (let i = 0; i < opts.clips; i++) {
    for (let label = 0; label < SYNC_CLASSES; label++) {
      const f = centralWindow(featuresFromClip(syncExample(cfg, i, label)), window);
      xs.push({ e: xcorrSync(f, { minFrames: window }), label });
      if (opts.model) ms.push({ e: await modelSync(f, opts.model), label });
      opts.progress?.(i * SYNC_CLASSES + label + 1, total);
    }
  }
  return {
    clips: opts.clips,
    windows: xs.length,
    seed,
    xcorr: score(xs),
    ...(opts.model ? { model: score(ms) } : {}),
    seconds: (performance.now() - t0) / 1000,
  };
}

export interface ShiftRow {
  shift: number;
  xcorr: Pick<SyncEstimate, 'offset' | 'lag' | 'confidence' | 'synchronizability' | 'synchronizable' | 'reason'>;
  model?: ShiftRow['xcorr'];
}

export interface ShiftBenchResult {
  file: string;
  rows: ShiftRow[];
  /** Per method: shifts measured within 0.1 s of the truth, judged not synchronizable, and confidently wrong. */
  summary: Record<string, { right: number; notSynchronizable: number; wrong: number }>;
}

const brief = (e: SyncEstimate): ShiftRow['xcorr'] => ({
  offset: e.offset,
  lag: e.lag,
  confidence: e.confidence,
  synchronizability: e.synchronizability,
  synchronizable: e.synchronizable,
  reason: e.reason,
});

/** Copies of `file` with the audio moved by each shift (positive = audio late), analysed by xcorr and the model. */
export async function benchShifts(
  file: string,
  shifts: number[],
  opts: { model?: SyncModel } = {},
): Promise<ShiftBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'attune-sync-shifts-'));
  try {
    const rows: ShiftRow[] = [];
    for (const shift of shifts) {
      const copy = join(dir, `${basename(file, extname(file))}_s${shift}${extname(file) || '.mp4'}`);
      await fixSync(file, copy, -shift); // fixSync moves the audio by -offset
      const x = await syncFile(copy, { method: 'xcorr' });
      const m = opts.model ? await syncFile(copy, { method: 'model', model: opts.model }) : undefined;
      rows.push({ shift, xcorr: brief(x), ...(m ? { model: brief(m) } : {}) });
    }
    const summary: ShiftBenchResult['summary'] = {};
    for (const method of ['xcorr', 'model'] as const) {
      if (method === 'model' && !opts.model) continue;
      const s = { right: 0, notSynchronizable: 0, wrong: 0 };
      for (const r of rows) {
        const e = r[method]!;
        if (!e.synchronizable) s.notSynchronizable++;
        else if (Math.abs((e.offset ?? NaN) - r.shift) <= 0.1 + 1e-9) s.right++;
        else s.wrong++;
      }
      summary[method] = s;
    }
    return { file, rows, summary };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
