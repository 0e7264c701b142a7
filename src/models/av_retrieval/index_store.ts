import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import { hostArray } from '../../io/array.js';
import { loadSafetensors, saveSafetensors } from '../../io/safetensors.js';
import { runBatch, type BatchFailure } from '../../data/batch.js';
import { MEDIA_EXTENSIONS, walkMedia } from '../../data/walk.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { InputError } from '../../util/errors.js';
import { embeddingSuite } from '../../metrics/suite.js';
import { Embedder, type EmbedderInfo, type WholeFileEmbedding } from './embedder.js';

/**
 * A retrieval index over a folder of media files:
 *   <index>/embeddings.safetensors  video [N, E], audio [N, E]: each file's embedding (the mean of its windows', unit
 *                                   rows; zero rows where a file lacks that stream), and video_windows [W, E],
 *                                   audio_windows [W, E]: every window of every file (entry.windowRow ...
 *                                   + entry.windows - 1; window j of a file starts at j * features.seconds)
 *   <index>/index.json              model run, feature settings, one entry per file, failures
 * Both are written atomically, embeddings first, so a reader never sees an index.json naming rows that are missing.
 * Older indexes (before whole-file windows) have no window rows; readers need only video and audio.
 */
/** Where indexes used to be written by default (inside the media folder); still found by resolveIndexDir. */
export const INDEX_FOLDER = '.attune-index';

export interface IndexEntry {
  id: string;
  /** relative to the indexed folder */
  path: string;
  row: number;
  hasVideo: boolean;
  hasAudio: boolean;
  duration: number;
  /** grid frames the file's windows covered (a short last window is zero-padded) */
  validFrames: number;
  /** the file's window embeddings: rows windowRow ... windowRow + windows - 1 of video_windows / audio_windows */
  windowRow?: number;
  windows?: number;
}

export interface IndexFile {
  format: 'attune-av-index/1';
  root: string;
  model: { run: string; task: string; weights: string };
  features: Embedder['info']['features'];
  embedDim: number;
  created: string;
  entries: IndexEntry[];
  failed: BatchFailure[];
}

/**
 * Media files under `dir` (recursive, sorted; dot folders such as an old index are skipped; symlinks are followed
 * only inside `dir`, see src/data/walk.ts). Links that could not be followed are left out here; walkMedia lists them.
 */
export function listMedia(dir: string): string[] {
  return walkMedia(dir).files.map((f) => f.path);
}

/** The index folder for a media folder or an index folder given directly. */
export function resolveIndexDir(dir: string): string {
  const abs = resolve(dir);
  if (existsSync(join(abs, 'index.json'))) return abs;
  if (existsSync(join(abs, INDEX_FOLDER, 'index.json'))) return join(abs, INDEX_FOLDER);
  throw new InputError(
    `${dir}: no retrieval index (index.json) here or in ${join(dir, INDEX_FOLDER)}; build one with 'attune index ${dir} --model RUN'`,
    { file: dir, field: 'index' },
  );
}

export interface BuildIndexOptions {
  model: string;
  /** the index folder (never inside the media folder unless asked for) */
  out: string;
  quiet?: boolean;
  concurrency?: number;
}

export interface BuildIndexResult {
  indexDir: string;
  files: number;
  indexed: number;
  failed: BatchFailure[];
  seconds: number;
  /** self-retrieval over files with both streams (their own audio finds their own video), when >= 2 such files */
  recall: Record<string, number> | null;
}

/** One embedded file for writeIndex. */
export interface IndexRow {
  id: string;
  /** the media file (absolute) */
  path: string;
  e: WholeFileEmbedding;
}

/**
 * Writes embeddings.safetensors and index.json for embedded files (rows in order). `root` is the folder entry
 * paths are relative to. Returns the self-retrieval recall.
 */
export async function writeIndex(
  indexDir: string,
  root: string,
  info: EmbedderInfo,
  rows: readonly IndexRow[],
  failed: BatchFailure[],
): Promise<Record<string, number> | null> {
  const E = info.embedDim;
  const N = rows.length;
  const W = rows.reduce((s, r) => s + r.e.windowStarts.length, 0);
  const video = new Float32Array(N * E);
  const audio = new Float32Array(N * E);
  const videoWindows = new Float32Array(W * E);
  const audioWindows = new Float32Array(W * E);
  let w = 0;
  const entries: IndexEntry[] = rows.map(({ id, path, e }, row) => {
    if (e.video) video.set(e.video, row * E);
    if (e.audio) audio.set(e.audio, row * E);
    if (e.videoWindows) videoWindows.set(e.videoWindows, w * E);
    if (e.audioWindows) audioWindows.set(e.audioWindows, w * E);
    const windows = e.windowStarts.length;
    const entry: IndexEntry = {
      id,
      path: relative(root, path).split('\\').join('/'),
      row,
      hasVideo: !!e.video,
      hasAudio: !!e.audio,
      duration: e.duration,
      validFrames: e.validFrames,
      windowRow: w,
      windows,
    };
    w += windows;
    return entry;
  });
  saveSafetensors(
    join(indexDir, 'embeddings.safetensors'),
    {
      video: hostArray('float32', [N, E], video),
      audio: hostArray('float32', [N, E], audio),
      video_windows: hostArray('float32', [W, E], videoWindows),
      audio_windows: hostArray('float32', [W, E], audioWindows),
    },
    { format: 'attune-av-index/1' },
  );
  const index: IndexFile = {
    format: 'attune-av-index/1',
    root,
    model: { run: info.run, task: info.task, weights: info.weights },
    features: info.features,
    embedDim: E,
    created: new Date().toISOString(),
    entries,
    failed,
  };
  writeJsonAtomic(join(indexDir, 'index.json'), index);
  return selfRecall(entries, video, audio, E);
}

