import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFfmpeg } from '../../src/media/ffmpeg.js';
import { probe } from '../../src/media/probe.js';

const cli = fileURLToPath(new URL('../../../bin/attune.js', import.meta.url));

/** Every file under `dir`, relative. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), join(rel, e.name));
      else out.push(join(rel, e.name));
    }
  };
  if (existsSync(dir)) walk(dir, '');
  return out;
}

test('issue #14 item 8: attune train writes nothing outside --out (no telemetry db, no mat-debug log, no .attune-cache in the cwd)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-outside-'));
  try {
    const home = join(dir, 'home');
    const cwd = join(dir, 'cwd');
    mkdirSync(home);
    mkdirSync(cwd);
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache') };
    delete env.ORT_DISABLE_TELEMETRY;
    const started = Date.now() - 1000;
    const r = spawnSync(
      process.execPath,
      [
        cli,
        'train',
        'av-sync',
        '--data',
        'synth:8',
        '--set',
        'train.epochs=1',
        '--set',
        'train.report=false',
        '--out',
        join(dir, 'run'),
        '--quiet',
      ],
      {
        cwd,
        env,
        encoding: 'utf8',
        timeout: 240_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      files(home),
      [],
      'nothing under $HOME (onnxruntime telemetry queues ~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db)',
    );
    assert.deepEqual(files(cwd), [], 'nothing in the current directory (the feature cache goes to <out>/cache)');
    // PIDs are reused: a log another process left earlier under the same PID is not this run's.
    for (const t of new Set(['/tmp', tmpdir()])) {
      const log = join(t, `mat-debug-${r.pid}.log`);
      assert.ok(!existsSync(log) || statSync(log).mtimeMs < started, `${log} was left behind`);
    }
    assert.ok(existsSync(join(dir, 'run', 'cache')), 'the feature cache lives in the run folder');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('issue #14 item 8: a file named like an ffmpeg protocol (concat:a.wav|b.wav) is read as that file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-proto-'));
  const before = process.cwd();
  try {
    process.chdir(dir);
    const tone = (seconds: number, name: string) =>
      runFfmpeg([
        '-y',
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=440:sample_rate=8000:duration=${seconds}`,
        join(dir, name),
      ]);
    await tone(1, 'a.wav');
    await tone(2, 'b.wav');
    await tone(0.5, 'c.wav');
    const tricky = 'concat:a.wav|b.wav';
    renameSync('c.wav', tricky);
    const info = await probe(tricky, { scanPackets: 0 });
    // ffmpeg's concat protocol would have read a.wav + b.wav (3 s); the file itself lasts 0.5 s
    assert.ok(Math.abs(info.duration - 0.5) < 0.05, `duration ${info.duration}`);
  } finally {
    process.chdir(before);
    rmSync(dir, { recursive: true, force: true });
  }
});
