/** Helpers for the batch and queue tests: AV-Synth media, a private redis-server, `attune worker` processes. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeSynth } from '../../src/data/synth/write.js';

export const CLI = fileURLToPath(new URL('../../../bin/attune.js', import.meta.url));

/** n AV-Synth clips (64 px, 6 s) as MP4 + WAV under dir/clips; returns the MP4 paths. */
export async function synthClips(dir: string, n: number, seed = 7): Promise<string[]> {
  const s = await writeSynth({ clips: n, out: dir, config: { seed, size: 64, duration: 6 }, quiet: true });
  if (s.failed.length) throw new Error(`synth failed: ${s.failed.map((f) => f.error).join('; ')}`);
  return Array.from({ length: n }, (_, i) => join(dir, 'clips', `clip${String(i).padStart(6, '0')}.mp4`));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  url: string;
  stop: () => Promise<void>;
}

/**
 * A redis-server for one test file: ATTUNE_TEST_REDIS (an already running server, e.g. CI's) or a private one on
 * 127.0.0.1 and a free port, without persistence. A string says why there is none (the caller skips).
 */
export async function startRedis(dir: string): Promise<TestRedis | string> {
  if (process.env.ATTUNE_TEST_REDIS) return { url: process.env.ATTUNE_TEST_REDIS, stop: async () => undefined };
  if (spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status !== 0) {
    return 'redis-server is not installed: queue tests skipped (Debian: apt-get install redis-server; docs/scale.md)';
  }
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (/Ready to accept connections/.test(line)) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    proc.once('exit', () => resolve(false));
  });
  if (!ready) {
    proc.kill('SIGKILL');
    return `redis-server did not start on 127.0.0.1:${port}: queue tests skipped`;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

export interface TestWorker {
  proc: ChildProcess;
  /** stderr lines so far */
  lines: string[];
  /** resolves with the first line matching re (from now or earlier) */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  onLine(cb: (line: string) => void): void;
  stop(): Promise<void>;
}

/** `attune worker --queue url` in its own process, with short locks so a killed worker's job comes back quickly. */
export function startWorker(url: string, queueName: string, extra: string[] = []): TestWorker {
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'worker',
      '--queue',
      url,
      '--queue-name',
      queueName,
      '--jobs',
      '1',
      '--lock-duration',
      '1000',
      '--stalled-interval',
      '500',
      ...extra,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const lines: string[] = [];
  const listeners: ((l: string) => void)[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => {
    lines.push(l);
    for (const cb of listeners) cb(l);
  });
  return {
    proc,
    lines,
    onLine: (cb) => listeners.push(cb),
    waitFor(re, timeoutMs = 30_000) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () =>
            reject(
              new Error(`worker ${proc.pid}: no line matching ${re} within ${timeoutMs} ms; got:\n${lines.join('\n')}`),
            ),
          timeoutMs,
        );
        listeners.push((l) => {
          if (re.test(l)) {
            clearTimeout(t);
            resolve(l);
          }
        });
      });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        proc.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

/** results.jsonl as objects. */
export function readResults(out: string): { id: string; status: string; [k: string]: unknown }[] {
  return readFileSync(join(out, 'results.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
