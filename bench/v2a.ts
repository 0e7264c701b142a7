/**
 * `attune bench v2a`: time to generate 8 s of sound with the default (small) v2a network at 25 Euler steps with CFG
 * (cond + uncond in one batch of 2) on 2 ORT threads, split into the network (sampling) and the waveform decoder
 * (mel -> NNLS -> Griffin-Lim at hop 256, 16 iterations; on 2 threads as `attune v2a` runs it, and on one for
 * comparison), and the time per steps setting (1/4/8/25). Weights are freshly
 * initialized: the time does not depend on their values. Target (issue #12): <= 2.5 s for the whole generation.
 *
 * Side by side, when a Python with torch is found: the PyTorch twin of the same network (bench/peer/v2a_torch.py;
 * same shapes, same parameter count, checked here) sampled by the same Euler + CFG loop on as many threads, with
 * OMP_WAIT_POLICY=PASSIVE as ORT's allow_spinning=0. Not under PyTorch's defaults: their spinning OpenMP threads took
 * ~3 s per network call on the shared, loaded cores (0.1 s passive), so a run would measure the contention, and
 * last minutes. Rounds alternate Attune and the twin (one process per round), so a burst of load from other
 * processes hits both; ratios are PyTorch / Attune (> 1: Attune is faster) from the same run.
 * --quick: 2 s of audio, the tiny variant, one round. A full run rewrites the v2a section of docs/benchmarks.md.
 */
import { cpus, loadavg } from 'node:os';
import type { BenchOptions, BenchReport } from './types.js';
import { writeBenchSection } from './docs.js';
import { findTorchPython, peerScript, runPeer } from './peer/python.js';
import { Graph, ParamStore, Scope } from '../src/engine/index.js';
import { Predictor } from '../src/engine/export.js';
import { decodeAudio, N_MELS } from '../src/models/v2a/audio.js';
import { PIXELS, type Sequence, sequence, type V2aConfig, v2aSmall, v2aTiny } from '../src/models/v2a/config.js';
import { generateLatents, predictorVelocity } from '../src/models/v2a/generate.js';
import { DecoderPool } from '../src/models/v2a/decode_pool.js';
import { v2aInference } from '../src/models/v2a/model.js';
import { ropePositions } from '../src/models/v2a/network.js';
import { VOCAB_SIZE } from '../src/models/v2a/text.js';
import { synthExample } from '../src/models/v2a/data.js';

/** ORT's session threads, and the twin's torch.set_num_threads / OMP_NUM_THREADS. */
const THREADS = 2;
const STEPS = [1, 4, 8, 25];
const CFG = 4.5;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Wall and CPU seconds of runs: CPU is this process's (all threads, ORT's included). */
interface Runs {
  wall: number[];
  cpu: number[];
}

/** Wall and CPU seconds (this process, all threads: ORT's included) of an async job. CPU time is what a shared, loaded
 * machine cannot inflate: on 2 idle cores the wall time would be about CPU / threads used. */
async function timed(fn: () => Promise<unknown> | unknown): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/** What bench/peer/v2a_torch.py prints. */
export interface TwinResult {
  torch_version: string;
  threads: number;
  params: number;
  /** Per steps setting (as a string key): wall and CPU seconds of each sampling run. */
  runs: Record<string, Runs>;
  /** The BLAS library torch loaded, and torch.mm's GFLOP/s at 512 (the reference BLAS is ~50x slower than OpenBLAS). */
  blas: string;
  sgemm_gflops: number;
  peak_rss_mb: number;
}

/** The twin's settings: the network's sizes as Attune builds them (RoPE positions included), and what to time. */
export function twinSettings(cfg: V2aConfig, seq: Sequence, runs: number, steps: number[] = STEPS) {
  const rope = ropePositions(seq, cfg.alignedRope);
  return {
    threads: THREADS,
    cfg: CFG,
    steps,
    runs,
    warmup_steps: 1,
    model: {
      dim: cfg.dim,
      heads: cfg.heads,
      joint_blocks: cfg.jointBlocks,
      audio_blocks: cfg.audioBlocks,
      mlp_ratio: cfg.mlpRatio,
      sync_kernel: cfg.syncKernel,
      sync_features: cfg.syncFeatures,
      visual_encoder: cfg.visualEncoder,
      vocab: VOCAB_SIZE,
      pixels: PIXELS,
      mels: N_MELS,
    },
    seq: { latent: seq.latent, visual: seq.visual, sync: seq.sync, text: seq.text },
    rope: { audio: Array.from(rope.audio), visual: Array.from(rope.visual) },
  };
}

