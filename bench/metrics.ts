import { cpus, loadavg } from 'node:os';
import type { BenchOptions, BenchReport } from './types.js';
import { retrieval } from '../src/metrics/retrieval.js';
import { frechetDistance } from '../src/metrics/generation.js';
import {
  choleskyPsdBlocked,
  congruenceLower,
  covariance,
  matrix,
  symmetricEigenvaluesBlocked,
  type Matrix,
} from '../src/metrics/linalg.js';
import type { Precision } from '../src/metrics/ort.js';
import { Rng } from '../src/util/rng.js';
import { writeBenchSection } from './docs.js';

/**
 * `attune bench metrics`: retrieval (R@k, mAP@10, ranks, InfoNCE; both directions) on 10,000 pairs of
 * 512-d embeddings, and the Fréchet distance between two sets of 10,000 x 2048 features. Wall time and
 * process CPU time are both reported: the machine is shared, and CPU time / cores estimates an idle run.
 */
const TARGETS = { retrieval: 2, fd: 10 };

function embeddings(n: number, d: number, seed: number, noise: number): { a: Matrix; b: Matrix } {
  const rng = new Rng(seed);
  const a = matrix(n, d, new Float32Array(n * d));
  const b = matrix(n, d, new Float32Array(n * d));
  for (let i = 0; i < n * d; i++) {
    a.data[i] = rng.normal();
    b.data[i] = a.data[i] + noise * rng.normal();
  }
  return { a, b };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const notes: string[] = [];
  const say = (line: string) => {
    notes.push(line);
    if (!opts.json) process.stdout.write(line + '\n');
  };
  const cores = cpus().length;
  const sizes = opts.quick ? { n: 2000, d: 512, fdN: 2000, fdD: 256 } : { n: 10000, d: 512, fdN: 10000, fdD: 2048 };
  say(
    `metrics bench (${opts.quick ? 'quick' : 'full'}); ${cores} cores, load average ${loadavg()[0].toFixed(1)} (other work on the machine makes wall times noisy)`,
  );
  const figures: BenchReport['figures'] = { cores, load_average: Math.round(loadavg()[0] * 10) / 10 };

  const { a, b } = embeddings(sizes.n, sizes.d, 1, 4);
  const warmA = matrix(64, sizes.d, a.data.subarray(0, 64 * sizes.d));
  const warmB = matrix(64, sizes.d, b.data.subarray(0, 64 * sizes.d));
  for (const precision of ['float32', 'float64'] as Precision[]) {
    for (const infoNce of [false, true]) await retrieval(warmA, warmB, { precision, infoNce }); // create the sessions
  }
  for (const [precision, infoNce] of [
    ['float32', false],
    ['float32', true],
    ['float64', true],
  ] as [Precision, boolean][]) {
    const r = await timed(() => retrieval(a, b, { precision, infoNce }));
    const what = infoNce ? 'R@k + mAP@10 + ranks + InfoNCE' : 'R@k + mAP@10 + ranks';
    say(
      `retrieval ${sizes.n} pairs x ${sizes.d}-d, both directions, ${what} (${precision}): ${r.wall.toFixed(2)} s wall, ${r.cpu.toFixed(2)} s CPU (R@1 a->b ${r.value.aToB.recall['R@1'].toFixed(4)})`,
    );
    const key = `retrieval_${precision}${infoNce ? '_infonce' : ''}`;
    figures[`${key}_wall_s`] = round(r.wall);
    figures[`${key}_cpu_s`] = round(r.cpu);
  }

  const f1 = embeddings(sizes.fdN, sizes.fdD, 2, 1);
  const f2 = embeddings(sizes.fdN, sizes.fdD, 3, 1.2);
  await frechetDistance(matrix(8, 4, f1.a.data.subarray(0, 32)), matrix(8, 4, f2.a.data.subarray(0, 32))); // warm sessions
  const fd = await timed(() => frechetDistance(f1.a, f2.b, { precision: 'float64' }));
  say(
    `Frechet distance ${sizes.fdN} x ${sizes.fdD} vs ${sizes.fdN} x ${sizes.fdD} (float64): ${fd.wall.toFixed(2)} s wall, ${fd.cpu.toFixed(2)} s CPU (FD ${fd.value.fd.toFixed(4)})`,
  );
  figures.fd_wall_s = round(fd.wall);
  figures.fd_cpu_s = round(fd.cpu);
  figures.fd_value = fd.value.fd;
  // the same computation phase by phase, to show where the time goes
  const phases: [string, () => Promise<unknown>][] = [];
  let c1: Awaited<ReturnType<typeof covariance>> | undefined;
  let c2: Awaited<ReturnType<typeof covariance>> | undefined;
  let l: Matrix | undefined;
  let m: Matrix | undefined;
  phases.push([
    'covariances',
    async () => {
      c1 = await covariance(f1.a);
      c2 = await covariance(f2.b);
    },
  ]);
  phases.push([
    'cholesky',
    async () => {
      l = await choleskyPsdBlocked(c1!.cov);
    },
  ]);
  phases.push([
    'LT_S2_L',
    async () => {
      m = await congruenceLower(c2!.cov, l!);
    },
  ]);
  phases.push(['eigenvalues', () => symmetricEigenvaluesBlocked(m!)]);
  const parts: string[] = [];
  for (const [name, fn] of phases) {
    const t = await timed(fn);
    figures[`fd_phase_${name}_wall_s`] = round(t.wall);
    figures[`fd_phase_${name}_cpu_s`] = round(t.cpu);
    parts.push(`${name} ${t.wall.toFixed(2)}/${t.cpu.toFixed(2)}`);
  }
  say(`  phases (wall/CPU s): ${parts.join(', ')}`);
  if (!opts.quick) {
    say(
      `targets: retrieval < ${TARGETS.retrieval} s (float32 ${figures.retrieval_float32_wall_s} s), FD < ${TARGETS.fd} s (${figures.fd_wall_s} s)`,
    );
  }
  // Only a full run replaces the published figures; a --quick smoke run (CI, tests) leaves them alone.
  if (opts.quick) say('docs/benchmarks.md keeps the figures of the last full run (this was --quick)');
  else say(writeDocs(figures, sizes));
  return { name: 'metrics', figures, notes };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Replaces (or appends) the Metrics section of docs/benchmarks.md; other sections are left as they are. */
function writeDocs(f: BenchReport['figures'], s: { n: number; d: number; fdN: number; fdD: number }): string {
  return writeBenchSection('metrics', [
    '## Metrics',
    '',
    `Command: \`npx attune bench metrics\` (${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}; load average ${f.load_average} from other work while running, so wall times are noisy).`,
    '',
    '| measure | wall | CPU | target |',
    '|---|---|---|---|',
    `| retrieval, ${s.n} pairs x ${s.d}-d, R@1/5/10 + mAP@10 + mean/median rank, both directions, float32 GEMM | ${f.retrieval_float32_wall_s} s | ${f.retrieval_float32_cpu_s} s | < ${TARGETS.retrieval} s (10k x 512) |`,
    `| same + InfoNCE bound (one more exp pass) | ${f.retrieval_float32_infonce_wall_s} s | ${f.retrieval_float32_infonce_cpu_s} s | |`,
    `| same + InfoNCE, float64 GEMM | ${f.retrieval_float64_infonce_wall_s} s | ${f.retrieval_float64_infonce_cpu_s} s | |`,
    `| Fréchet distance, two sets of ${s.fdN} x ${s.fdD}, float64 | ${f.fd_wall_s} s | ${f.fd_cpu_s} s | < ${TARGETS.fd} s (10k x 2048) |`,
    `| - phase: both covariances (GEMM, 2 threads) | ${f.fd_phase_covariances_wall_s} s | ${f.fd_phase_covariances_cpu_s} s | |`,
    `| - phase: blocked Cholesky | ${f.fd_phase_cholesky_wall_s} s | ${f.fd_phase_cholesky_cpu_s} s | |`,
    `| - phase: Lᵀ Σ2 L (GEMM) | ${f.fd_phase_LT_S2_L_wall_s} s | ${f.fd_phase_LT_S2_L_cpu_s} s | |`,
    `| - phase: eigenvalues (band reduction GEMMs + JS bulge chasing + QR) | ${f.fd_phase_eigenvalues_wall_s} s | ${f.fd_phase_eigenvalues_cpu_s} s | |`,
    '',
    'Matrix products run in ONNX Runtime (MLAS GEMM); see docs/metrics.md for the algorithms. CPU time counts all threads,',
    'so on an idle 2-core machine the GEMM phases take about CPU / 2 and the JS phases about their CPU time.',
  ]);
}
