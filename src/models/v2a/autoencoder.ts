/**
 * The 1-D autoencoder latent (`model.audioLatent: "ae"`): MMAudio generates in the 20-channel latent of a VAE over
 * its mel frames, not in the mel itself. This is the deterministic, small version of that step, trained on the run's
 * own training audio before the flow (in `loadData`), at the latent's rate (no downsampling in time, as MMAudio's
 * 16 k latent is 31.25 /s like its mel hop):
 *
 *   mel [B, T, 64] --conv k3 -> H, SiLU, conv k3 -> H, SiLU, conv k3 -> C--> z [B, T, C]
 *   z   [B, T, C]  --conv k3 -> H, SiLU, conv k3 -> H, SiLU, conv k3 -> 64--> mel' [B, T, 64]
 *   loss = mean (mel' - mel)^2 + 1e-3 mean z^2   (the small L2 keeps the code bounded, the role of the VAE's KL)
 *
 * The flow then sees z standardized per channel with the training set's statistics (so noise N(0, I) is at the
 * data's scale), and generation maps its samples back through the decoder to mel before the waveform decoder.
 */
import { compileTrainStep, Trainer } from '../../engine/train.js';
import { Predictor } from '../../engine/export.js';
import { adamw } from '../../engine/optim.js';
import { ParamStore } from '../../engine/params.js';
import { warmupCosine } from '../../engine/schedule.js';
import type { Graph, Scope, Tensor } from '../../engine/index.js';
import { type HostArray, hostArray, toFloat32 } from '../../io/array.js';
import { conv1dTime } from '../../nn/conv.js';
import { predictInBatches } from '../../train/predict.js';
import { Rng } from '../../util/rng.js';
import { InputError } from '../../util/errors.js';
import { N_MELS } from './audio.js';
import type { PretrainOptions } from './pretrain.js';

export interface AutoencoderConfig {
  /** Latent channels per frame (MMAudio's 16 k VAE: 20). */
  channels: number;
  hidden: number;
  kernel: number;
}

export const defaultAutoencoder: AutoencoderConfig = { channels: 20, hidden: 128, kernel: 3 };
const CODE_PENALTY = 1e-3;

function convStack(p: Scope, x: Tensor, hidden: number, out: number, kernel: number): Tensor {
  const h1 = conv1dTime(p.scope('c0'), x, { out: hidden, kernel }).silu(); // [B, T, H]
  const h2 = conv1dTime(p.scope('c1'), h1, { out: hidden, kernel }).silu(); // [B, T, H]
  return conv1dTime(p.scope('c2'), h2, { out, kernel }); // [B, T, out]
}

/** mel [B, T, 64] -> z [B, T, C]. */
export function aeEncode(p: Scope, mel: Tensor, cfg: AutoencoderConfig): Tensor {
  return convStack(p.scope('ae.enc'), mel, cfg.hidden, cfg.channels, cfg.kernel);
}

/** z [B, T, C] -> mel [B, T, 64]. */
export function aeDecode(p: Scope, z: Tensor, cfg: AutoencoderConfig): Tensor {
  return convStack(p.scope('ae.dec'), z, cfg.hidden, N_MELS, cfg.kernel);
}

export interface TrainedAutoencoder {
  cfg: AutoencoderConfig;
  weights: Record<string, HostArray>;
  /** Per-channel statistics of the training codes: the flow sees (z - mean) / std. */
  mean: Float32Array;
  std: Float32Array;
  /** Mean squared reconstruction error of the held-out mels (normalized log-mel units; their variance is ~1). */
  heldMse: number;
  seconds: number;
}

function stack(items: Float32Array[], frames: number, width: number, batch: number): HostArray {
  const out = new Float32Array(batch * frames * width);
  items.forEach((m, b) => {
    if (m.length !== frames * width)
      throw new InputError(`autoencoder input ${b} has ${m.length} values, expected [${frames}, ${width}]`, {
        field: 'latent',
      });
    out.set(m, b * frames * width);
  });
  return hostArray('float32', [batch, frames, width], out);
}

/** Runs `graph` over `items` in padded batches of `batch` (predictInBatches); one [frames, outWidth] array per item. */
async function mapBatches(
  weights: Record<string, HostArray>,
  graph: (g: Graph, p: Scope, b: number) => Tensor,
  items: Float32Array[],
  frames: number,
  inWidth: number,
  outWidth: number,
  batch = 8,
): Promise<Float32Array[]> {
  const store = new ParamStore(0);
  store.load(weights);
  const pred = await Predictor.create((g, p) => ({ y: graph(g, p, batch) }), store, { worker: false });
  try {
    const { rows } = await predictInBatches(pred, items, batch, (chunk) => ({
      x: stack(chunk, frames, inWidth, batch),
    }));
    const y = toFloat32(rows.y); // [items, T, out]
    return items.map((_, i) => y.slice(i * frames * outWidth, (i + 1) * frames * outWidth));
  } finally {
    await pred.close();
  }
}

