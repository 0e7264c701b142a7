import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { formatBatchSummary, runBatch, type BatchFailure } from './batch.js';
import { FeatureCache, type FeatureSet } from './cache.js';
import { readManifest, type ManifestItem } from './manifest.js';
import { outputNames } from './names.js';
import type { HostArray } from '../io/array.js';
import { saveNpy } from '../io/npy.js';
import { saveSafetensors } from '../io/safetensors.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { extractFeatures, getPreset, streamsToTensors, tensorsToStreams } from '../media/features.js';
import type { FeaturePreset } from '../media/presets.js';
import type { Stream } from '../timeline/timeline.js';

/**
 * `attune features`: one media file, or every item of a manifest (.jsonl), through a preset. Manifest runs go
 * through the feature cache (keyed by file content + preset settings) and the batch runner: a bad item is recorded
 * and the job goes on. Each item is written as <out>/<id>.safetensors (or <out>/<id>/<stream>.npy + streams.json),
 * and <out>/features.json lists items, failures and the preset settings.
 */
export interface FeatureJobOptions {
  input: string;
  preset: string;
  out: string;
  format?: 'safetensors' | 'npy';
  /** Feature cache folder (default <out>/cache). */
  cacheDir?: string;
  concurrency?: number;
  start?: number;
  duration?: number;
  strict?: boolean;
  threads?: number;
  quiet?: boolean;
}

export interface FeatureJobSummary {
  input: string;
  preset: string;
  out: string;
  total: number;
  succeeded: number;
  failed: BatchFailure[];
  cacheHits: number;
  seconds: number;
  items: {
    id: string;
    file: string;
    streams: Record<string, { frames: number; dim: number; rate: number; start: number }>;
    missing: string[];
  }[];
}

/** Bump when feature code changes in a way that changes values, so cached entries are recomputed. */
export const FEATURE_VERSION = 1;

/**
 * Writes one item's streams as <dir>/<name>.safetensors, or <dir>/<name>/<stream>.npy + streams.json. `name` comes
 * from outputNames (src/data/names.ts): readable, and distinct for distinct ids.
 */
export function writeItem(
  dir: string,
  name: string,
  streams: Record<string, Stream>,
  format: 'safetensors' | 'npy',
  meta: Record<string, string>,
): string {
  if (format === 'safetensors') {
    const path = join(dir, `${name}.safetensors`);
    saveSafetensors(path, streamsToTensors(streams), meta);
    return path;
  }
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  const timing: Record<string, { rate: number; start: number; frames: number; dim: number }> = {};
  for (const [s, v] of Object.entries(streams)) {
    saveNpy(join(folder, `${s}.npy`), { dtype: 'float32', shape: [v.frames, v.dim], data: v.data });
    timing[s] = { rate: v.rate, start: v.start, frames: v.frames, dim: v.dim };
  }
  writeJsonAtomic(join(folder, 'streams.json'), { ...meta, streams: timing });
  return folder;
}

export function describeStreams(streams: Record<string, Stream>): FeatureJobSummary['items'][number]['streams'] {
  return Object.fromEntries(
    Object.entries(streams).map(([k, s]) => [k, { frames: s.frames, dim: s.dim, rate: s.rate, start: s.start }]),
  );
}

/** Splits a preset into its audio part and its visual part (for items with separate audio and video files). */
function splitPreset(p: FeaturePreset): { audio: FeaturePreset; visual: FeaturePreset } {
  return { audio: { ...p, video: undefined, face: undefined }, visual: { ...p, audio: undefined } };
}

/** Modalities a preset asks for that have no stream (works for cached entries too). */
export function missingModalities(p: FeaturePreset, streams: Record<string, Stream>): string[] {
  const has = (prefix: string): boolean => Object.keys(streams).some((k) => k.startsWith(prefix));
  const missing: string[] = [];
  if (p.audio && !has('audio.')) missing.push('audio');
  if ((p.video && !has('video.')) || (p.face && !has('face.'))) missing.push('video');
  return missing;
}

export async function extractItem(
  item: Pick<ManifestItem, 'video' | 'audio' | 'start' | 'end'>,
  preset: FeaturePreset,
  opts: Pick<FeatureJobOptions, 'start' | 'duration' | 'strict' | 'threads'>,
): Promise<{ set: FeatureSet; missing: string[] }> {
  const range = {
    start: item.start ?? opts.start,
    duration: item.end !== undefined ? item.end - (item.start ?? 0) : opts.duration,
    strict: opts.strict,
    threads: opts.threads,
  };
  const streams: Record<string, Stream> = {};
  const missing: string[] = [];
  const parts: [string, FeaturePreset][] =
    item.video && item.audio && item.video !== item.audio
      ? [
          [item.video, splitPreset(preset).visual],
          [item.audio, splitPreset(preset).audio],
        ]
      : [[(item.video ?? item.audio)!, preset]];
  for (const [file, p] of parts) {
    if (!p.audio && !p.video && !p.face) continue;
    const r = await extractFeatures(file, p, range);
    Object.assign(streams, r.streams);
    missing.push(...r.missing);
  }
  return { set: streamsToTensors(streams), missing };
}

