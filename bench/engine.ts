import { cpus, loadavg } from 'node:os';
import ort from 'onnxruntime-node';
import type { BenchOptions, BenchReport } from './types.js';
import { hostArray, HostArray } from '../src/io/array.js';
import { Rng } from '../src/util/rng.js';
import { encodeModel } from '../src/engine/onnx/proto.js';
import { ParamStore } from '../src/engine/params.js';
import { adamw } from '../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../src/engine/train.js';
import { Predictor } from '../src/engine/export.js';
import { defaultThreads } from '../src/engine/runner.js';
import { sessionOptions } from '../src/engine/runtime.js';
import { findTorchPython, PEER_VARIANTS, type PeerVariant, peerScript, runPeer } from './peer/python.js';
import { AvConfig, buildAvEmbed, buildAvLoss, forwardFlops, quickConfig, referenceConfig } from './engine-model.js';

/**
 * `attune bench engine`: one training step (forward + backward + AdamW, one ORT call) and one inference
 * batch of the reference model, against the identical PyTorch model run in the same process tree.
 */
const LR = 1e-3;
const WEIGHT_DECAY = 0.01;

interface Timing {
  median: number;
  best: number;
  samples: number[];
}

function summarize(samples: number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], best: s[0], samples };
}

/** Wall-clock ms of each call, and the mean CPU ms (all threads of this process) per call. */
async function timeIt(
  fn: () => Promise<unknown>,
  warmup: number,
  iters: number,
): Promise<{ wall: number[]; cpu: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const wall: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 / iters };
}

function randomBatch(c: AvConfig, seed: number): Record<string, HostArray> {
  const rng = new Rng(seed);
  const normal = (shape: number[]) =>
    hostArray(
      'float32',
      shape,
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    );
  return { video: normal([c.batch, c.videoTokens, c.videoDim]), audio: normal([c.batch, c.audioTokens, c.audioDim]) };
}

/** GFLOP/s of one large ORT MatMul (the machine's SGEMM ceiling as ORT's MLAS sees it). */
async function ortSgemm(n: number, threads: number): Promise<number> {
  const vi = (name: string) => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: n }, { dimValue: n }] } } },
  });
  const bytes = encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 18 }],
    graph: {
      name: 'sgemm',
      node: [{ opType: 'MatMul', input: ['a', 'b'], output: ['c'] }],
      input: [vi('a'), vi('b')],
      output: [vi('c')],
    },
  });
  const session = await ort.InferenceSession.create(bytes, sessionOptions({ threads }));
  const rng = new Rng(1);
  const a = new ort.Tensor(
    'float32',
    Float32Array.from({ length: n * n }, () => rng.normal()),
    [n, n],
  );
  const ms = summarize((await timeIt(() => session.run({ a, b: a }), 2, 5)).wall).best;
  await session.release();
  return (2 * n ** 3) / (ms * 1e6);
}

interface PeerResult {
  torch_version: string;
  threads: number;
  train_ms: number;
  infer_ms: number;
  train_samples: number[];
  infer_samples: number[];
  train_cpu_ms: number;
  infer_cpu_ms: number;
  sgemm_gflops: number;
  params: number;
  first_loss: number;
  peak_rss_mb: number;
}

