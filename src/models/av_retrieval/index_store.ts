import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import { hostArray } from '../../io/array.js';
import { loadSafetensors, saveSafetensors } from '../../io/safetensors.js';
import { runBatch, type BatchFailure } from '../../data/batch.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { InputError } from '../../util/errors.js';
import { embeddingSuite } from '../../metrics/suite.js';
import { Embedder } from './embedder.js';

/**
 * A retrieval index over a folder of media files:
 *   <index>/embeddings.safetensors  video [N, E], audio [N, E] (unit rows; zero rows where a file lacks that stream)
 *   <index>/index.json              model run, feature settings, one entry per file, failures
 * Both are written atomically, embeddings first, so a reader never sees an index.json naming rows that are missing.
 */
export const INDEX_FOLDER = '.attune-index';
const MEDIA_EXT = new Set(['.mp4', '.mov', '.mkv', '.webm', '.avi', '.m4v', '.mpg', '.mpeg', '.wav', '.mp3', '.flac', '.ogg', '.m4a', '.aac', '.opus']);

export interface IndexEntry {
  id: string;
  /** relative to the indexed folder */
  path: string;
  row: number;
  hasVideo: boolean;
  hasAudio: boolean;
  duration: number;
  /** grid frames the file covered (shorter files are zero-padded to the model's window) */
  validFrames: number;
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

/** Media files under `dir` (recursive, sorted; dot folders such as the index itself are skipped). */
export function listMedia(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (MEDIA_EXT.has(extname(name).toLowerCase())) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** The index folder for a media folder or an index folder given directly. */
export function resolveIndexDir(dir: string): string {
  const abs = resolve(dir);
  if (existsSync(join(abs, 'index.json'))) return abs;
  if (existsSync(join(abs, INDEX_FOLDER, 'index.json'))) return join(abs, INDEX_FOLDER);
  throw new InputError(`${dir}: no retrieval index (index.json) here or in ${join(dir, INDEX_FOLDER)}; build one with 'attune index ${dir} --model RUN'`, { file: dir, field: 'index' });
}

export interface BuildIndexOptions {
  model: string;
  out?: string;
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

/** Decodes, featurises and embeds every media file in `dir`; one bad file is recorded and the job goes on. */
export async function buildIndex(dir: string, opts: BuildIndexOptions): Promise<BuildIndexResult> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new InputError(`${dir}: not a folder`, { file: dir, field: 'DIR' });
  const indexDir = resolve(opts.out ?? join(root, INDEX_FOLDER));
  const files = listMedia(root);
  if (files.length === 0) throw new InputError(`${dir}: no media files (${[...MEDIA_EXT].join(' ')})`, { file: dir, field: 'DIR' });
  const embedder = await Embedder.load(opts.model);
  const t0 = Date.now();
  try {
    const r = await runBatch(files, async (path) => {
      const e = await embedder.embedFile(path);
      return { e, path };
    }, { concurrency: opts.concurrency ?? 2, label: 'index', quiet: opts.quiet, idOf: (p) => relative(root, p) });
    const E = embedder.info.embedDim;
    const ok = r.results.filter((x) => x !== undefined);
    const video = new Float32Array(ok.length * E);
    const audio = new Float32Array(ok.length * E);
    const entries: IndexEntry[] = ok.map(({ e, path }, row) => {
      if (e.video) video.set(e.video, row * E);
      if (e.audio) audio.set(e.audio, row * E);
      const rel = relative(root, path);
      return { id: basename(path, extname(path)), path: rel, row, hasVideo: !!e.video, hasAudio: !!e.audio, duration: e.features.duration, validFrames: e.features.validFrames };
    });
    saveSafetensors(join(indexDir, 'embeddings.safetensors'), { video: hostArray('float32', [ok.length, E], video), audio: hostArray('float32', [ok.length, E], audio) }, { format: 'attune-av-index/1' });
    const info = embedder.info;
    const index: IndexFile = {
      format: 'attune-av-index/1', root, model: { run: info.run, task: info.task, weights: info.weights }, features: info.features, embedDim: E,
      created: new Date().toISOString(), entries, failed: r.failed,
    };
    writeJsonAtomic(join(indexDir, 'index.json'), index);
    return { indexDir, files: files.length, indexed: entries.length, failed: r.failed, seconds: (Date.now() - t0) / 1000, recall: await selfRecall(entries, video, audio, E) };
  } finally {
    await embedder.close();
  }
}

async function selfRecall(entries: IndexEntry[], video: Float32Array, audio: Float32Array, E: number): Promise<Record<string, number> | null> {
  const both = entries.filter((e) => e.hasVideo && e.hasAudio);
  if (both.length < 2) return null;
  const pick = (src: Float32Array) => {
    const out = new Float32Array(both.length * E);
    both.forEach((e, i) => out.set(src.subarray(e.row * E, (e.row + 1) * E), i * E));
    return hostArray('float32', [both.length, E], out);
  };
  const { metrics } = await embeddingSuite(pick(audio), pick(video), { ks: [1, 5, 10], ksg: false });
  return { clips: both.length, 'a2v_R@1': metrics['a2b_R@1'], 'a2v_R@5': metrics['a2b_R@5'], 'v2a_R@1': metrics['b2a_R@1'], 'v2a_R@5': metrics['b2a_R@5'] };
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
  if (index.format !== 'attune-av-index/1') throw new InputError(`${path}: unknown index format '${String(index.format)}'`, { file: path });
  const t = loadSafetensors(join(indexDir, 'embeddings.safetensors')).tensors;
  const video = t.get('video');
  const audio = t.get('audio');
  if (!video || !audio || video.shape[0] !== index.entries.length || video.shape[1] !== index.embedDim) {
    throw new InputError(`${indexDir}: embeddings do not match index.json (${index.entries.length} entries x ${index.embedDim}); rebuild the index`, { file: indexDir });
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
  if (query.length !== E) throw new InputError(`query embedding has ${query.length} values, the index ${E}; was it built with another model?`, { field: 'query' });
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
