import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/engine/checkpoint.js';
import type { HostArray } from '../../src/io/array.js';
import { parseOverrides, resolveConfig } from '../../src/train/config.js';
import { readLog, type LogLine } from '../../src/train/log.js';
import { runFiles, runTraining } from '../../src/train/run.js';
import { toyTask } from './toy.js';

// Dropout (runner Rng), feature jitter (per-batch Rng), AdamW state, a cosine schedule and epoch-wise
// shuffles all have to line up for a resumed run to match an uninterrupted one bit for bit.
const source = { kind: 'synth' as const, clips: 120 };
const config = resolveConfig(toyTask, {
  source: 'synth',
  overrides: parseOverrides(['train.epochs=4', 'model.dropout=0.2', 'train.checkpointEvery=4']),
});
const bits = (a: HostArray) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
const trace = (log: LogLine[]) =>
  log.filter((l) => l.type === 'step' || l.type === 'eval').map(({ time: _t, ...rest }) => rest);

function assertSameState(a: string, b: string): void {
  const [x, y] = [loadCheckpoint(a), loadCheckpoint(b)];
  assert.equal(x.step, y.step);
  assert.deepEqual(Object.keys(x.params).sort(), Object.keys(y.params).sort());
  for (const name of Object.keys(x.params))
    assert.ok(bits(x.params[name]).equals(bits(y.params[name])), `param ${name} differs`);
  for (const name of Object.keys(x.optimState))
    assert.ok(bits(x.optimState[name]).equals(bits(y.optimState[name])), `optimizer state ${name} differs`);
  assert.deepEqual(x.rng, y.rng);
}

test('resume: N steps == k steps + stop + resume + (N - k) steps: identical losses, evaluations, weights and optimizer state', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-resume-'));
  try {
    const straight = await runTraining({ task: toyTask, config, source, out: join(dir, 'straight'), quiet: true });
    assert.equal(straight.steps, 24);

    // Stop mid-epoch (step 9 of 24; 6 steps per epoch) through the AbortSignal, as SIGINT does.
    const ac = new AbortController();
    const out = join(dir, 'split');
    const first = await runTraining({
      task: toyTask,
      config,
      source,
      out,
      quiet: true,
      signal: ac.signal,
      onStep: ({ pos }) => pos === 9 && ac.abort(),
    });
    assert.equal(first.status, 'interrupted');
    assert.equal(first.pos, 9);
    assert.equal(first.metrics, null);
    assert.equal(loadCheckpoint(runFiles(out).last).step, 9);

    const resumed = await runTraining({ task: toyTask, config, source, out, quiet: true, resume: true });
    assert.equal(resumed.status, 'completed');
    assert.equal(resumed.steps, 24);
    assert.deepEqual(trace(readLog(runFiles(out).log)), trace(readLog(runFiles(straight.dir).log)));
    assert.deepEqual(resumed.metrics, straight.metrics);
    assert.deepEqual(resumed.monitor, straight.monitor);
    assertSameState(runFiles(out).last, runFiles(straight.dir).last);
    assert.ok(
      readFileSync(runFiles(out).best).equals(readFileSync(runFiles(straight.dir).best)),
      'best.safetensors identical',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resume after a crash: log lines past the checkpoint are dropped and replayed identically', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-crash-'));
  try {
    const straight = await runTraining({ task: toyTask, config, source, out: join(dir, 'straight'), quiet: true });
    // Run to step 14, keeping a copy of the periodic checkpoint written at step 8; then put that copy back
    // as if the process had died after step 14 without a final checkpoint.
    const out = join(dir, 'crash');
    const files = runFiles(out);
    const ac = new AbortController();
    await runTraining({
      task: toyTask,
      config,
      source,
      out,
      quiet: true,
      signal: ac.signal,
      onStep: ({ pos }) => {
        if (pos === 9) copyFileSync(files.last, join(out, 'step8.safetensors'));
        if (pos === 14) ac.abort();
      },
    });
    copyFileSync(join(out, 'step8.safetensors'), files.last);
    assert.equal(loadCheckpoint(files.last).step, 8);
    assert.ok(
      readLog(files.log).some((l) => l.pos > 8),
      'the log ran ahead of the checkpoint',
    );

    const resumed = await runTraining({ task: toyTask, config, source, out, quiet: true, resume: true });
    assert.equal(resumed.steps, 24);
    const steps = readLog(files.log)
      .filter((l) => l.type === 'step')
      .map((l) => l.pos);
    assert.deepEqual(
      steps,
      Array.from({ length: 24 }, (_, i) => i + 1),
      'each step logged once',
    );
    assert.deepEqual(trace(readLog(files.log)), trace(readLog(runFiles(straight.dir).log)));
    assertSameState(files.last, runFiles(straight.dir).last);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
