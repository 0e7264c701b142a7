/**
 * Regression tests for the trainer faults of issue #14: a diverged run reported as success, evaluation state
 * that lived in memory instead of the checkpoint, resume silently accepting other data, and no size bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, InputError } from '../../src/util/errors.js';
import { parseOverrides, resolveConfig } from '../../src/train/config.js';
import { DivergedError } from '../../src/train/gate.js';
import { readLog, type LogLine } from '../../src/train/log.js';
import { checkMemory, estimateMemory, parseByteSize } from '../../src/train/memory.js';
import { resolveRunConfig } from '../../src/train/open.js';
import { runFiles, runTraining } from '../../src/train/run.js';
import { getTask } from '../../src/models/registry.js';
import type { TaskData } from '../../src/train/task.js';
import { cli } from './cli.js';
import { toyTask } from './toy.js';

const source = { kind: 'synth' as const, clips: 120 };
const config = (...sets: string[]) => resolveConfig(toyTask, { source: 'synth', overrides: parseOverrides(sets) });
const tmp = () => mkdtempSync(join(tmpdir(), 'attune-faults-'));
/** metrics.json without the wall-clock seconds (the only thing a redone final phase may change); `timing: false` also drops steps/s (other runs). */
const metricsOf = (dir: string, timing = true) => {
  const {
    seconds: _s,
    stepsPerSecond,
    ...rest
  } = JSON.parse(readFileSync(runFiles(dir).metrics, 'utf8')) as Record<string, unknown>;
  return timing ? { ...rest, stepsPerSecond } : rest;
};
const withoutTime = (log: LogLine[]) => log.map(({ time: _t, ...rest }) => rest);