interface Stats {
  wall: number;
  wallBest: number;
  cpu: number;
  cpuBest: number;
}

/** Medians and minima of runs. */
function stats(r: Runs): Stats {
  return { wall: median(r.wall), wallBest: Math.min(...r.wall), cpu: median(r.cpu), cpuBest: Math.min(...r.cpu) };
}

/** Twin runs of every round merged per steps setting. */
function mergeRuns(results: TwinResult[], steps: number): Runs {
  return {
    wall: results.flatMap((r) => r.runs[String(steps)].wall),
    cpu: results.flatMap((r) => r.runs[String(steps)].cpu),
  };
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const seconds = opts.quick ? 2 : 8;
  const cfg = opts.quick ? v2aTiny() : v2aSmall();
  const seq = sequence(seconds);
  const notes: string[] = [];
  const say = (line: string): void => {
    notes.push(line);
    if (!opts.json) process.stdout.write(`${line}\n`);
  };
  const store = new ParamStore(0);
  const g = new Graph();
  v2aInference(g, new Scope(g, store), cfg, seq, 2); // creates the parameters
  const predictor = await Predictor.create((gg, p) => v2aInference(gg, p, cfg, seq, 2), store, {
    worker: false,
    session: { threads: THREADS },
  });
  const pool = DecoderPool.create(THREADS);
  const example = synthExample(0, seq, 0, true);
  const item = { frames: example.frames, text: null };
  const velocity = predictorVelocity(predictor);
  say(
    `v2a generation: ${seconds} s of audio (${seq.latent} latent frames, ${seq.visual} visual, ${seq.sync} sync, ${seq.text} text tokens), ${opts.quick ? 'tiny' : 'small'} variant (${store.count()} parameters), CFG ${CFG} in one batch of 2, ${THREADS} threads; ${cpus().length} cores, load ${loadavg()[0].toFixed(1)} at the start`,
  );
  const py = opts.noPeer ? null : findTorchPython();
  const rounds = opts.quick ? 1 : 3;
  const ours = new Map(STEPS.map((s) => [s, { wall: [], cpu: [] } as Runs]));
  const twins: TwinResult[] = [];
  const figures: BenchReport['figures'] = { params: store.count(), seconds, threads: THREADS, torch_version: null };
  try {
    await generateLatents(velocity, [item], seq, 2, { steps: 1 }); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const steps of STEPS) {
        const t = await timed(() => generateLatents(velocity, [item], seq, 2, { steps, cfg: CFG }));
        ours.get(steps)!.wall.push(t.wall);
        ours.get(steps)!.cpu.push(t.cpu);
      }
      if (py)
        twins.push(runPeer<TwinResult>(py, peerScript('v2a_torch.py'), twinSettings(cfg, seq, 1), THREADS, 'passive'));
    }
    const [latent] = await generateLatents(velocity, [item], seq, 2, { steps: 1 });
    await pool.decode(latent, seq.latent); // starts the threads' modules
    const one: { wall: number; cpu: number }[] = [];
    const two: { wall: number; cpu: number }[] = [];
    for (let r = 0; r < rounds; r++) {
      one.push(await timed(() => decodeAudio(latent, seq.latent, { iterations: 16 })));
      two.push(await timed(() => pool.decode(latent, seq.latent, { iterations: 16 })));
    }
    figures.decoder_s = median(two.map((x) => x.wall));
    figures.decoder_cpu_s = median(two.map((x) => x.cpu));
    figures.decoder_1thread_s = median(one.map((x) => x.wall));
    figures.decoder_1thread_cpu_s = median(one.map((x) => x.cpu));
  } finally {
    await Promise.all([predictor.close(), pool.close()]);
  }
  const decoder = figures.decoder_s as number;
  for (const steps of STEPS) {
    figures[`network_s_${steps}_steps`] = median(ours.get(steps)!.wall);
    figures[`network_cpu_s_${steps}_steps`] = median(ours.get(steps)!.cpu);
  }
  figures.total_s_25_steps = (figures.network_s_25_steps as number) + decoder;
  figures.load_average = loadavg()[0];
  const f3 = (v: number): string => v.toFixed(3);
  for (const steps of STEPS) {
    const net = figures[`network_s_${steps}_steps`] as number,
      cpu = figures[`network_cpu_s_${steps}_steps`] as number;
    say(
      `  ${String(steps).padStart(2)} steps: network ${f3(net)} s (CPU ${f3(cpu)} s) + decoder ${f3(decoder)} s (CPU ${f3(figures.decoder_cpu_s as number)} s) = ${f3(net + decoder)} s wall`,
    );
  }
  say(
    `  decoder on 1 thread: ${f3(figures.decoder_1thread_s as number)} s (CPU ${f3(figures.decoder_1thread_cpu_s as number)} s); above: ${THREADS} threads (decode_pool.ts, bit-identical)`,
  );
  say(
    `target: 8 s at 25 steps with CFG <= 2.5 s on 2 cores -> ${(figures.total_s_25_steps as number).toFixed(2)} s (${(figures.total_s_25_steps as number) <= 2.5 ? 'met' : 'not met'}${opts.quick ? '; quick run, not the target setting' : ''}); load ${(figures.load_average as number).toFixed(1)} at the end`,
  );
  const table = twinComparison(opts, py, twins, store.count(), figures, ours, say);
  if (!opts.quick) say(writeDocs(figures, table, cfg, seq));
  return { name: 'v2a', figures, notes };
}

