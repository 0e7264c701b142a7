/**
 * `sync` over many files. A file is analysed whole: cut into `segment`-second windows (equal parts of at least
 * `segment` seconds; a file shorter than two segments is one window), each with its own offset, confidence and
 * synchronizability, plus the file's overall estimate. A one-window file gives exactly what `attune sync FILE` says.
 */
import { probe } from '../../media/probe.js';
import { loadSyncModel, releaseSyncModel, type SyncModel } from '../../models/av_sync/infer.js';
import { syncFile, type SyncFileResult } from '../../models/av_sync/analyze.js';
import { mouthTrackOf } from '../../models/av_sync/face_track.js';
import { SYNC_GRID, argmaxOf } from '../../models/av_sync/result.js';
import { InputError } from '../../util/errors.js';
import { runIdentity } from '../identity.js';
import type { KindSubmitter } from '../submit.js';
import type { JobItem, JobKind, JobOk } from '../types.js';

export interface SyncJobOptions {
  method: 'model' | 'xcorr' | 'auto';
  /** auto: track faces for the lip cue (--no-faces turns it off) */
  faces: boolean;
  model?: string;
  /** seconds per analysed window (default 60) */
  segment?: number;
}

export const DEFAULT_SEGMENT = 60;

interface Ctx {
  opts: SyncJobOptions;
  model?: SyncModel;
}

export function syncOptions(o: Record<string, unknown>): SyncJobOptions {
  const method = o.method ?? (o.model ? 'model' : 'auto');
  if (method !== 'model' && method !== 'xcorr' && method !== 'auto')
    throw new InputError(`--method expects auto, model or xcorr, got "${String(method)}"`, { field: '--method' });
  if (method === 'model' && typeof o.model !== 'string')
    throw new InputError('--method model needs --model DIR', { field: '--model' });
  const segment = o.segment === undefined ? DEFAULT_SEGMENT : Number(o.segment);
  if (!Number.isFinite(segment) || segment < 5)
    throw new InputError(`--segment expects seconds >= 5, got "${String(o.segment)}"`, { field: '--segment' });
  return { method, faces: o.faces !== false, model: method === 'model' ? (o.model as string) : undefined, segment };
}

/** What keys a result besides the file: method, window length and the model's identity (weights, config, temperature). */
export async function syncIdentity(o: Record<string, unknown>): Promise<unknown> {
  const opts = syncOptions(o);
  return {
    method: opts.method,
    faces: opts.method === 'auto' ? opts.faces : undefined,
    segment: opts.segment,
    model: opts.model ? await runIdentity(opts.model, ['av-sync']) : null,
    version: 1,
  };
}

type Estimate = Omit<SyncFileResult, 'file' | 'timing'>;

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;

function brief(e: Estimate): Record<string, unknown> {
  return {
    offset: e.offset,
    lag: e.lag,
    confidence: r4(e.confidence),
    synchronizability: r4(e.synchronizability),
    synchronizable: e.synchronizable,
    ...(e.reason !== undefined ? { reason: e.reason } : {}),
    windows: e.windows,
  };
}

/** Windows of a range: n equal parts of at least `segment` seconds (n >= 1). */
export function segmentRanges(start: number, duration: number, segment: number): { start: number; duration: number }[] {
  const n = Math.max(1, Math.floor(duration / segment));
  return Array.from({ length: n }, (_, i) => ({ start: start + (i * duration) / n, duration: duration / n }));
}

/** The file's estimate from its windows': class probabilities averaged over synchronizable windows (weighted by window count). */
export function combineSegments(segs: { start: number; duration: number; e: Estimate }[]): Record<string, unknown> {
  const windows = segs.reduce((s, x) => s + x.e.windows, 0);
  const wsum = Math.max(1e-9, windows);
  const synchronizability = segs.reduce((s, x) => s + x.e.windows * x.e.synchronizability, 0) / wsum;
  const good = segs.filter((x) => x.e.synchronizable && x.e.offset !== null);
  const perSegment = segs.map((x) => ({ start: r4(x.start), end: r4(x.start + x.duration), ...brief(x.e) }));
  if (good.length === 0) {
    return {
      offset: null,
      lag: 0,
      confidence: r4(Math.max(...segs.map((x) => x.e.confidence))),
      synchronizability: r4(synchronizability),
      synchronizable: false,
      reason: segs[0].e.reason ?? 'no window is synchronizable',
      windows,
      synchronizableSegments: 0,
      segments: perSegment,
    };
  }
  const probs = new Array<number>(SYNC_GRID.length).fill(0);
  const gw = good.reduce((s, x) => s + Math.max(1, x.e.windows), 0);
  for (const x of good) x.e.probs.forEach((p, k) => (probs[k] += (Math.max(1, x.e.windows) * p) / gw));
  const k = argmaxOf(probs);
  const offsets = good.map((x) => x.e.offset as number);
  return {
    offset: SYNC_GRID[k],
    lag: r4(good.reduce((s, x) => s + Math.max(1, x.e.windows) * x.e.lag, 0) / gw),
    confidence: r4(probs[k]),
    synchronizability: r4(synchronizability),
    synchronizable: true,
    windows,
    synchronizableSegments: good.length,
    drift: r4(Math.max(...offsets) - Math.min(...offsets)),
    probs: probs.map(r4),
    segments: perSegment,
  };
}

export const syncKind: JobKind<Ctx> = {
  name: 'sync',
  async open(o) {
    const opts = syncOptions(o);
    return { opts, model: opts.method === 'model' ? loadSyncModel(opts.model!) : undefined };
  },
  async run(ctx, item: JobItem): Promise<JobOk> {
    const { method, segment } = ctx.opts;
    const cues = {
      method,
      model: ctx.model,
      mouthTrack: method === 'auto' && ctx.opts.faces ? mouthTrackOf : undefined,
    };
    const file = item.video ?? item.path;
    const t0 = item.start ?? 0;
    const info = await probe(file, { scanPackets: 0 });
    const span = (item.end !== undefined ? item.end : info.duration) - t0;
    const ranges = segmentRanges(t0, span, segment ?? DEFAULT_SEGMENT);
    const base = { method, duration: r4(Math.max(0, span)) };
    if (ranges.length === 1) {
      // One window: the very call `attune sync FILE [--start --duration]` makes.
      const range =
        item.start !== undefined || item.end !== undefined
          ? { start: item.start, duration: item.end !== undefined ? span : undefined }
          : {};
      const e = await syncFile(file, { ...cues, ...range });
      return { status: 'ok', record: { ...base, ...brief(e), probs: e.probs.map(r4) } };
    }
    const segs: { start: number; duration: number; e: Estimate }[] = [];
    for (const r of ranges)
      segs.push({ ...r, e: await syncFile(file, { ...cues, start: r.start, duration: r.duration }) });
    return { status: 'ok', record: { ...base, ...combineSegments(segs) } };
  },
  async close(ctx) {
    if (ctx.model) await releaseSyncModel(ctx.model);
  },
};

export const syncSubmitter: KindSubmitter = {
  async prepare(ctx) {
    return {
      identity: await syncIdentity(ctx.options),
      columns: [
        'offset',
        'lag',
        'confidence',
        'synchronizability',
        'synchronizable',
        'reason',
        'windows',
        'duration',
        'synchronizableSegments',
        'drift',
      ],
    };
  },
};
