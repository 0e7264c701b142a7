import { HostArray } from '../io/array.js';
import { decodeSafetensors, loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import { InputError } from '../util/errors.js';
import { RngState } from '../util/rng.js';

/**
 * Training checkpoints as one safetensors file (atomic write), readable by Python's safetensors and
 * PyTorch:
 *   - parameters under their own full names (`blocks.0.attn.q.weight`), so `load_file(path)` gives a
 *     state dict a PyTorch port can use directly;
 *   - optimizer state under `optim.<slot>.<param name>` (e.g. `optim.m.blocks.0.attn.q.weight`);
 *   - metadata (strings, as the format requires): format, step, rng (JSON), optimizer (JSON), config (JSON).
 * The step counter and the Rng state are what make a resumed run draw and update exactly as an
 * uninterrupted one would.
 */
export const CHECKPOINT_FORMAT = 'attune-checkpoint/1';
const OPTIM_PREFIX = 'optim.';

export interface Checkpoint {
  /** Optimizer steps taken so far (the next step is `step + 1` for Adam's bias correction). */
  step: number;
  params: Record<string, HostArray>;
  /** Optimizer slots: `optim.m.<param>`-style names (the prefix is added on save if missing). */
  optimState: Record<string, HostArray>;
  /** Named Rng states (e.g. { data: ..., dropout: ... }). */
  rng: Record<string, RngState | null>;
  /** Optimizer kind and hyper-parameters, and the run's config: any JSON. */
  optimizer?: unknown;
  config?: unknown;
}

export function saveCheckpoint(path: string, ckpt: Checkpoint): void {
  const tensors: Record<string, HostArray> = {};
  for (const [name, value] of Object.entries(ckpt.params)) {
    if (name.startsWith(OPTIM_PREFIX))
      throw new InputError(`parameter name '${name}' collides with the optimizer prefix '${OPTIM_PREFIX}'`, {
        field: name,
      });
    tensors[name] = value;
  }
  for (const [name, value] of Object.entries(ckpt.optimState)) {
    tensors[name.startsWith(OPTIM_PREFIX) ? name : OPTIM_PREFIX + name] = value;
  }
  saveSafetensors(path, tensors, {
    format: CHECKPOINT_FORMAT,
    step: String(ckpt.step),
    rng: JSON.stringify(ckpt.rng),
    optimizer: JSON.stringify(ckpt.optimizer ?? null),
    config: JSON.stringify(ckpt.config ?? null),
  });
}

export function loadCheckpoint(path: string): Checkpoint {
  return parseCheckpoint(loadSafetensors(path), path);
}

export function decodeCheckpoint(bytes: Uint8Array, source = '<buffer>'): Checkpoint {
  return parseCheckpoint(decodeSafetensors(bytes, source), source);
}

function parseCheckpoint(
  file: { tensors: Map<string, HostArray>; metadata: Record<string, string> },
  source: string,
): Checkpoint {
  const meta = file.metadata;
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new InputError(
      `${source}: not an Attune checkpoint (metadata format is ${JSON.stringify(meta.format)}, expected "${CHECKPOINT_FORMAT}")`,
      { file: source, field: 'format' },
    );
  }
  const step = Number(meta.step);
  if (!Number.isInteger(step) || step < 0)
    throw new InputError(`${source}: metadata step ${JSON.stringify(meta.step)} is not a non-negative integer`, {
      file: source,
      field: 'step',
    });
  const json = (field: string): unknown => {
    try {
      return JSON.parse(meta[field] ?? 'null');
    } catch (err) {
      throw new InputError(`${source}: metadata ${field} is not JSON (${(err as Error).message})`, {
        file: source,
        field,
      });
    }
  };
  const params: Record<string, HostArray> = {};
  const optimState: Record<string, HostArray> = {};
  for (const [name, value] of file.tensors) {
    if (name.startsWith(OPTIM_PREFIX)) optimState[name] = value;
    else params[name] = value;
  }
  return {
    step,
    params,
    optimState,
    rng: (json('rng') ?? {}) as Checkpoint['rng'],
    optimizer: json('optimizer'),
    config: json('config'),
  };
}