/** Debian's reference BLAS (libblas3), which python3-torch uses unless OpenBLAS is installed or preloaded. */
const REFERENCE_BLAS = /\/blas\/libblas\.so/;

/**
 * The twin's lines and figures: its parameter count against Attune's (a different count means the twin no longer
 * matches src/models/v2a, and then no ratio is given), its BLAS, then per steps setting its median wall and CPU seconds
 * and the ratios. Returns the markdown rows for docs/benchmarks.md (none without a twin).
 */
function twinComparison(
  opts: BenchOptions,
  py: string | null,
  twins: TwinResult[],
  params: number,
  figures: BenchReport['figures'],
  ours: Map<number, Runs>,
  say: (line: string) => void,
): string[] {
  if (opts.noPeer) {
    say('PyTorch twin: skipped (--no-peer)');
    return [];
  }
  if (!py) {
    say('PyTorch twin: not available (neither `python3` nor /usr/bin/python3 can import torch); no ratios');
    return [];
  }
  const first = twins[0];
  Object.assign(figures, {
    torch_version: first.torch_version,
    torch_params: first.params,
    params_match: first.params === params ? 1 : 0,
    torch_blas: first.blas,
    torch_sgemm_gflops: Math.max(...twins.map((t) => t.sgemm_gflops)),
  });
  say(
    `PyTorch twin ${first.torch_version} (${py}, bench/peer/v2a_torch.py, OMP_WAIT_POLICY=PASSIVE as ORT's allow_spinning=0), ${first.threads} threads, ${first.params} parameters: ${first.params === params ? 'the same count as Attune' : `Attune has ${params}`}; BLAS ${first.blas}, torch.mm 512: ${(figures.torch_sgemm_gflops as number).toFixed(1)} GFLOP/s`,
  );
  if (first.params !== params) {
    say('PyTorch twin: its parameter count differs, so it no longer matches src/models/v2a; no ratios');
    return [];
  }
  if (REFERENCE_BLAS.test(first.blas))
    say(
      'PyTorch twin: torch runs on the reference BLAS, so the ratios below measure that BLAS, not PyTorch; install libopenblas0-pthread or put an OpenBLAS on LD_LIBRARY_PATH',
    );
  const rows: string[] = [];
  const f3 = (v: number): string => v.toFixed(3);
  /** "median (best)" of wall and CPU seconds: on loaded cores the best of the rounds is the steadier figure. */
  const cell = (x: Stats): string => `${f3(x.wall)} (${f3(x.wallBest)}) / ${f3(x.cpu)} (${f3(x.cpuBest)}) s`;
  for (const steps of STEPS) {
    const a = stats(ours.get(steps)!);
    const t = stats(mergeRuns(twins, steps));
    Object.assign(figures, {
      [`torch_network_s_${steps}_steps`]: t.wall,
      [`torch_network_cpu_s_${steps}_steps`]: t.cpu,
      [`speedup_vs_torch_${steps}_steps`]: t.wall / a.wall,
      [`cpu_speedup_vs_torch_${steps}_steps`]: t.cpu / a.cpu,
      [`best_speedup_vs_torch_${steps}_steps`]: t.wallBest / a.wallBest,
      [`best_cpu_speedup_vs_torch_${steps}_steps`]: t.cpuBest / a.cpuBest,
    });
    const ratios = `${(t.wall / a.wall).toFixed(2)}x (${(t.wallBest / a.wallBest).toFixed(2)}x) / ${(t.cpu / a.cpu).toFixed(2)}x (${(t.cpuBest / a.cpuBest).toFixed(2)}x)`;
    say(`  ${String(steps).padStart(2)} steps, network: PyTorch ${cell(t)}, ratio wall / CPU ${ratios}`);
    rows.push(`| ${steps} | ${cell(a)} | ${cell(t)} | ${ratios} |`);
  }
  say('  (median (best) of the rounds; ratios: PyTorch / Attune, > 1 = Attune faster)');
  return rows;
}

