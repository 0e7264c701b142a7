/**
 * The batch layer's vocabulary. A *kind* (sync, features, index) is a job function over one media item; the same
 * function runs in this process, in a local pool of worker processes, or in `attune worker` processes on other
 * machines that take jobs from a Redis queue. Everything that crosses a process boundary is plain JSON (plus typed
 * arrays for tensors), so the three executors are interchangeable.
 */
import type { HostArray, HostDType } from '../io/array.js';
import { AttuneError, describeError } from '../util/errors.js';

export type KindName = 'sync' | 'features' | 'index';

/** One media item of a folder or a manifest. Paths are absolute (as the submitter sees them). */
export interface JobItem {
  id: string;
  /** where the item came from: path relative to DIR, or "manifest.jsonl:LINE" */
  source: string;
  /** the file the job reads first (video, else audio) */
  path: string;
  video?: string;
  audio?: string;
  /** time range from a manifest line (seconds) */
  start?: number;
  end?: number;
}

/** What the submitter sends: a kind, its options (JSON) and one item; `key` identifies the result. */
export interface JobRequest {
  kind: KindName;
  options: Record<string, unknown>;
  item: JobItem;
  key: string;
}

export type Tensors = Record<string, HostArray>;

export interface JobOk {
  status: 'ok';
  /** small JSON fields for the results line (offset, streams, ...) */
  record: Record<string, unknown>;
  tensors?: Tensors;
}

export interface JobFailed {
  status: 'failed';
  error: string;
  code?: string;
}

/** A finished job as the submitter records it (where and how long included). */
export type JobReply = (JobOk | JobFailed) & { seconds: number; worker: string; attempts: number };

/**
 * A job function. `open` builds what every job of a run shares (a loaded model) once per process; `run` handles one
 * item. A bad item (unreadable file, missing stream) is an AttuneError: recorded with its reason, never retried.
 * Any other error counts as a failed attempt and is retried (bounded).
 */
export interface JobKind<Ctx = unknown> {
  name: KindName;
  open(options: Record<string, unknown>): Promise<Ctx>;
  run(ctx: Ctx, item: JobItem): Promise<JobOk>;
  close?(ctx: Ctx): Promise<void>;
}

/** Seconds, rounded for records. */
export const secs = (ms: number): number => Math.round(ms) / 1000;

/** AttuneError -> a recorded failure; anything else -> undefined (a failed attempt, to be retried). */
export function asItemFailure(err: unknown): JobFailed | undefined {
  if (err instanceof AttuneError) return { status: 'failed', error: describeError(err).split('\n')[0], code: err.code };
  return undefined;
}

/** Errors as plain objects across processes; `item` marks an item failure (AttuneError) as opposed to a crash. */
export interface WireError {
  message: string;
  code?: string;
  item: boolean;
}

export function toWireError(err: unknown): WireError {
  const f = asItemFailure(err);
  if (f) return { message: f.error, code: f.code, item: true };
  return { message: err instanceof Error ? (err.stack ?? err.message) : String(err), item: false };
}

/** Tensors as JSON (base64 of the little-endian bytes), for Redis. */
export interface EncodedTensor {
  dtype: HostDType;
  shape: number[];
  b64: string;
}

export function encodeTensors(t: Tensors | undefined): Record<string, EncodedTensor> | undefined {
  if (!t) return undefined;
  const out: Record<string, EncodedTensor> = {};
  for (const [k, a] of Object.entries(t)) {
    const d = a.data as ArrayBufferView;
    out[k] = {
      dtype: a.dtype,
      shape: a.shape,
      b64: Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64'),
    };
  }
  return out;
}

const CTORS: Partial<Record<HostDType, new (b: ArrayBuffer) => HostArray['data']>> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
};

export function decodeTensors(e: Record<string, EncodedTensor> | undefined): Tensors | undefined {
  if (!e) return undefined;
  const out: Tensors = {};
  for (const [k, t] of Object.entries(e)) {
    const buf = Buffer.from(t.b64, 'base64');
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    const Ctor = CTORS[t.dtype];
    if (!Ctor) throw new Error(`cannot decode a ${t.dtype} tensor`);
    out[k] = { dtype: t.dtype, shape: t.shape, data: new Ctor(ab) };
  }
  return out;
}
