/**
 * The one "finite or fail" gate. A run whose loss or weights stopped being finite has diverged (a learning
 * rate of 1e308 makes every weight Inf after one step while the step's own loss was still finite, so the
 * engine's per-step guard cannot see it). The trainer calls the gate before anything is written or called
 * best: before best.safetensors (val evaluation), before every checkpoint, and before the final metrics,
 * model.onnx and the report. A failed gate logs a `diverged` line and ends the run with a DivergedError
 * (code NUMERIC, CLI exit 2) that says what was not finite, where, and what to change.
 */
import type { HostArray } from '../io/array.js';
import { NumericError } from '../util/errors.js';

export type GateStage = 'val' | 'checkpoint' | 'final';

export interface GateInput {
  /** Losses that must be finite, by name (e.g. { 'val.loss': 0.7 }). */
  losses?: Record<string, number>;
  /** Tensors that must be finite (weights; optimizer state at checkpoints). */
  tensors?: Record<string, HostArray>;
}

export interface GateFailure {
  stage: GateStage;
  reason: string;
  /** Names of the non-finite losses or tensors (the first few). */
  names: string[];
}

/** The run diverged: a loss or weight is NaN/Inf. Nothing was written as best, checkpoint, metrics or model. */
export class DivergedError extends NumericError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, details);
  }
}

/** Returns what is not finite (tensors first: non-finite weights explain a non-finite loss), or null when everything is. */
export function findNonFinite(input: GateInput, stage: GateStage): GateFailure | null {
  const bad: string[] = [];
  let values = 0;
  let total = 0;
  for (const [name, a] of Object.entries(input.tensors ?? {})) {
    if (a.dtype !== 'float32' && a.dtype !== 'float64') continue;
    const d = a.data as Float32Array | Float64Array;
    total += d.length;
    let n = 0;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) n++;
    if (n) {
      bad.push(name);
      values += n;
    }
  }
  if (!bad.length) {
    const badLosses = Object.entries(input.losses ?? {}).filter(([, v]) => !Number.isFinite(v));
    if (!badLosses.length) return null;
    return { stage, names: badLosses.map(([k]) => k), reason: badLosses.map(([k, v]) => `${k} is ${v}`).join(', ') };
  }
  return {
    stage,
    names: bad.slice(0, 5),
    reason: `${values} of ${total} values in ${bad.length} tensor${bad.length > 1 ? 's' : ''} are NaN or Inf (e.g. '${bad[0]}')`,
  };
}

/** The error a failed gate throws. */
export function divergedError(
  f: GateFailure,
  at: { run: string; step: number; pos: number; lr?: number },
): DivergedError {
  const what = {
    val: 'before the val evaluation could pick best weights',
    checkpoint: 'before writing a checkpoint',
    final: 'before the final metrics and model',
  }[f.stage];
  return new DivergedError(
    `training diverged at step ${at.step}: ${f.reason}; stopped ${what}; no diverged weights were saved as best, checkpoint, metrics or model (run ${at.run}). ` +
      `Lower train.lr${at.lr !== undefined ? ` (now ${at.lr})` : ''} or check the data for NaN/Inf, then start a new run`,
    {
      run: at.run,
      step: at.step,
      pos: at.pos,
      stage: f.stage,
      nonFinite: f.names,
      field: 'train.lr',
      ...(at.lr !== undefined ? { lr: at.lr } : {}),
    },
  );
}
