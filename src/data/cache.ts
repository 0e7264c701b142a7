import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hostArray, type HostArray } from '../io/array.js';
import { makeStream, type Stream } from '../timeline/timeline.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import { sweepOnce, writeJsonAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';

/**
 * Feature cache on disk: safetensors shards plus index.json. An entry's key is
 * sha256(content hash of the source file + canonical JSON of the extraction parameters), so editing
 * the file or changing any parameter gives a new key (a miss) and stale entries are never served.
 *
 * Writes are incremental and atomic: new entries are buffered, then written as a fresh shard
 * (temp file + rename) before the index is atomically replaced; a crash leaves at worst an unused
 * shard. One writer process per cache folder.
 *
 *   dir/index.json              { version, entries: { key: { shard, tensors, source, params } }, files: {...} }
 *   dir/shard-000003.safetensors tensors named "<key>/<name>"
 */
export type FeatureSet = Record<string, HostArray>;

const MAX_LOADED_SHARDS = 4;

interface EntryInfo {
  shard: string;
  tensors: string[];
  source?: string;
  params?: unknown;
  created: string;
}

interface FileMemo {
  size: number;
  mtimeMs: number;
  sha256: string;
}

interface CacheIndex {
  version: 1;
  nextShard: number;
  entries: Record<string, EntryInfo>;
  /** Content hashes by absolute path, reused while size and mtime are unchanged. */
  files: Record<string, FileMemo>;
}

export interface FeatureCacheOptions {
  /** Flush buffered entries into a shard once they exceed this many bytes (default 64 MiB). */
  shardBytes?: number;
}

export class FeatureCache {
  readonly dir: string;
  private index: CacheIndex;
  private pending = new Map<string, { tensors: FeatureSet; info: Omit<EntryInfo, 'shard'> }>();
  private pendingBytes = 0;
  private readonly shardBytes: number;
  /** Recently read shards, most recent last (a small LRU so random access does not reload each time). */
  private loaded: { shard: string; tensors: Map<string, HostArray> }[] = [];

  private constructor(dir: string, index: CacheIndex, opts: FeatureCacheOptions) {
    this.dir = dir;
    this.index = index;
    this.shardBytes = opts.shardBytes ?? 64 * 1024 * 1024;
  }

  /** Opens (or creates) a cache folder. */
  static open(dir: string, opts: FeatureCacheOptions = {}): FeatureCache {
    const abs = resolve(dir);
    mkdirSync(abs, { recursive: true });
    sweepOnce(abs); // temp files of writers killed mid-write (a read-only reuse would never clean them otherwise)
    const path = join(abs, 'index.json');
    let index: CacheIndex = { version: 1, nextShard: 0, entries: {}, files: {} };
    if (existsSync(path)) {
      try {
        index = JSON.parse(readFileSync(path, 'utf8')) as CacheIndex;
      } catch (err) {
        throw new InputError(
          `${path}: feature cache index is not valid JSON (${(err as Error).message}); delete the folder to rebuild`,
          { file: path },
        );
      }
      if (index.version !== 1 || typeof index.entries !== 'object') {
        throw new InputError(
          `${path}: unsupported feature cache index (version ${String(index.version)}, expected 1)`,
          { file: path },
        );
      }
    }
    return new FeatureCache(abs, index, opts);
  }