/** The encoder (mel [T, 64] -> raw codes [T, C]) or the decoder (raw codes -> mel) over `items`. */
function through(ae: TrainedAutoencoder, stage: 'encode' | 'decode', items: Float32Array[], frames: number) {
  const C = ae.cfg.channels;
  const [inWidth, outWidth] = stage === 'encode' ? [N_MELS, C] : [C, N_MELS];
  const net = stage === 'encode' ? aeEncode : aeDecode;
  const graph = (g: Graph, p: Scope, b: number): Tensor =>
    net(p, g.input('x', 'float32', [b, frames, inWidth]), ae.cfg);
  return mapBatches(ae.weights, graph, items, frames, inWidth, outWidth);
}

/** Standardized codes [T, C] of normalized log-mel frames [T, 64]. */
export async function encodeMels(
  ae: TrainedAutoencoder,
  mels: Float32Array[],
  frames: number,
): Promise<Float32Array[]> {
  const C = ae.cfg.channels;
  const codes = await through(ae, 'encode', mels, frames);
  for (const z of codes) for (let i = 0; i < z.length; i++) z[i] = (z[i] - ae.mean[i % C]) / ae.std[i % C];
  return codes;
}

/** Normalized log-mel frames [T, 64] of standardized codes [T, C]. */
export function decodeCodes(ae: TrainedAutoencoder, codes: Float32Array[], frames: number): Promise<Float32Array[]> {
  const C = ae.cfg.channels;
  const raw = codes.map((z) => z.map((v, i) => v * ae.std[i % C] + ae.mean[i % C]));
  return through(ae, 'decode', raw, frames);
}

/** Trains the autoencoder on `train` mels ([frames, 64] each), scores it on `held`, and fits the code statistics. */
export async function trainAutoencoder(
  train: Float32Array[],
  held: Float32Array[],
  frames: number,
  opts: PretrainOptions & { cfg?: AutoencoderConfig },
): Promise<TrainedAutoencoder> {
  const cfg = opts.cfg ?? defaultAutoencoder;
  const [B, seed, started] = [opts.batch ?? 16, opts.seed ?? 0, Date.now()];
  const compiled = compileTrainStep(
    (g, p) => {
      const x = g.input('x', 'float32', [B, frames, N_MELS]);
      const z = aeEncode(p, x, cfg); // [B, T, C]
      const err = aeDecode(p, z, cfg).sub(x); // [B, T, 64]
      return { loss: err.mul(err).mean().add(z.mul(z).mean().mul(CODE_PENALTY)) };
    },
    new ParamStore(seed),
    { optimizer: adamw({ weightDecay: 1e-4 }), clipNorm: 1 },
  );
  const lr = warmupCosine({ lr: opts.lr ?? 2e-3, warmupSteps: Math.min(50, opts.steps), totalSteps: opts.steps });
  const session = opts.threads ? { threads: opts.threads } : undefined;
  const trainer = await Trainer.create(compiled, { lr, worker: false, seed, session });
  const rng = new Rng(`v2a/autoencoder/${seed}`);
  let weights: Record<string, HostArray>;
  try {
    for (let s = 0; s < opts.steps; s++) {
      await trainer.trainStep({
        x: stack(
          Array.from({ length: B }, () => train[rng.int(train.length)]),
          frames,
          N_MELS,
          B,
        ),
      });
      opts.onStep?.(s + 1);
    }
    weights = await trainer.params();
  } finally {
    await trainer.close();
  }
  const C = cfg.channels;
  const identity: TrainedAutoencoder = {
    cfg,
    weights,
    mean: new Float32Array(C),
    std: new Float32Array(C).fill(1),
    heldMse: NaN,
    seconds: 0,
  };
  const codes = await encodeMels(identity, train, frames);
  const mean = new Float32Array(C),
    std = new Float32Array(C);
  let n = 0;
  for (const z of codes) for (let i = 0; i < z.length; i++, n++) mean[i % C] += z[i];
  for (let c = 0; c < C; c++) mean[c] /= n / C;
  for (const z of codes) for (let i = 0; i < z.length; i++) std[i % C] += (z[i] - mean[i % C]) ** 2;
  for (let c = 0; c < C; c++) std[c] = Math.sqrt(std[c] / (n / C)) + 1e-6;
  const recon = await decodeCodes(identity, await encodeMels(identity, held, frames), frames);
  let se = 0,
    count = 0;
  recon.forEach((r, k) => r.forEach((v, i) => ((se += (v - held[k][i]) ** 2), count++)));
  return { cfg, weights, mean, std, heldMse: se / Math.max(1, count), seconds: (Date.now() - started) / 1000 };
}

/**
 * The stage `loadData` runs for `audioLatent: "ae"`: trains on the train split's mels (video clips and audio-caption
 * pairs), scores on val, then replaces every example's latent by its standardized codes (in place).
 */
export async function autoencoderStage(
  examples: { latent: Float32Array }[],
  splits: { train: number[]; val: number[] },
  seq: { latent: number },
  steps: number,
  seed: number,
  onStep: (done: number) => void,
): Promise<TrainedAutoencoder> {
  const mels = (idx: number[]): Float32Array[] => idx.map((i) => examples[i].latent);
  const ae = await trainAutoencoder(mels(splits.train), mels(splits.val), seq.latent, {
    steps,
    seed,
    onStep,
  });
  const codes = await encodeMels(
    ae,
    examples.map((e) => e.latent),
    seq.latent,
  );
  examples.forEach((e, i) => (e.latent = codes[i]));
  return ae;
}