export async function runFeatureJob(opts: FeatureJobOptions): Promise<FeatureJobSummary> {
  // A job that fails outright leaves no empty --out behind (a folder that existed before is left alone).
  const out = resolve(opts.out);
  const existed = existsSync(out);
  try {
    return await featureJob(opts, out);
  } catch (err) {
    if (!existed) removeIfEmpty(out);
    throw err;
  }
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // not there, or not empty
  }
}

async function featureJob(opts: FeatureJobOptions, out: string): Promise<FeatureJobSummary> {
  const t0 = Date.now();
  const preset = getPreset(opts.preset);
  const format = opts.format ?? 'safetensors';
  const meta = { format: 'attune-features', preset: preset.name, version: String(FEATURE_VERSION) };
  const isManifest = /\.jsonl?$/i.test(opts.input);

  if (!isManifest) {
    const r = await extractFeatures(opts.input, preset, {
      start: opts.start,
      duration: opts.duration,
      strict: opts.strict,
      threads: opts.threads,
    });
    const id = basename(opts.input, extname(opts.input));
    mkdirSync(out, { recursive: true });
    const file = writeItem(out, outputNames([id]).get(id)!, r.streams, format, {
      ...meta,
      source: resolve(opts.input),
    });
    const summary: FeatureJobSummary = {
      input: opts.input,
      preset: preset.name,
      out,
      total: 1,
      succeeded: 1,
      failed: [],
      cacheHits: 0,
      seconds: (Date.now() - t0) / 1000,
      items: [{ id, file, streams: describeStreams(r.streams), missing: r.missing }],
    };
    writeJsonAtomic(join(out, 'features.json'), { ...summary, settings: preset });
    return summary;
  }

  const manifest = readManifest(opts.input, { allowErrors: true });
  const lineFailures: BatchFailure[] = manifest.errors.map((e) => ({
    index: -1,
    id: `${basename(e.file)}:${e.line}`,
    error: `${e.field ? `field '${e.field}': ` : ''}${e.message}`,
    code: 'INPUT',
  }));
  const media = manifest.items.filter((it) => it.video || it.audio);
  if (media.length === 0 && lineFailures.length === 0) {
    throw new InputError(`${opts.input}: the manifest has no items with a video or audio file`, { file: opts.input });
  }
  const cache = FeatureCache.open(opts.cacheDir ?? join(out, 'cache'));
  const names = outputNames(media.map((item) => item.id));
  let hits = 0;
  // The cache key covers the files' content, the preset settings and the item's own time range.
  const params = (item: ManifestItem): unknown => ({
    preset,
    version: FEATURE_VERSION,
    strict: !!opts.strict,
    start: item.start ?? opts.start ?? null,
    end: item.end ?? null,
    duration: item.end === undefined ? (opts.duration ?? null) : null,
  });
  let result;
  try {
    result = await runBatch(
      media,
      async (item) => {
        const files = [item.video, item.audio].filter((f): f is string => typeof f === 'string');
        const r = await cache.getOrCompute(
          files,
          params(item),
          async () => (await extractItem(item, preset, opts)).set,
        );
        if (r.hit) hits++;
        return { key: r.key };
      },
      { label: 'features', concurrency: opts.concurrency ?? 2, quiet: opts.quiet, idOf: (item) => item.id },
    );
  } finally {
    cache.flush();
  }
  const items: FeatureJobSummary['items'] = [];
  result.results.forEach((r, i) => {
    if (!r) return;
    const streams = tensorsToStreams(cache.get(r.key) as Record<string, HostArray>);
    const item = media[i];
    const file = writeItem(out, names.get(item.id)!, streams, format, {
      ...meta,
      source: item.video ?? item.audio ?? '',
      key: r.key,
    });
    items.push({ id: item.id, file, streams: describeStreams(streams), missing: missingModalities(preset, streams) });
  });
  const summary: FeatureJobSummary = {
    input: opts.input,
    preset: preset.name,
    out,
    total: media.length + lineFailures.length,
    succeeded: result.succeeded,
    failed: [...lineFailures, ...result.failed],
    cacheHits: hits,
    seconds: (Date.now() - t0) / 1000,
    items,
  };
  writeJsonAtomic(join(out, 'features.json'), { ...summary, settings: preset });
  return summary;
}

/** Human summary: counts, then every failure (id: reason). */
export function formatFeatureSummary(s: FeatureJobSummary): string {
  const head = `features (${s.preset}) -> ${s.out}: ${s.cacheHits} from cache`;
  return `${head}\n${formatBatchSummary({ total: s.total, succeeded: s.succeeded, failed: s.failed, results: [], seconds: s.seconds }, 50)}`;
}