/**
 * Decodes, featurises and embeds every media file in `dir` whole (windows over the full duration), in this process;
 * one bad file (or a link that could not be followed) is recorded and the job goes on. `attune index` runs the same
 * embedding through the batch layer (src/jobs: worker processes, a queue, resumable runs).
 */
export async function buildIndex(dir: string, opts: BuildIndexOptions): Promise<BuildIndexResult> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new InputError(`${dir}: not a folder`, { file: dir, field: 'DIR' });
  const indexDir = resolve(opts.out);
  const walked = walkMedia(root, { exclude: [indexDir] });
  const files = walked.files.map((f) => f.path);
  if (files.length === 0 && walked.bad.length === 0)
    throw new InputError(`${dir}: no media files (${[...MEDIA_EXTENSIONS].join(' ')})`, { file: dir, field: 'DIR' });
  const embedder = await Embedder.load(opts.model);
  const t0 = Date.now();
  try {
    const r = await runBatch(files, async (path) => ({ e: await embedder.embedWhole(path), path }), {
      concurrency: opts.concurrency ?? 2,
      label: 'index',
      quiet: opts.quiet,
      idOf: (p) => relative(root, p),
    });
    const failed: BatchFailure[] = [
      ...r.failed,
      ...walked.bad.map((b) => ({ index: -1, id: b.rel, error: b.reason, code: b.code })),
    ];
    const rows = r.results
      .filter((x) => x !== undefined)
      .map(({ e, path }) => ({ id: relative(root, path).slice(0, -extname(path).length || undefined), path, e }));
    const recall = await writeIndex(indexDir, root, embedder.info, rows, failed);
    return {
      indexDir,
      files: files.length + walked.bad.length,
      indexed: rows.length,
      failed,
      seconds: (Date.now() - t0) / 1000,
      recall,
    };
  } finally {
    await embedder.close();
  }
}

async function selfRecall(
  entries: IndexEntry[],
  video: Float32Array,
  audio: Float32Array,
  E: number,
): Promise<Record<string, number> | null> {
  const both = entries.filter((e) => e.hasVideo && e.hasAudio);
  if (both.length < 2) return null;
  const pick = (src: Float32Array) => {
    const out = new Float32Array(both.length * E);
    both.forEach((e, i) => out.set(src.subarray(e.row * E, (e.row + 1) * E), i * E));
    return hostArray('float32', [both.length, E], out);
  };
  const { metrics } = await embeddingSuite(pick(audio), pick(video), { ks: [1, 5, 10], ksg: false });
  return {
    clips: both.length,
    'a2v_R@1': metrics['a2b_R@1'],
    'a2v_R@5': metrics['a2b_R@5'],
    'v2a_R@1': metrics['b2a_R@1'],
    'v2a_R@5': metrics['b2a_R@5'],
  };
}

export interface LoadedIndex {
  dir: string;
  index: IndexFile;
  video: Float32Array;
  audio: Float32Array;
}

export function loadIndex(dir: string): LoadedIndex {
  const indexDir = resolveIndexDir(dir);
  const path = join(indexDir, 'index.json');
  let index: IndexFile;
  try {
    index = JSON.parse(readFileSync(path, 'utf8')) as IndexFile;
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message}); rebuild the index`, { file: path });
  }
  if (index.format !== 'attune-av-index/1')
    throw new InputError(`${path}: unknown index format '${String(index.format)}'`, { file: path });
  const t = loadSafetensors(join(indexDir, 'embeddings.safetensors')).tensors;
  const video = t.get('video');
  const audio = t.get('audio');
  if (!video || !audio || video.shape[0] !== index.entries.length || video.shape[1] !== index.embedDim) {
    throw new InputError(
      `${indexDir}: embeddings do not match index.json (${index.entries.length} entries x ${index.embedDim}); rebuild the index`,
      { file: indexDir },
    );
  }
  return { dir: indexDir, index, video: video.data as Float32Array, audio: audio.data as Float32Array };
}

export type Direction = 'a2v' | 'v2a';

export interface RetrievalHit {
  rank: number;
  score: number;
  id: string;
  path: string;
}

/** Ranks the index entries that have the target modality by cosine similarity to a unit query embedding. */
export function rankIndex(idx: LoadedIndex, query: Float32Array, direction: Direction, k: number): RetrievalHit[] {
  const E = idx.index.embedDim;
  if (query.length !== E)
    throw new InputError(
      `query embedding has ${query.length} values, the index ${E}; was it built with another model?`,
      { field: 'query' },
    );
  const target = direction === 'a2v' ? idx.video : idx.audio;
  const scored = idx.index.entries
    .filter((e) => (direction === 'a2v' ? e.hasVideo : e.hasAudio))
    .map((e) => {
      let s = 0;
      for (let j = 0; j < E; j++) s += query[j] * target[e.row * E + j];
      return { e, s };
    })
    .sort((a, b) => b.s - a.s)
    .slice(0, k);
  return scored.map(({ e, s }, i) => ({ rank: i + 1, score: s, id: e.id, path: join(idx.index.root, e.path) }));
}