test('#14.2 a diverged run (lr 1e308) fails with a DivergedError: nothing is written as best, checkpoint, metrics or model', async () => {
  const dir = tmp();
  try {
    const out = join(dir, 'run');
    await assert.rejects(
      runTraining({
        task: toyTask,
        config: config('train.lr=1e308', 'train.maxSteps=1', 'train.export=true', 'train.report=true'),
        source,
        out,
        quiet: true,
      }),
      (err: unknown) =>
        err instanceof DivergedError &&
        err.code === 'NUMERIC' &&
        /training diverged at step 1: .* NaN or Inf/.test(err.message) &&
        /train\.lr \(now 1e\+308\)/.test(err.message),
    );
    const f = runFiles(out);
    for (const p of [f.best, f.last, f.metrics, f.onnx, f.report]) assert.ok(!existsSync(p), `${p} must not exist`);
    const log = readLog(f.log);
    assert.ok(
      !log.some((l) => l.type === 'eval' && l.split === 'val'),
      'no val evaluation was logged (nor called improved)',
    );
    const diverged = log.find((l) => l.type === 'diverged');
    assert.equal(diverged?.stage, 'val');

    // The CLI exits non-zero and says why.
    const r = await cli([
      'train',
      'toy',
      '--data',
      'synth:120',
      '--out',
      join(dir, 'cli'),
      '--set',
      'train.lr=1e308',
      '--set',
      'train.maxSteps=1',
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /training diverged at step 1/);
    assert.doesNotMatch(r.stdout, /completed/);

    // Without a val split the gate stands before the epoch-end checkpoint instead.
    await assert.rejects(
      runTraining({
        task: toyTask,
        config: config('train.lr=1e308', 'train.maxSteps=1', 'split.val=0'),
        source,
        out: join(dir, 'noval'),
        quiet: true,
      }),
      (err: unknown) => err instanceof DivergedError && /before writing a checkpoint/.test(err.message),
    );
    assert.ok(!existsSync(runFiles(join(dir, 'noval')).last));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('#14.3 a run resumed after its loop ended (killed in the final phase) evaluates exactly as the uninterrupted one', async () => {
  const dir = tmp();
  try {
    const cfg = config('train.epochs=2', 'train.report=true');
    const straight = join(dir, 'straight');
    const a = await runTraining({ task: toyTask, config: cfg, source, out: straight, quiet: true });
    assert.ok('test.val_acc' in a.metrics!.test, 'the toy reports a val-fitted figure at test time');

    // Killed after the final evaluation was logged, before metrics.json: the checkpoint is at the loop's end.
    const out = join(dir, 'killed');
    await runTraining({ task: toyTask, config: cfg, source, out, quiet: true });
    const before = metricsOf(out);
    unlinkSync(runFiles(out).metrics);
    const b = await runTraining({ task: toyTask, out, resume: true, quiet: true });
    assert.equal(b.status, 'completed');
    assert.deepEqual(b.metrics, a.metrics);
    assert.deepEqual(
      metricsOf(out),
      before,
      'metrics.json as the run first wrote it (steps/s too: its timing is run state)',
    );
    assert.deepEqual(metricsOf(out, false), metricsOf(straight, false));
    const log = readLog(runFiles(out).log);
    assert.equal(log.filter((l) => l.type === 'eval' && l.tag === 'final').length, 1, 'one final evaluation line');
    assert.equal(log.filter((l) => l.type === 'end').length, 1);
    // The log is the uninterrupted one plus the resume line.
    assert.deepEqual(withoutTime(log.filter((l) => l.type !== 'resume')), withoutTime(readLog(runFiles(straight).log)));

    // Resuming a finished run again changes nothing either (metrics.json present this time).
    await runTraining({ task: toyTask, out, resume: true, quiet: true });
    assert.deepEqual(metricsOf(out), before);
    assert.equal(readLog(runFiles(out).log).filter((l) => l.type === 'eval' && l.tag === 'final').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('#14.4 resume refuses a changed data source unless told (allowDataChange / --allow-data-change)', async () => {
  const dir = tmp();
  try {
    const out = join(dir, 'run');
    const ac = new AbortController();
    const cfg = config('train.epochs=2', 'train.evalBefore=false');
    const first = await runTraining({
      task: toyTask,
      config: cfg,
      source,
      out,
      quiet: true,
      signal: ac.signal,
      onStep: ({ pos }) => pos === 3 && ac.abort(),
    });
    assert.equal(first.status, 'interrupted');
    copyFileSync(runFiles(out).last, join(dir, 'step3.safetensors'));

    await assert.rejects(
      runTraining({ task: toyTask, out, resume: true, source: { kind: 'synth', clips: 160 }, quiet: true }),
      (err: unknown) =>
        err instanceof InputError &&
        /the run trained on synth:120, and resume was given synth:160/.test(err.message) &&
        /--allow-data-change/.test(err.message),
    );
    // The same source is fine; the CLI names the flag.
    const r = await cli(['train', 'toy', '--resume', out, '--data', 'synth:160']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /splits would be recomputed .* --allow-data-change/);
    const same = await runTraining({ task: toyTask, out, resume: true, source, quiet: true });
    assert.equal(same.status, 'completed');
    assert.equal(same.totalSteps, 12);

    // Told to: the splits follow the new data, config.json records it and the log says so.
    copyFileSync(join(dir, 'step3.safetensors'), runFiles(out).last);
    const changed = await runTraining({
      task: toyTask,
      out,
      resume: true,
      source: { kind: 'synth', clips: 160 },
      allowDataChange: true,
      quiet: true,
    });
    assert.equal(changed.totalSteps, 16);
    assert.equal(JSON.parse(readFileSync(runFiles(out).config, 'utf8')).source, 'synth:160');
    assert.deepEqual(
      readLog(runFiles(out).log)
        .filter((l) => l.type === 'resume')
        .pop()?.dataChanged,
      { from: 'synth:120', to: 'synth:160' },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('#14.7 size bounds: a memory estimate is checked before allocation, names the config fields, and can be overridden', async () => {
  const dir = tmp();
  try {
    // batchSize 20000 on 120 examples: refused before anything is compiled.
    await assert.rejects(
      runTraining({
        task: toyTask,
        config: config('train.batchSize=20000'),
        source,
        out: join(dir, 'big'),
        quiet: true,
        memoryLimit: 280 * 2 ** 20,
      }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.details.field === 'train.batchSize' &&
        /over the memory limit of 280 MiB/.test(err.message) &&
        /train\.batchSize=20000/.test(err.message) &&
        /--memory-limit/.test(err.message),
    );
    assert.ok(!existsSync(runFiles(join(dir, 'big')).log), 'refused before the log or any session was created');
    // The CLI: exit 2 with the same message; --memory-limit none lifts the check.
    const r = await cli([
      'train',
      'toy',
      '--data',
      'synth:120',
      '--out',
      join(dir, 'cli'),
      '--set',
      'train.batchSize=20000',
      '--memory-limit',
      '280M',
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /over the memory limit of 280 MiB.*train\.batchSize=20000/);
    const ok = await runTraining({
      task: toyTask,
      config: config('train.epochs=1', 'train.evalBefore=false'),
      source,
      out: join(dir, 'ok'),
      quiet: true,
      memoryLimit: 280 * 2 ** 20,
    });
    assert.equal(ok.status, 'completed', 'a normal toy run fits in 280 MiB by the estimate');

    // av-sync: model.dim 4096 is a parameter problem, batchSize 20000 an activation problem; the default config is small.
    const sync = await getTask('av-sync');
    const data = { size: 40, window: 120, batch: () => ({}) } as unknown as TaskData;
    const est = (sets: string[]) =>
      estimateMemory(sync, resolveRunConfig(sync, { data: 'synth:40', set: sets }).config, data);
    const base = est([]);
    assert.ok(base.totalBytes < 2 ** 30, `default av-sync estimate ${base.totalBytes}`);
    const wide = est(['model.dim=4096']);
    assert.ok(
      wide.parameters > 100e6 && wide.totalBytes > 8 * 2 ** 30,
      `dim 4096: ${wide.parameters} parameters, ${wide.totalBytes} bytes`,
    );
    assert.throws(
      () =>
        checkMemory(
          wide,
          8 * 2 ** 30,
          resolveRunConfig(sync, { data: 'synth:40', set: ['model.dim=4096'] }).config,
          'av-sync',
        ),
      (err: unknown) =>
        err instanceof ConfigError && err.details.field === 'model' && /model\.dim=4096/.test(err.message),
    );
    const batch = est(['train.batchSize=20000']);
    assert.ok(batch.activationBytes > 50 * 2 ** 30, `batch 20000: ${batch.activationBytes} bytes of activations`);

    assert.equal(parseByteSize('16G'), 16 * 2 ** 30);
    assert.equal(parseByteSize('800MB'), 800 * 2 ** 20);
    assert.equal(parseByteSize('1.5GiB'), 1.5 * 2 ** 30);
    assert.equal(parseByteSize('none'), null);
    assert.throws(() => parseByteSize('lots'), ConfigError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
