/**
 * The emotion model's datasets: `--data emospeech:N` (or `synth:N`) synthesizes EmoSpeech into the cache folder
 * (cached by content hash, docs/emospeech.md) and uses its speaker-disjoint splits; `--data x.jsonl` reads an emotion
 * manifest (docs/emospeech.md "Emotion manifests") and uses its `split` fields when every item has one and some are
 * train.
 *
 * Audio features are cached per file in `<cache>/emotion-features/` (key: path, size, mtime, segment, version), so
 * the 27 runs of an ablation compute them once. Bad items are recorded in `skipped` and left out.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEmotionExample } from '../../data/emospeech/load.js';
import { readEmotionManifest, type EmotionItem } from '../../data/emospeech/manifest.js';
import { writeEmoSpeech } from '../../data/emospeech/write.js';
import type { ManifestLineError } from '../../data/manifest.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { describeError, InputError } from '../../util/errors.js';
import { AUDIO_DIM, EMOTION_CLASSES, UTTERANCE_DIM } from './config.js';
import {
  alignSpans,
  audioFrames,
  hashWord,
  type AudioInputs,
  metadataIds,
  splitWords,
  type EmotionExampleInput,
} from './features.js';

/** 2: log f0 pooled over voiced frames only; the utterance functionals stored after the frames. */
const FEATURE_VERSION = 2;
const EMOSPEECH_RATE = 22050;

export type EmotionSplit = 'train' | 'val' | 'test';

export interface EmotionSet {
  examples: EmotionExampleInput[];
  items: EmotionItem[];
  splits?: Record<EmotionSplit, number[]>;
  skipped: ManifestLineError[];
}

export interface LoadSetOptions {
  /** `{ kind: 'emospeech', n }` or an emotion manifest path. */
  source: { kind: 'emospeech'; n: number; seed: number } | { kind: 'manifest'; path: string };
  cacheDir?: string;
  progress?: (done: number, total: number) => void;
  /** Load only these splits (a manifest item without a split is always kept). */
  only?: EmotionSplit[];
}

/** The cache folder: the caller's, else <tmp>/attune-emotion (documented in docs/emotion.md). */
export function emotionCacheDir(cacheDir?: string): string {
  return cacheDir ?? join(tmpdir(), 'attune-emotion');
}

export async function loadEmotionSet(opts: LoadSetOptions): Promise<EmotionSet> {
  const cache = emotionCacheDir(opts.cacheDir);
  const manifests: string[] = [];
  let sampleRate = 16000;
  if (opts.source.kind === 'emospeech') {
    const out = join(cache, `emospeech-seed${opts.source.seed}`);
    const summary = await writeEmoSpeech({ n: opts.source.n, out, seed: opts.source.seed, quiet: true });
    for (const split of ['train', 'val', 'test'] as const)
      if (!opts.only || opts.only.includes(split)) manifests.push(summary.manifests[split]);
    sampleRate = EMOSPEECH_RATE;
  } else {
    manifests.push(opts.source.path);
  }
  const set: EmotionSet = { examples: [], items: [], skipped: [] };
  const parsed = manifests.map((m) => readEmotionManifest(m));
  const items = parsed.flatMap((p) => p.items).filter((it) => !opts.only || !it.split || opts.only.includes(it.split));
  set.skipped.push(...parsed.flatMap((p) => p.errors));
  let done = 0;
  for (const item of items) {
    try {
      set.examples.push(await prepareItem(item, sampleRate, cache));
      set.items.push(item);
    } catch (err) {
      set.skipped.push({
        file: item.file,
        line: item.line,
        field: (err as { details?: { field?: string } }).details?.field ?? '',
        message: describeError(err),
      });
    }
    opts.progress?.(++done, items.length);
  }
  if (set.items.length && set.items.every((it) => it.split)) {
    const splits: Record<EmotionSplit, number[]> = { train: [], val: [], test: [] };
    set.items.forEach((it, i) => splits[it.split as EmotionSplit].push(i));
    // A manifest of one split (a test set alone) is split by the trainer's fractions instead.
    if (splits.train.length) set.splits = splits;
  }
  return set;
}

/** One manifest item -> model inputs (audio features from the cache when present). */
export async function prepareItem(item: EmotionItem, sampleRate: number, cache: string): Promise<EmotionExampleInput> {
  const label = EMOTION_CLASSES.indexOf(String(item.label) as (typeof EMOTION_CLASSES)[number]);
  if (label < 0)
    throw new InputError(
      `${item.file}:${item.line}: label '${item.label}' is not one of ${EMOTION_CLASSES.join(', ')} (the emotion model classifies)`,
      { field: 'label' },
    );
  const words = splitWords(item.text);
  const audio = await cachedFrames(item, sampleRate, cache);
  return {
    words,
    tokens: Int32Array.from(words, hashWord),
    spans: alignSpans(words, item.words),
    audio: audio.data,
    frames: audio.frames,
    utterance: audio.utterance,
    meta: metadataIds(item.metadata as Record<string, unknown> | undefined),
    label,
  };
}

/** The cache file holds the frames [F, AUDIO_DIM] followed by the utterance functionals [UTTERANCE_DIM]. */
async function cachedFrames(item: EmotionItem, sampleRate: number, cache: string): Promise<AudioInputs> {
  const path = item.audio as string;
  const st = existsSync(path) ? statSync(path) : undefined;
  const key = createHash('sha1')
    .update(JSON.stringify([FEATURE_VERSION, path, st?.size, st?.mtimeMs, item.start, item.end, sampleRate]))
    .digest('hex')
    .slice(0, 24);
  const file = join(cache, 'emotion-features', `${key}.f32`);
  if (existsSync(file)) {
    const buf = readFileSync(file);
    const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const frames = (all.length - UTTERANCE_DIM) / AUDIO_DIM;
    return { data: all.subarray(0, frames * AUDIO_DIM), frames, utterance: all.subarray(frames * AUDIO_DIM) };
  }
  const ex = await loadEmotionExample(item, { input: 'raw', sampleRate });
  const frames = audioFrames(ex.audio!.samples, ex.audio!.sampleRate);
  mkdirSync(join(cache, 'emotion-features'), { recursive: true });
  const all = new Float32Array(frames.data.length + UTTERANCE_DIM);
  all.set(frames.data);
  all.set(frames.utterance, frames.data.length);
  writeFileAtomic(file, new Uint8Array(all.buffer));
  return frames;
}