/** The peer's settings for one run (bench/peer/engine_torch.py reads them). */
function peerSettings(c: AvConfig, threads: number, iters: number, sgemmN: number) {
  return {
    threads,
    lr: LR,
    weight_decay: WEIGHT_DECAY,
    warmup: 2,
    iters,
    sgemm_n: sgemmN,
    model: {
      batch: c.batch,
      video_tokens: c.videoTokens,
      video_dim: c.videoDim,
      audio_tokens: c.audioTokens,
      audio_dim: c.audioDim,
      dim: c.dim,
      heads: c.heads,
      ffn_mult: c.ffnMult,
      blocks: c.blocks,
      embed_dim: c.embedDim,
    },
  };
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const c = opts.quick ? quickConfig : referenceConfig;
  const threads = defaultThreads();
  const iters = opts.quick ? 3 : 8;
  // Rounds alternate Attune and PyTorch, so a burst of load from other processes hits both sides.
  const rounds = opts.quick ? 1 : 2;
  const notes: string[] = [];
  const say = (line: string) => {
    notes.push(line);
    if (!opts.json) process.stdout.write(line + '\n');
  };
  say(
    `engine bench: ${opts.quick ? 'quick (tiny sizes)' : 'reference model'}; batch ${c.batch}, video [${c.videoTokens}, ${c.videoDim}], audio [${c.audioTokens}, ${c.audioDim}], D=${c.dim}, ${c.blocks} blocks, ${c.heads} heads, AdamW lr ${LR}; threads ${threads}`,
  );

  const store = new ParamStore(0);
  const t0 = performance.now();
  const compiled = compileTrainStep((g, p) => buildAvLoss(g, p, c), store, {
    optimizer: adamw({ weightDecay: WEIGHT_DECAY }),
  });
  const compileMs = performance.now() - t0;
  const trainer = await Trainer.create(compiled, { lr: LR, worker: false, session: { threads } });
  const predictor = await Predictor.create((g, p) => buildAvEmbed(g, p, c), store, {
    worker: false,
    session: { threads },
  });
  const batch = randomBatch(c, 7);
  let firstLoss = NaN;
  const trainStep = async () => {
    const r = await trainer.trainStep(batch);
    if (Number.isNaN(firstLoss)) firstLoss = r.loss;
  };
  const py = opts.noPeer ? null : findTorchPython();
  const sgemmN = opts.quick ? 512 : 1024;
  const trainSamples: number[] = [];
  const inferSamples: number[] = [];
  const cpu = { train: 0, infer: 0 };
  const peers: Record<PeerVariant, PeerResult[]> = { default: [], passive: [] };
  for (let round = 0; round < rounds; round++) {
    const tr = await timeIt(trainStep, round === 0 ? 2 : 1, iters);
    const inf = await timeIt(() => predictor.run(batch), 2, iters);
    trainSamples.push(...tr.wall);
    inferSamples.push(...inf.wall);
    cpu.train += tr.cpu / rounds;
    cpu.infer += inf.cpu / rounds;
    if (py)
      for (const v of Object.keys(PEER_VARIANTS) as PeerVariant[])
        peers[v].push(
          runPeer<PeerResult>(py, peerScript('engine_torch.py'), peerSettings(c, threads, iters, sgemmN), threads, v),
        );
  }
  await predictor.close();
  await trainer.close();

  const train = summarize(trainSamples);
  const infer = summarize(inferSamples);
  const fwd = forwardFlops(c);
  const gflops = (flop: number, ms: number) => flop / (ms * 1e6);
  const ortPeak = Math.max(await ortSgemm(sgemmN, threads), opts.quick ? 0 : await ortSgemm(2048, threads));
  const rssMb = process.resourceUsage().maxRSS / 1024;
  const load = loadavg()[0];
  say(
    `params ${store.count()} | train-step graph compiled in ${compileMs.toFixed(0)} ms | first loss ${firstLoss.toFixed(4)} | load average at the end ${load.toFixed(2)} on ${cpus().length} cores`,
  );
  say(
    `attune   train step ${fmt(train)} ms (${gflops(3 * fwd, train.best).toFixed(1)} GFLOP/s at best) | inference batch ${fmt(infer)} ms (${gflops(fwd, infer.best).toFixed(1)} GFLOP/s at best) | peak RSS ${rssMb.toFixed(0)} MB`,
  );
  say(
    `attune   CPU time per train step ${cpu.train.toFixed(0)} ms, per inference batch ${cpu.infer.toFixed(0)} ms (all threads; less sensitive to other processes than wall time)`,
  );
  say(
    `SGEMM peak (ORT MatMul ${sgemmN}${opts.quick ? '' : '/2048'}): ${ortPeak.toFixed(1)} GFLOP/s; best train step at ${((100 * gflops(3 * fwd, train.best)) / ortPeak).toFixed(0)}%, best inference at ${((100 * gflops(fwd, infer.best)) / ortPeak).toFixed(0)}% of it`,
  );
  say(
    `FLOPs counted analytically (matmuls only): forward ${(fwd / 1e9).toFixed(2)} GFLOP, train step 3x forward; times are "median (best)" over ${rounds * iters} runs`,
  );

  const figures: BenchReport['figures'] = {
    train_cpu_ms: cpu.train,
    infer_cpu_ms: cpu.infer,
    train_ms_median: train.median,
    train_ms_best: train.best,
    infer_ms_median: infer.median,
    infer_ms_best: infer.best,
    train_gflops_best: gflops(3 * fwd, train.best),
    infer_gflops_best: gflops(fwd, infer.best),
    forward_gflop: fwd / 1e9,
    ort_sgemm_gflops: ortPeak,
    peak_rss_mb: rssMb,
    params: store.count(),
    threads,
    load_average: load,
    torch_version: null,
  };
  if (opts.noPeer) say('PyTorch peer: skipped (--no-peer)');
  else if (!py) say('PyTorch peer: not available (neither `python3` nor /usr/bin/python3 can import torch); no ratios');
  else {
    const p0 = peers.default[0];
    figures.torch_version = p0.torch_version;
    say(
      `pytorch  ${p0.torch_version} (${py}), threads ${p0.threads}, params ${p0.params}, first loss ${p0.first_loss.toFixed(4)}, torch.mm ${sgemmN}: ${Math.max(...peers.default.map((p) => p.sgemm_gflops)).toFixed(1)} GFLOP/s`,
    );
    for (const v of Object.keys(PEER_VARIANTS) as PeerVariant[]) {
      const tTrain = summarize(peers[v].flatMap((p) => p.train_samples));
      const tInfer = summarize(peers[v].flatMap((p) => p.infer_samples));
      const tCpu = {
        train: mean(peers[v].map((p) => p.train_cpu_ms)),
        infer: mean(peers[v].map((p) => p.infer_cpu_ms)),
      };
      Object.assign(figures, {
        [`torch_${v}_train_ms_median`]: tTrain.median,
        [`torch_${v}_train_ms_best`]: tTrain.best,
        [`torch_${v}_infer_ms_median`]: tInfer.median,
        [`torch_${v}_infer_ms_best`]: tInfer.best,
        [`torch_${v}_train_cpu_ms`]: tCpu.train,
        [`torch_${v}_infer_cpu_ms`]: tCpu.infer,
        [`torch_${v}_peak_rss_mb`]: Math.max(...peers[v].map((p) => p.peak_rss_mb)),
        [`train_speedup_vs_torch_${v}_median`]: tTrain.median / train.median,
        [`infer_speedup_vs_torch_${v}_median`]: tInfer.median / infer.median,
        [`train_speedup_vs_torch_${v}_best`]: tTrain.best / train.best,
        [`infer_speedup_vs_torch_${v}_best`]: tInfer.best / infer.best,
      });
      const label = v === 'default' ? 'pytorch (defaults)       ' : 'pytorch (OMP passive wait)';
      say(
        `${label} train step ${fmt(tTrain)} ms, CPU ${tCpu.train.toFixed(0)} ms | inference batch ${fmt(tInfer)} ms, CPU ${tCpu.infer.toFixed(0)} ms`,
      );
      say(
        `  speedup (wall median / wall best / CPU time): train ${ratio(tTrain, train)} / ${(tCpu.train / cpu.train).toFixed(2)}x (target 1.5x) | inference ${ratio(tInfer, infer)} / ${(tCpu.infer / cpu.infer).toFixed(2)}x (target 2x)`,
      );
    }
  }
  return { name: 'engine', figures, notes };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (t: Timing) => `${t.median.toFixed(1)} (${t.best.toFixed(1)})`;
const ratio = (peer: Timing, ours: Timing) =>
  `${(peer.median / ours.median).toFixed(2)}x / ${(peer.best / ours.best).toFixed(2)}x`;
