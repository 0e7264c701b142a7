import { InputError } from '../util/errors.js';
import { BatchOptions, BatchResult, runBatch } from './batch.js';
import { FeatureCache, FeatureSet } from './cache.js';
import type { ManifestItem } from './manifest.js';

/**
 * Feature extraction over a manifest with the cache and the batch runner together: items whose
 * (files, params) key is cached are skipped, the rest are computed with bounded parallelism, one
 * bad item is recorded and skipped, and the cache is flushed at the end (and whenever a shard fills).
 */
export interface ExtractOptions<I> extends BatchOptions<I> {
  cache: FeatureCache;
  /** Extraction parameters (preset, rates, sizes, extractor version): any change invalidates. */
  params: unknown;
  /** The files whose content keys an item (default: its video and audio paths). */
  filesOf?: (item: I) => string[];
}

export interface ExtractResult extends BatchResult<{ key: string; hit: boolean }> {
  hits: number;
  computed: number;
}

export async function extractWithCache<I = ManifestItem>(
  items: readonly I[],
  compute: (item: I, index: number) => Promise<FeatureSet>,
  opts: ExtractOptions<I>,
): Promise<ExtractResult> {
  const filesOf = opts.filesOf ?? defaultFiles;
  let hits = 0;
  let computed = 0;
  try {
    const result = await runBatch(
      items,
      async (item, index) => {
        const files = filesOf(item);
        if (files.length === 0)
          throw new InputError('item has no media file to extract features from', { field: 'video/audio' });
        const r = await opts.cache.getOrCompute(files, opts.params, () => compute(item, index));
        if (r.hit) hits++;
        else computed++;
        return { key: r.key, hit: r.hit };
      },
      { label: 'features', ...opts },
    );
    return { ...result, hits, computed };
  } finally {
    opts.cache.flush();
  }
}

function defaultFiles(item: unknown): string[] {
  const it = item as Partial<ManifestItem>;
  return [it.video, it.audio].filter((p): p is string => typeof p === 'string');
}