/** The v2a section of docs/benchmarks.md, from a full run. */
function writeDocs(f: BenchReport['figures'], rows: string[], cfg: V2aConfig, seq: Sequence): string {
  const n = (k: string): string => (f[k] as number).toFixed(3);
  const twin = rows.length
    ? [
        '',
        `PyTorch twin (bench/peer/v2a_torch.py; PyTorch ${f.torch_version} on ${f.torch_blas}, torch.mm 512 at ${(f.torch_sgemm_gflops as number).toFixed(0)} GFLOP/s; ${f.torch_params} parameters, the same count as Attune; the same Euler + CFG loop; ${f.threads} threads, \`OMP_WAIT_POLICY=PASSIVE\` as ORT's allow_spinning=0), network only, median (best) over the rounds, which alternate with Attune's in the same run. Ratio = PyTorch / Attune (> 1: Attune faster):`,
        '',
        '| Euler steps | Attune wall / CPU, median (best) | PyTorch wall / CPU, median (best) | ratio wall / CPU, median (best) |',
        '|---|---|---|---|',
        ...rows,
      ]
    : ['', 'No PyTorch twin in this run (torch not importable, or --no-peer).'];
  return writeBenchSection('v2a', [
    '## v2a generation',
    '',
    `Command: \`${process.env.LD_LIBRARY_PATH ? `LD_LIBRARY_PATH=${process.env.LD_LIBRARY_PATH} ` : ''}npx attune bench v2a\` (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}; load average ${(f.load_average as number).toFixed(1)} at the end: the cores are shared, so compare ratios from the same run). ${seq.seconds} s of audio (${seq.latent} latent frames, ${seq.visual} visual, ${seq.sync} sync, ${seq.text} text tokens), the small variant (D ${cfg.dim}, ${cfg.jointBlocks} joint + ${cfg.audioBlocks} audio blocks, ${f.params} parameters), CFG ${CFG} as one batch of 2, ORT on ${f.threads} threads, fresh weights.`,
    '',
    `Attune, 25 steps: network ${n('network_s_25_steps')} s (CPU ${n('network_cpu_s_25_steps')} s) + decoder on ${f.threads} threads ${n('decoder_s')} s (CPU ${n('decoder_cpu_s')} s; one thread ${n('decoder_1thread_s')} s) = **${(f.total_s_25_steps as number).toFixed(2)} s** (target <= 2.5 s on 2 cores: ${(f.total_s_25_steps as number) <= 2.5 ? 'met' : 'not met'}).`,
    ...twin,
  ]);
}
