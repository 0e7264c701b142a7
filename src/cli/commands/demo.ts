import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { hostArray, HostArray } from '../../io/array.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { InputError } from '../../util/errors.js';
import { Progress } from '../../util/progress.js';
import { Rng } from '../../util/rng.js';
import { ParamStore } from '../../engine/params.js';
import { adamw } from '../../engine/optim.js';
import { warmupCosine } from '../../engine/schedule.js';
import { compileTrainStep, Trainer } from '../../engine/train.js';
import { exportOnnx, Predictor } from '../../engine/export.js';
import { AvConfig, buildAvEmbed, buildAvLoss } from '../../../bench/engine-model.js';
import { formatTable, printJson } from '../output.js';

/**
 * `attune demo` v1: trains a small version of the engine's reference audio-video model on a synthetic
 * contrastive task (each video/audio pair shares a hidden latent), with the step running in a worker
 * thread and a live progress bar; then checks retrieval on held-out pairs, writes a checkpoint and a
 * self-contained ONNX export. Later issues replace it with the full pipeline.
 */
const demoConfig: AvConfig = { batch: 32, videoTokens: 16, videoDim: 128, audioTokens: 32, audioDim: 64, dim: 128, heads: 4, ffnMult: 4, blocks: 2, embedDim: 64 };
const LATENT = 32;
/** Per-feature noise std; the latent's signal per feature has std 1. */
const NOISE = 8;

/** Pairs generated from a shared latent z: video token t = Av[t] z + noise, audio token t = Aa[t] z + noise. */
class SyntheticPairs {
  private readonly video: Float32Array[];
  private readonly audio: Float32Array[];
  constructor(private readonly c: AvConfig, seed: number, readonly rng = new Rng(seed)) {
    const mixing = new Rng(seed).fork('mixing');
    const matrices = (tokens: number, dim: number) => Array.from({ length: tokens }, () => Float32Array.from({ length: dim * LATENT }, () => mixing.normal() / Math.sqrt(LATENT)));
    this.video = matrices(c.videoTokens, c.videoDim);
    this.audio = matrices(c.audioTokens, c.audioDim);
  }

  next(): Record<string, HostArray> {
    const { batch, videoTokens, videoDim, audioTokens, audioDim } = this.c;
    const video = new Float32Array(batch * videoTokens * videoDim);
    const audio = new Float32Array(batch * audioTokens * audioDim);
    const z = new Float32Array(LATENT);
    for (let b = 0; b < batch; b++) {
      for (let l = 0; l < LATENT; l++) z[l] = this.rng.normal();
      this.mix(this.video, z, video, b * videoTokens * videoDim, videoDim);
      this.mix(this.audio, z, audio, b * audioTokens * audioDim, audioDim);
    }
    return { video: hostArray('float32', [batch, videoTokens, videoDim], video), audio: hostArray('float32', [batch, audioTokens, audioDim], audio) };
  }

  private mix(mats: Float32Array[], z: Float32Array, out: Float32Array, offset: number, dim: number): void {
    mats.forEach((m, t) => {
      for (let i = 0; i < dim; i++) {
        let v = NOISE * this.rng.normal();
        for (let l = 0; l < LATENT; l++) v += m[i * LATENT + l] * z[l];
        out[offset + t * dim + i] = v;
      }
    });
  }
}

/** Fraction of videos whose most similar audio (dot product of unit embeddings) is their own pair. */
function recallAt1(ev: HostArray, ea: HostArray): number {
  const [n, e] = ev.shape;
  const v = ev.data as Float32Array;
  const a = ea.data as Float32Array;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    let best = -1, bestSim = -Infinity;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < e; k++) s += v[i * e + k] * a[j * e + k];
      if (s > bestSim) [best, bestSim] = [j, s];
    }
    if (best === i) hits++;
  }
  return hits / n;
}

interface DemoOptions { steps: string; out: string; seed: string; json: boolean }

