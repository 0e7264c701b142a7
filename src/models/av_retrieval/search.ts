import { resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import { Embedder } from './embedder.js';
import { loadIndex, rankIndex, type Direction, type RetrievalHit } from './index_store.js';

export interface RetrieveOptions {
  query: string;
  index: string;
  k?: number;
  /** a2v: the query's sound finds videos; v2a: its picture finds sounds; auto: a2v unless the query has no audio */
  direction?: Direction | 'auto';
  /** model run to embed the query with (default: the run the index was built with) */
  model?: string;
}

export interface RetrieveResult {
  query: string;
  direction: Direction;
  index: string;
  candidates: number;
  results: RetrievalHit[];
}

/** Embeds the query file with the index's model and returns the top-k entries of the other modality. */
export async function retrieve(o: RetrieveOptions): Promise<RetrieveResult> {
  const k = o.k ?? 10;
  if (!Number.isInteger(k) || k < 1) throw new InputError(`--k must be a positive integer, got ${k}`, { field: 'k' });
  const idx = loadIndex(o.index);
  const embedder = await Embedder.load(o.model ?? idx.index.model.run);
  try {
    if (embedder.info.embedDim !== idx.index.embedDim)
      throw new InputError(
        `model ${embedder.info.run} embeds to ${embedder.info.embedDim} values but the index holds ${idx.index.embedDim}`,
        { field: 'model' },
      );
    const q = await embedder.embedFile(resolve(o.query));
    const want = o.direction ?? 'auto';
    const direction: Direction = want === 'auto' ? (q.audio ? 'a2v' : 'v2a') : want;
    const emb = direction === 'a2v' ? q.audio : q.video;
    if (!emb)
      throw new InputError(
        `${o.query}: direction ${direction} needs ${direction === 'a2v' ? 'an audio' : 'a video'} stream, the file has none`,
        { file: o.query, field: 'direction' },
      );
    const results = rankIndex(idx, emb, direction, k);
    const candidates = idx.index.entries.filter((e) => (direction === 'a2v' ? e.hasVideo : e.hasAudio)).length;
    return { query: resolve(o.query), direction, index: idx.dir, candidates, results };
  } finally {
    await embedder.close();
  }
}
