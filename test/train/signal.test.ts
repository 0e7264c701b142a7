import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/engine/checkpoint.js';
import { readLog } from '../../src/train/log.js';
import { runFiles } from '../../src/train/run.js';
import { cli } from './cli.js';

test('attune train: SIGINT mid-run writes a checkpoint and exits cleanly; --resume finishes the run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-sigint-'));
  const out = join(dir, 'run');
  const files = runFiles(out);
  try {
    const args = [
      'train',
      'toy',
      '--data',
      'synth:120',
      '--out',
      out,
      '--set',
      'train.epochs=40',
      '--set',
      'train.evalBefore=false',
      '--json',
    ];
    const first = await cli(args, { log: files.log, afterSteps: 3, signal: 'SIGINT' });
    assert.equal(first.code, 130, first.stderr);
    assert.match(first.stderr, /SIGINT received; saving a checkpoint/);
    const r = JSON.parse(first.stdout);
    assert.equal(r.status, 'interrupted');
    assert.ok(r.steps >= 3 && r.steps < 240, `stopped at ${r.steps}`);
    const ckpt = loadCheckpoint(files.last);
    assert.equal(ckpt.step, r.steps, 'the checkpoint holds the last step taken');
    const log = readLog(files.log);
    // The last checkpoint is at the stop position (its reason is the signal, or 'epoch' when the signal came
    // in while an epoch-end checkpoint was being written).
    const stop = log.find((l) => l.type === 'stop');
    assert.equal(stop?.reason, 'SIGINT');
    assert.equal(log.filter((l) => l.type === 'checkpoint').pop()?.pos, stop.pos);
    assert.ok(!existsSync(files.metrics), 'no final metrics for an interrupted run');

    // --resume takes the data source and config from the run folder.
    const second = await cli(['train', 'toy', '--resume', out, '--json']);
    assert.equal(second.code, 0, second.stderr);
    const done = JSON.parse(second.stdout);
    assert.equal(done.status, 'completed');
    assert.equal(done.steps, 240);
    assert.ok(existsSync(files.metrics));
    const steps = readLog(files.log)
      .filter((l) => l.type === 'step')
      .map((l) => l.pos);
    assert.deepEqual(
      steps,
      Array.from({ length: 240 }, (_, i) => i + 1),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('attune train: SIGTERM is handled the same way; bad config fields fail with exit 2 naming the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-sigterm-'));
  const out = join(dir, 'run');
  try {
    const r = await cli(
      [
        'train',
        'toy',
        '--data',
        'synth:120',
        '--out',
        out,
        '--set',
        'train.epochs=40',
        '--set',
        'train.evalBefore=false',
      ],
      { log: runFiles(out).log, afterSteps: 2, signal: 'SIGTERM' },
    );
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /Continue with: attune train toy --resume/);
    assert.ok(loadCheckpoint(runFiles(out).last).step >= 2);
    const changed = await cli(['train', 'toy', '--resume', out, '--set', 'train.lr=1']);
    assert.equal(changed.code, 2);
    assert.match(changed.stderr, /--resume continues with the run's saved config/);
    const bad = await cli([
      'train',
      'toy',
      '--data',
      'synth:120',
      '--out',
      join(dir, 'bad'),
      '--set',
      'train.worker="true"',
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /field 'train\.worker': Expected boolean, received string/);
    const unknown = await cli(['train', 'nope', '--data', 'synth:5']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown task 'nope'; known tasks: .*toy/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('attune train --seeds prints mean ± std and writes summary.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-seeds-'));
  try {
    const r = await cli([
      'train',
      'toy',
      '--data',
      'synth:60',
      '--out',
      dir,
      '--seeds',
      '4,5',
      '--set',
      'train.epochs=1',
      '--set',
      'train.evalBefore=false',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /test\.acc\s+\d\.\d{4} ± \d\.\d{4}\s+2/);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    assert.deepEqual(summary.seeds, [4, 5]);
    assert.equal(summary.summary['test.acc'].n, 2);
    assert.ok(existsSync(join(dir, 'seed-5', 'metrics.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