async function demo(opts: DemoOptions): Promise<void> {
  const steps = Number(opts.steps);
  const seed = Number(opts.seed);
  if (!Number.isInteger(steps) || steps < 1) throw new InputError(`--steps must be a positive integer, got "${opts.steps}"`, { field: 'steps' });
  if (!Number.isInteger(seed)) throw new InputError(`--seed must be an integer, got "${opts.seed}"`, { field: 'seed' });
  const out = resolve(opts.out);
  const c = demoConfig;
  const config = { task: 'synthetic audio-video contrastive pairs', model: c, steps, seed, optimizer: 'adamw', lr: 2e-3, warmupSteps: Math.min(20, steps), weightDecay: 0.01 };
  writeJsonAtomic(join(out, 'config.json'), config);

  const store = new ParamStore(seed);
  const trainer = await Trainer.create(compileTrainStep((g, p) => buildAvLoss(g, p, c), store, { optimizer: adamw({ weightDecay: 0.01 }), clipNorm: 1 }), {
    lr: warmupCosine({ lr: config.lr, warmupSteps: config.warmupSteps, totalSteps: steps }),
    seed, config,
  });
  const data = new SyntheticPairs(c, seed);
  const progress = new Progress({ label: 'demo: training', total: steps, quiet: opts.json && !process.stderr.isTTY });
  const losses: number[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < steps; i++) {
      const r = await trainer.trainStep(data.next());
      losses.push(r.loss);
      if (i + 1 < steps) progress.tick(1, { loss: r.loss });
      else progress.finish({ loss: r.loss });
    }
  } catch (err) {
    await trainer.close();
    throw err;
  }
  const seconds = (performance.now() - t0) / 1000;
  const checkpoint = join(out, 'checkpoint.safetensors');
  await trainer.save(checkpoint, { data: data.rng.getState() });
  const params = await trainer.params();
  await trainer.close();
  store.load(params);

  const heldOut = new SyntheticPairs(c, seed + 1).next();
  const predictor = await Predictor.create((g, p) => buildAvEmbed(g, p, c), store);
  const emb = await predictor.run(heldOut);
  await predictor.close();
  const onnxPath = join(out, 'av-embed.onnx');
  exportOnnx(onnxPath, (g, p) => buildAvEmbed(g, p, c), store, { name: 'attune-demo-av-embed', docString: 'attune demo: audio-video embedder' });

  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const window = Math.max(1, Math.min(10, Math.floor(steps / 5)));
  const summary = {
    steps, seconds, stepsPerSecond: steps / seconds, params: store.count(),
    lossStart: avg(losses.slice(0, window)), lossEnd: avg(losses.slice(-window)), chanceLoss: Math.log(c.batch),
    heldOutRecallAt1: recallAt1(emb.video_embedding, emb.audio_embedding), chanceRecallAt1: 1 / c.batch,
    checkpoint, onnx: onnxPath, config: join(out, 'config.json'),
  };
  writeJsonAtomic(join(out, 'summary.json'), summary);
  if (opts.json) {
    printJson(summary);
    return;
  }
  process.stdout.write(`\n${formatTable(['', 'value'], [
    ['parameters', summary.params],
    ['steps', `${steps} in ${seconds.toFixed(1)} s (${summary.stepsPerSecond.toFixed(1)} steps/s)`],
    [`loss (mean of first/last ${window} steps)`, `${summary.lossStart.toFixed(3)} -> ${summary.lossEnd.toFixed(3)} (chance ${summary.chanceLoss.toFixed(3)})`],
    ['held-out video->audio R@1', `${summary.heldOutRecallAt1.toFixed(3)} (chance ${summary.chanceRecallAt1.toFixed(3)})`],
    ['checkpoint', checkpoint],
    ['ONNX export', onnxPath],
  ])}\n`);
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('train a small audio-video alignment model on a synthetic task (progress bar, checkpoint, ONNX export)')
    .option('--steps <n>', 'training steps', '200')
    .option('--out <dir>', 'where to write config.json, checkpoint.safetensors, av-embed.onnx and summary.json', './attune-demo')
    .option('--seed <n>', 'seed for data, initialisation and dropout', '0')
    .option('--json', 'print the summary as JSON', false)
    .action((opts: DemoOptions) => demo(opts));
}