  /** sha256 of a file's bytes, memoised by (path, size, mtime) in the index. */
  async contentHash(file: string): Promise<string> {
    const abs = resolve(file);
    let st;
    try {
      st = statSync(abs);
    } catch (err) {
      throw new InputError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        file,
      });
    }
    const memo = this.index.files[abs];
    if (memo && memo.size === st.size && memo.mtimeMs === st.mtimeMs) return memo.sha256;
    const sha256 = await hashFile(abs);
    this.index.files[abs] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
    return sha256;
  }

  /** The cache key for a file (or several, e.g. a video and its audio) under given extraction parameters. */
  async key(files: string | readonly string[], params: unknown): Promise<string> {
    const list = typeof files === 'string' ? [files] : files;
    const hashes: string[] = [];
    for (const f of list) hashes.push(await this.contentHash(f));
    return keyFor(hashes.join('+'), params);
  }

  has(key: string): boolean {
    return key in this.index.entries || this.pending.has(key);
  }

  get size(): number {
    return Object.keys(this.index.entries).length + this.pending.size;
  }

  /** The stored features, or undefined on a miss. */
  get(key: string): FeatureSet | undefined {
    const p = this.pending.get(key);
    if (p) return p.tensors;
    const info = this.index.entries[key];
    if (!info) return undefined;
    const tensors = this.shardTensors(info.shard, key);
    const out: FeatureSet = {};
    for (const name of info.tensors) out[name] = tensors.get(`${key}/${name}`)!;
    return out;
  }

  private shardTensors(shard: string, key: string): Map<string, HostArray> {
    const at = this.loaded.findIndex((l) => l.shard === shard);
    if (at >= 0) {
      const [hit] = this.loaded.splice(at, 1);
      this.loaded.push(hit);
      return hit.tensors;
    }
    const path = join(this.dir, shard);
    if (!existsSync(path))
      throw new InputError(
        `feature cache shard ${path} is missing (index names it for ${key}); delete ${this.dir} to rebuild`,
        { file: path },
      );
    const tensors = loadSafetensors(path).tensors;
    this.loaded.push({ shard, tensors });
    if (this.loaded.length > MAX_LOADED_SHARDS) this.loaded.shift();
    return tensors;
  }

  /** Buffers an entry; it is on disk after the next flush (automatic past shardBytes). */
  put(key: string, tensors: FeatureSet, meta: { source?: string; params?: unknown } = {}): void {
    for (const [name, t] of Object.entries(tensors)) {
      if (name.includes('/')) throw new InputError(`feature name '${name}' must not contain '/'`, { field: name });
      this.pendingBytes += t.data.byteLength;
    }
    this.pending.set(key, {
      tensors,
      info: { tensors: Object.keys(tensors), ...meta, created: new Date().toISOString() },
    });
    if (this.pendingBytes >= this.shardBytes) this.flush();
  }

  /** Writes buffered entries as one new shard, then the index (both atomically). */
  flush(): void {
    if (this.pending.size > 0) {
      const shard = `shard-${String(this.index.nextShard).padStart(6, '0')}.safetensors`;
      const all = new Map<string, HostArray>();
      for (const [key, { tensors }] of this.pending)
        for (const [name, t] of Object.entries(tensors)) all.set(`${key}/${name}`, t);
      saveSafetensors(join(this.dir, shard), all, { format: 'attune-feature-cache' });
      this.index.nextShard++;
      for (const [key, { info }] of this.pending) this.index.entries[key] = { shard, ...info };
      this.pending.clear();
      this.pendingBytes = 0;
    }
    writeJsonAtomic(join(this.dir, 'index.json'), this.index);
  }

  /** Cached features for (file, params), computing and storing them on a miss. */
  async getOrCompute(
    files: string | readonly string[],
    params: unknown,
    compute: () => Promise<FeatureSet>,
  ): Promise<{ key: string; features: FeatureSet; hit: boolean }> {
    const key = await this.key(files, params);
    const hit = this.get(key);
    if (hit) return { key, features: hit, hit: true };
    const features = await compute();
    this.put(key, features, {
      source: (typeof files === 'string' ? [files] : files).map((f) => resolve(f)).join(' + '),
      params,
    });
    return { key, features, hit: false };
  }
}

/** Canonical JSON (sorted keys) so equal parameter objects always hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value as object)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function keyFor(contentSha256: string, params: unknown): string {
  return createHash('sha256').update(contentSha256).update('\n').update(canonicalJson(params)).digest('hex');
}

export function hashFile(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', (err) =>
        rej(
          new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { file: path }),
        ),
      )
      .on('end', () => res(h.digest('hex')));
  });
}

/**
 * A Stream as cache features: `name` holds the [T, D] float32 data and `name.timing` the float64
 * [rate, start], so a cached stream comes back on the same timeline.
 */
export function streamToFeatures(name: string, s: Stream): FeatureSet {
  return {
    [name]: hostArray('float32', [s.frames, s.dim], s.data),
    [`${name}.timing`]: hostArray('float64', [2], Float64Array.of(s.rate, s.start)),
  };
}

export function featuresToStream(set: FeatureSet, name: string): Stream {
  const data = set[name];
  const timing = set[`${name}.timing`];
  if (!data || !timing || data.shape.length !== 2 || !(data.data instanceof Float32Array)) {
    throw new InputError(`features have no stream '${name}' (need float32 '${name}' [T, D] and '${name}.timing')`, {
      field: name,
    });
  }
  const t = timing.data as Float64Array;
  return makeStream(data.data, data.shape[1], t[0], t[1]);
}
