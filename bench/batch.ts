/**
 * `attune bench batch`: `attune sync` (xcorr) over AV-Synth clips through the batch layer's local pool: one worker
 * process against a pool of two, same clips, best of `repeats`. Two figures each: end to end (`runJobs` into a fresh
 * --out: hashing, process start-up, results files) and steady state (a started pool running the jobs). Prints both
 * throughputs (files/s) and their ratio, and a started single process held to one thread (ATTUNE_THREADS=1): what
 * each of the pool's workers gets on a 2-core machine. The clips are written once to .bench/batch-N/.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchReport } from './types.js';
import { writeSynth } from '../src/data/synth/write.js';
import { ProcessPool } from '../src/jobs/pool.js';
import { runJobs } from '../src/jobs/submit.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function clipsFolder(n: number): Promise<string> {
  const out = join(ROOT, '.bench', `batch-${n}`);
  if (!existsSync(join(out, 'manifest.jsonl'))) {
    // video only in the folder walked: the sync jobs read the MP4s (the WAVs go elsewhere)
    await writeSynth({ clips: n, out, config: { seed: 2026, size: 112, duration: 6 }, quiet: true });
    for (let i = 0; i < n; i++) rmSync(join(out, 'clips', `clip${String(i).padStart(6, '0')}.wav`), { force: true });
  }
  return join(out, 'clips');
}

async function timed(input: string, jobs: number): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'attune-bench-batch-'));
  try {
    const t0 = performance.now();
    const s = await runJobs({
      kind: 'sync',
      input,
      out,
      options: { method: 'xcorr' },
      jobs,
      executor: 'pool',
      quiet: true,
    });
    if (s.failed) throw new Error(`bench batch: ${s.failed} file(s) failed: ${s.failures[0]?.error}`);
    return (performance.now() - t0) / 1000;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Seconds for a started pool of `jobs` processes to run every file (start-up not counted). */
async function steady(files: string[], jobs: number, threads?: number): Promise<number> {
  const pool = new ProcessPool(jobs, 1, threads);
  try {
    await pool.warm();
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: jobs }, async () => {
        while (next < files.length) {
          const path = files[next++];
          const r = await pool.run({
            kind: 'sync',
            options: { method: 'xcorr' },
            key: path,
            item: { id: path, source: path, path },
          });
          if (r.status !== 'ok') throw new Error(`bench batch: ${path}: ${r.error}`);
        }
      }),
    );
    return (performance.now() - t0) / 1000;
  } finally {
    await pool.close();
  }
}

export async function run(o: BenchOptions): Promise<BenchReport> {
  const n = o.quick ? 6 : 20;
  const repeats = o.quick ? 1 : 3;
  const input = await clipsFolder(n);
  const files = Array.from({ length: n }, (_, i) => join(input, `clip${String(i).padStart(6, '0')}.mp4`));
  const load = loadavg()[0];
  const e2e = { 1: Infinity, 2: Infinity } as Record<1 | 2, number>;
  const warm = { 1: Infinity, 2: Infinity } as Record<1 | 2, number>;
  let singleThread = Infinity;
  for (let r = 0; r < repeats; r++) {
    for (const jobs of [1, 2] as const) {
      e2e[jobs] = Math.min(e2e[jobs], await timed(input, jobs));
      warm[jobs] = Math.min(warm[jobs], await steady(files, jobs));
    }
    singleThread = Math.min(singleThread, await steady(files, 1, 1));
  }
  const rate = (t: number) => n / t;
  const figures = {
    clips: n,
    end_to_end_files_per_s_1: rate(e2e[1]),
    end_to_end_files_per_s_2: rate(e2e[2]),
    end_to_end_ratio: e2e[1] / e2e[2],
    steady_files_per_s_1: rate(warm[1]),
    steady_files_per_s_2: rate(warm[2]),
    steady_ratio: warm[1] / warm[2],
    steady_files_per_s_1_single_thread: rate(singleThread),
    steady_ratio_vs_single_thread: singleThread / warm[2],
    load_average: load,
  };
  const notes = [
    `attune sync (xcorr) over ${n} AV-Synth clips (6 s, 112 px, H.264 + AAC), best of ${repeats}; ${cpus().length} cores, load average ${load.toFixed(1)} before`,
    `  end to end (runJobs, fresh --out): 1 process ${rate(e2e[1]).toFixed(2)} files/s, 2 processes ${rate(e2e[2]).toFixed(2)} files/s, ratio ${figures.end_to_end_ratio.toFixed(2)}x`,
    `  steady state (started pool):       1 process ${rate(warm[1]).toFixed(2)} files/s, 2 processes ${rate(warm[2]).toFixed(2)} files/s, ratio ${figures.steady_ratio.toFixed(2)}x`,
    `  one process held to 1 thread:      ${rate(singleThread).toFixed(2)} files/s; 2 processes (1 thread each) ${figures.steady_ratio_vs_single_thread.toFixed(2)}x that`,
  ];
  if (!o.json) process.stdout.write(notes.join('\n') + '\n');
  return { name: 'batch', figures, notes };
}
