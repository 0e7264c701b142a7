/**
 * `attune bench v2a`: time to generate 8 s of sound with the default (small) v2a network at 25 Euler steps with CFG
 * (cond + uncond in one batch of 2) on 2 ORT threads, split into the network (sampling) and the waveform decoder
 * (mel -> NNLS -> Griffin-Lim at hop 256, 16 iterations), and the time per steps setting (1/4/8/25). Weights are freshly
 * initialized: the time does not depend on their values. Target (issue #12): <= 2.5 s for the whole generation.
 * --quick: 2 s of audio, the tiny variant. No PyTorch twin yet (see docs/v2a.md).
 */
import { cpus, loadavg } from 'node:os';
import type { BenchOptions, BenchReport } from './types.js';
import { Graph, ParamStore, Scope } from '../src/engine/index.js';
import { Predictor } from '../src/engine/export.js';
import { decodeAudio } from '../src/models/v2a/audio.js';
import { sequence, v2aSmall, v2aTiny } from '../src/models/v2a/config.js';
import { generateLatents, predictorVelocity } from '../src/models/v2a/generate.js';
import { v2aInference } from '../src/models/v2a/model.js';
import { synthExample } from '../src/models/v2a/data.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Wall and CPU seconds (this process, all threads: ORT's included) of an async job. CPU time is what a shared, loaded
 * machine cannot inflate: on 2 idle cores the wall time would be about CPU / threads used. */
async function timed(fn: () => Promise<unknown> | unknown): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
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
    session: { threads: 2 },
  });
  const example = synthExample(0, seq, 0, true);
  const item = { frames: example.frames, text: null };
  const velocity = predictorVelocity(predictor);
  say(
    `v2a generation: ${seconds} s of audio (${seq.latent} latent frames, ${seq.visual} visual, ${seq.sync} sync, ${seq.text} text tokens), ${opts.quick ? 'tiny' : 'small'} variant (${store.count()} parameters), CFG in one batch of 2, 2 threads; ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}`,
  );
  const figures: Record<string, number> = { params: store.count(), seconds };
  try {
    await generateLatents(velocity, [item], seq, 2, { steps: 1 }); // warm-up
    const rounds = opts.quick ? 1 : 3;
    for (const steps of [1, 4, 8, 25]) {
      const net: { wall: number; cpu: number }[] = [];
      for (let r = 0; r < rounds; r++)
        net.push(await timed(() => generateLatents(velocity, [item], seq, 2, { steps, cfg: 4.5 })));
      figures[`network_s_${steps}_steps`] = median(net.map((x) => x.wall));
      figures[`network_cpu_s_${steps}_steps`] = median(net.map((x) => x.cpu));
    }
    const [latent] = await generateLatents(velocity, [item], seq, 2, { steps: 1 });
    const dec: { wall: number; cpu: number }[] = [];
    for (let r = 0; r < rounds; r++) dec.push(await timed(() => decodeAudio(latent, seq.latent, { iterations: 16 })));
    figures.decoder_s = median(dec.map((x) => x.wall));
    figures.decoder_cpu_s = median(dec.map((x) => x.cpu));
  } finally {
    await predictor.close();
  }
  figures.total_s_25_steps = figures.network_s_25_steps + figures.decoder_s;
  const f3 = (v: number): string => v.toFixed(3);
  for (const steps of [1, 4, 8, 25]) {
    const net = figures[`network_s_${steps}_steps`],
      cpu = figures[`network_cpu_s_${steps}_steps`];
    say(
      `  ${String(steps).padStart(2)} steps: network ${f3(net)} s (CPU ${f3(cpu)} s) + decoder ${f3(figures.decoder_s)} s (CPU ${f3(figures.decoder_cpu_s)} s) = ${f3(net + figures.decoder_s)} s wall`,
    );
  }
  say(
    `target: 8 s at 25 steps with CFG <= 2.5 s on 2 cores -> ${figures.total_s_25_steps.toFixed(2)} s (${figures.total_s_25_steps <= 2.5 ? 'met' : 'not met'}${opts.quick ? '; quick run, not the target setting' : ''})`,
  );
  say('PyTorch twin: not written yet (and torch is not importable on this machine); no ratio printed.');
  return { name: 'v2a', figures, notes };
}
