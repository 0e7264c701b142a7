/**
 * `attune bench queue`: `attune sync` over AV-Synth clips through a Redis queue (a private redis-server on
 * 127.0.0.1) served by 3 `attune worker` processes, 20 runs; in each run one worker, picked at random, is killed with
 * SIGKILL at a random moment while it holds a job. Counts per run: files lost (no result line), files duplicated
 * (more than one result line), jobs completed more than once (worker logs), jobs taken again after the kill.
 * Needs redis-server (Debian: apt-get install redis-server).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchReport } from './types.js';
import { runJobs } from '../src/jobs/submit.js';
import { InputError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import { clipsFolder } from './batch.js';

const CLI = fileURLToPath(new URL('../../bin/attune.js', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function waitLine(proc: ChildProcess, stream: 'stdout' | 'stderr', re: RegExp, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no line matching ${re}`)), ms);
    createInterface({ input: proc[stream]! }).on('line', (l) => {
      if (re.test(l)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

interface Worker {
  proc: ChildProcess;
  lines: string[];
}

function startWorker(url: string, queue: string, onLine: (w: Worker, l: string) => void): Worker {
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'worker',
      '--queue',
      url,
      '--queue-name',
      queue,
      '--jobs',
      '1',
      '--lock-duration',
      '1000',
      '--stalled-interval',
      '500',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const w: Worker = { proc, lines: [] };
  createInterface({ input: proc.stderr! }).on('line', (l) => {
    w.lines.push(l);
    onLine(w, l);
  });
  return w;
}

const stop = (w: Worker) =>
  new Promise<void>((resolve) => {
    if (w.proc.exitCode !== null || w.proc.signalCode !== null) return resolve();
    w.proc.once('exit', () => resolve());
    w.proc.kill('SIGTERM');
  });

export async function run(o: BenchOptions): Promise<BenchReport> {
  if (spawnSync('redis-server', ['--version']).status !== 0)
    throw new InputError('bench queue needs redis-server (Debian: apt-get install redis-server)', {
      field: 'redis-server',
    });
  const runs = o.quick ? 3 : 20;
  const clips = o.quick ? 6 : 12;
  const input = await clipsFolder(clips);
  const dir = mkdtempSync(join(tmpdir(), 'attune-bench-queue-'));
  const port = await freePort();
  const redis = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await waitLine(redis, 'stdout', /Ready to accept connections/);
  const url = `redis://127.0.0.1:${port}`;
  const rng = new Rng(2026);
  const rows: { lost: number; duplicated: number; completedTwice: number; retaken: number; seconds: number }[] = [];
  const load0 = loadavg()[0];
  try {
    for (let r = 0; r < runs; r++) {
      const queue = `bench-${r}`;
      const victim = rng.int(3);
      const killAt = 1 + rng.int(3); // the victim's 1st, 2nd or 3rd job
      const delayMs = rng.int(200); // ... this long after it started it
      let starts = 0;
      const workers: Worker[] = [];
      for (let i = 0; i < 3; i++) {
        workers.push(
          startWorker(url, queue, (w, l) => {
            if (w === workers[victim] && / start /.test(l) && ++starts === killAt)
              setTimeout(() => w.proc.kill('SIGKILL'), delayMs);
          }),
        );
      }
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((res) => {
              const t = setInterval(() => {
                if (w.lines.some((l) => /ready:/.test(l))) {
                  clearInterval(t);
                  res();
                }
              }, 50);
            }),
        ),
      );
      const out = join(dir, `out-${r}`);
      const t0 = performance.now();
      const s = await runJobs({
        kind: 'sync',
        input,
        out,
        options: { method: 'xcorr' },
        queue: url,
        queueName: queue,
        quiet: true,
      });
      const seconds = (performance.now() - t0) / 1000;
      await Promise.all(workers.map(stop));
      const lines = readFileSync(join(out, 'results.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { id: string; status: string });
      const per = new Map<string, number>();
      for (const l of lines) per.set(l.id, (per.get(l.id) ?? 0) + 1);
      const done = new Map<string, number>();
      const started = new Map<string, number>();
      for (const w of workers)
        for (const l of w.lines) {
          const d = / done (\S+)/.exec(l);
          if (d) done.set(d[1], (done.get(d[1]) ?? 0) + 1);
          const st = / start (\S+)/.exec(l);
          if (st) started.set(st[1], (started.get(st[1]) ?? 0) + 1);
        }
      rows.push({
        lost: clips - lines.filter((l) => l.status === 'ok').length,
        duplicated: [...per.values()].filter((n) => n > 1).length,
        completedTwice: [...done.values()].filter((n) => n > 1).length,
        retaken: [...started.values()].filter((n) => n > 1).length,
        seconds,
      });
      if (!o.json)
        process.stdout.write(
          `run ${r + 1}/${runs}: worker ${victim} killed ${delayMs} ms into its job #${killAt}; ${s.ok}/${s.total} ok, lost ${rows[r].lost}, duplicated ${rows[r].duplicated}, completed twice ${rows[r].completedTwice}, taken again ${rows[r].retaken}, ${seconds.toFixed(1)} s\n`,
        );
    }
  } finally {
    redis.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  const sum = (k: keyof (typeof rows)[number]) => rows.reduce((a, x) => a + x[k], 0);
  const figures = {
    runs,
    clips_per_run: clips,
    lost: sum('lost'),
    duplicated: sum('duplicated'),
    completed_twice: sum('completedTwice'),
    taken_again: sum('retaken'),
    mean_seconds: sum('seconds') / runs,
  };
  const notes = [
    `attune sync (xcorr) over ${clips} AV-Synth clips on a Redis queue, 3 attune worker processes (--jobs 1, --lock-duration 1000, --stalled-interval 500), one SIGKILLed mid-job per run; ${cpus().length} cores, load average ${load0.toFixed(1)}`,
    `  ${runs} runs: files lost ${figures.lost}, files duplicated ${figures.duplicated}, jobs completed twice ${figures.completed_twice}, killed jobs taken again ${figures.taken_again}, ${figures.mean_seconds.toFixed(1)} s per run`,
  ];
  if (!o.json) process.stdout.write(notes.join('\n') + '\n');
  return { name: 'queue', figures, notes };
}
