/**
 * A batch run's folder (--out):
 *   results.jsonl   one line per file: id, source, path, status (ok | failed), key, error/code, seconds, worker, and the
 *                   kind's fields. Lines are appended as files finish (a crash loses nothing finished); at the end the
 *                   file is rewritten with exactly one line per input, in input order.
 *   summary.csv     the same rows as a table (the kind's main columns).
 *   .attune/hashes.jsonl   content hashes (sha256) memoised by path, size and mtime, so a re-run reads no file twice.
 *   .attune/tensors/       tensors a kind keeps for its final step (index embeddings), a feature cache keyed by result key.
 * A result's key is sha256(content hash of the item's files + kind + the options and model that change results), so a
 * re-run skips finished files and recomputes those whose content, model or options changed.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FeatureCache, hashFile } from '../data/cache.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import type { Tensors } from './types.js';

export interface ResultLine {
  id: string;
  source: string;
  path: string;
  status: 'ok' | 'failed';
  key?: string;
  error?: string;
  code?: string;
  seconds?: number;
  worker?: string;
  attempts?: number;
  [field: string]: unknown;
}

export const RESULTS_FILE = 'results.jsonl';
export const SUMMARY_FILE = 'summary.csv';
const STATE = '.attune';

interface HashMemo {
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

export class ResultStore {
  readonly out: string;
  private readonly byKey = new Map<string, ResultLine>();
  private readonly hashes = new Map<string, HashMemo>();
  private tensorCache: FeatureCache | null = null;
  private lastFlush = Date.now();

  private constructor(out: string) {
    this.out = out;
  }

  static open(out: string): ResultStore {
    const s = new ResultStore(resolve(out));
    mkdirSync(join(s.out, STATE), { recursive: true });
    for (const line of readJsonl<ResultLine>(join(s.out, RESULTS_FILE)))
      if (line.key && (line.status === 'ok' || line.status === 'failed')) s.byKey.set(line.key, line);
    for (const h of readJsonl<HashMemo>(join(s.out, STATE, 'hashes.jsonl')))
      if (h.path && h.sha256) s.hashes.set(h.path, h);
    return s;
  }

  get resultsPath(): string {
    return join(this.out, RESULTS_FILE);
  }

  get summaryPath(): string {
    return join(this.out, SUMMARY_FILE);
  }

  /** The line recorded for a key by this or an earlier run. */
  prior(key: string): ResultLine | undefined {
    return this.byKey.get(key);
  }

  /** sha256 of a file, memoised by (path, size, mtime). */
  async contentHash(path: string): Promise<string> {
    const abs = resolve(path);
    let st;
    try {
      st = statSync(abs);
    } catch (err) {
      throw new InputError(
        `${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`}`,
        { file: path },
      );
    }
    if (!st.isFile()) throw new InputError(`${path}: not a regular file`, { file: path });
    const memo = this.hashes.get(abs);
    if (memo && memo.size === st.size && memo.mtimeMs === st.mtimeMs) return memo.sha256;
    const sha256 = await hashFile(abs);
    const m = { path: abs, size: st.size, mtimeMs: st.mtimeMs, sha256 };
    this.hashes.set(abs, m);
    appendFileSync(join(this.out, STATE, 'hashes.jsonl'), JSON.stringify(m) + '\n');
    return sha256;
  }

  /** Appends a finished file's line (and keeps its tensors, when given, in the store). */
  record(line: ResultLine, tensors?: Tensors): void {
    if (tensors && line.key) this.tensors().put(line.key, tensors, { source: line.path });
    if (line.key) this.byKey.set(line.key, line);
    // Tensors are flushed every 10 s and at the end; after a crash, a line whose tensors never reached disk is
    // recomputed (the runner checks hasTensors before reusing it).
    if (this.tensorCache && Date.now() - this.lastFlush > 10_000) this.flush();
    appendFileSync(this.resultsPath, JSON.stringify(line) + '\n');
  }

  hasTensors(key: string): boolean {
    return this.tensors().has(key);
  }

  getTensors(key: string): Tensors | undefined {
    return this.tensors().get(key);
  }

  private tensors(): FeatureCache {
    this.tensorCache ??= FeatureCache.open(join(this.out, STATE, 'tensors'));
    return this.tensorCache;
  }

  flush(): void {
    this.tensorCache?.flush();
    this.lastFlush = Date.now();
  }

  /** Rewrites results.jsonl with exactly these lines (one per input, in order) and writes summary.csv. */
  finish(lines: readonly ResultLine[], columns: readonly string[]): void {
    this.flush();
    writeFileAtomic(this.resultsPath, lines.map((l) => JSON.stringify(l) + '\n').join(''));
    const head = ['id', 'source', 'path', 'status', 'error', ...columns, 'seconds', 'worker'];
    const rows = lines.map((l) => head.map((c) => csvCell(l[c])).join(','));
    writeFileAtomic(this.summaryPath, [head.join(','), ...rows].join('\n') + '\n');
  }
}

/** JSONL lines of a file; a torn last line (a crash mid-write) and blank lines are skipped. */
export function readJsonl<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  const out: T[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // torn line
    }
  }
  return out;
}

export function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
