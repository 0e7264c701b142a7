import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NumericError } from '../../src/util/errors.js';
import { meanStd } from '../../src/metrics/stats.js';
import { parseOverrides, resolveConfig } from '../../src/train/config.js';
import { splitIndices } from '../../src/train/data.js';
import { readLog } from '../../src/train/log.js';
import { runFiles, runTraining } from '../../src/train/run.js';
import { runSeeds } from '../../src/train/seeds.js';
import { toyTask } from './toy.js';

const source = { kind: 'synth' as const, clips: 120 };
const config = (...sets: string[]) => resolveConfig(toyTask, { source: 'synth', overrides: parseOverrides(sets) });
const tmp = () => mkdtempSync(join(tmpdir(), 'attune-train-'));

test('the toy task trains end to end: loss drops, accuracy beats chance, every run file is written and parses', async () => {
  const dir = tmp();
  try {
    const r = await runTraining({
      task: toyTask,
      config: config('train.report=true', 'train.export=true'),
      source,
      out: dir,
      quiet: true,
    });
    assert.equal(r.status, 'completed');
    assert.equal(r.steps, 30); // 96 train examples / 16 = 6 steps x 5 epochs
    const f = runFiles(dir);
    for (const p of Object.values(f)) assert.ok(existsSync(p), `missing ${p}`);
    // every log line is one JSON object with type/step/pos
    const lines = readFileSync(f.log, 'utf8').trimEnd().split('\n');
    const log = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(log.every((l) => typeof l.type === 'string' && typeof l.step === 'number' && typeof l.pos === 'number'));
    const steps = log.filter((l) => l.type === 'step');
    assert.equal(steps.length, 30);
    const losses = steps.map((l) => l.loss as number);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    assert.ok(
      mean(losses.slice(-6)) < 0.6 * mean(losses.slice(0, 6)),
      `loss should drop: ${losses.map((l) => l.toFixed(3)).join(' ')}`,
    );
    assert.equal(log.filter((l) => l.type === 'eval' && l.split === 'val').length, 5, 'one val evaluation per epoch');
    assert.ok(r.metrics!.test['test.acc'] > 0.6, `test acc ${r.metrics!.test['test.acc']} (chance 0.25)`);
    assert.ok(r.metrics!.test['test.acc'] > r.metrics!.before['test.acc'], 'better than untrained');
    assert.ok(r.metrics!.test['test.loss'] < r.metrics!.before['test.loss']);
    const metrics = JSON.parse(readFileSync(f.metrics, 'utf8'));
    assert.deepEqual(metrics.test, r.metrics!.test);
    const saved = JSON.parse(readFileSync(f.config, 'utf8'));
    assert.equal(saved.train.lr, 0.02);
    assert.equal(saved.source, 'synth:120');
    const html = readFileSync(f.report, 'utf8');
    assert.match(html, /Training loss/);
    assert.match(html, /untrained vs trained/);
    assert.match(html, /accuracy \d\.\d{3} on 12 examples/, 'the task section is in the report');
    // A second fresh run into the same folder is refused (it would clobber the checkpoint).
    await assert.rejects(
      runTraining({ task: toyTask, config: config(), source, out: dir, quiet: true }),
      /already holds a run/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('early stopping: patience on the monitored val metric, direction-aware', async () => {
  const dir = tmp();
  try {
    // The val loss falls, so watching it with mode 'max' never improves after the first evaluation:
    // patience 2 stops after evaluation 3 (epoch 3 of 8).
    const r = await runTraining({
      task: toyTask,
      config: config(
        'train.epochs=8',
        'train.patience=2',
        'train.evalBefore=false',
        'train.monitor={"metric":"loss","mode":"max"}',
      ),
      source,
      out: join(dir, 'max'),
      quiet: true,
    });
    assert.equal(r.status, 'early-stopped');
    assert.equal(r.pos, 18);
    assert.equal(r.monitor.bestStep, 6);
    assert.ok(
      readLog(runFiles(r.dir).log).some(
        (l) => l.type === 'stop' && String(l.reason).includes('no val loss improvement'),
      ),
    );
    // Resuming an early-stopped run (say, after a crash in the final phase) does not train on.
    const again = await runTraining({
      task: toyTask,
      config: config(),
      source,
      out: join(dir, 'max'),
      quiet: true,
      resume: true,
    });
    assert.deepEqual([again.status, again.pos, again.metrics], [r.status, r.pos, r.metrics]);
    // With mode 'min' the same run improves for a while: it goes on longer, and if it stops, it is
    // exactly `patience` evaluations after its best one.
    const min = await runTraining({
      task: toyTask,
      config: config(
        'train.epochs=8',
        'train.patience=2',
        'train.evalBefore=false',
        'train.monitor={"metric":"loss","mode":"min"}',
      ),
      source,
      out: join(dir, 'min'),
      quiet: true,
    });
    assert.ok(min.pos > 18, `mode min ran ${min.pos} steps`);
    assert.ok(min.monitor.bestStep > 6);
    if (min.status === 'early-stopped') assert.equal(min.pos - min.monitor.bestStep, 2 * 6);
    else assert.equal(min.pos, 48);
    // An unknown monitor metric is a ConfigError naming the metrics that exist.
    await assert.rejects(
      runTraining({
        task: toyTask,
        config: config('train.epochs=1', 'train.monitor={"metric":"f1","mode":"max"}'),
        source,
        out: join(dir, 'bad'),
        quiet: true,
      }),
      /monitor metric 'f1' is not among the val metrics \(loss, logit_sq, acc\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('evalEverySteps evaluates val every N steps across epoch ends, and at the last step; each evaluation is checkpointed', async () => {
  const dir = tmp();
  try {
    // 6 steps per epoch, 3 epochs = 18 steps: evaluations at 4, 8, 12, 16 and the last step, none at the epoch end 6.
    const r = await runTraining({
      task: toyTask,
      config: config('train.epochs=3', 'train.evalEverySteps=4', 'train.evalBefore=false'),
      source,
      out: dir,
      quiet: true,
    });
    assert.equal(r.pos, 18);
    const log = readLog(runFiles(dir).log);
    const evals = log.filter((l) => l.type === 'eval' && l.split === 'val').map((l) => l.pos);
    assert.deepEqual(evals, [4, 8, 12, 16, 18]);
    const checkpoints = log.filter((l) => l.type === 'checkpoint').map((l) => [l.pos, l.reason]);
    for (const pos of [4, 8, 16])
      assert.ok(
        checkpoints.some(([p, why]) => p === pos && why === 'eval'),
        `pos ${pos}`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NaN guard: a non-finite batch stops the run with a NumericError, or is skipped with onNonFinite=skip', async () => {
  const dir = tmp();
  try {
    const poisoned = splitIndices(source.clips, { val: 0.1, test: 0.1 }, 0).train[3];
    const stopped = runTraining({
      task: toyTask,
      config: config(`data.poison=[${poisoned}]`, 'train.evalBefore=false'),
      source,
      out: join(dir, 'stop'),
      quiet: true,
    });
    await assert.rejects(
      stopped,
      (err: NumericError) =>
        err instanceof NumericError &&
        /non-finite loss at step \d+/.test(err.message) &&
        /onNonFinite/.test(err.message),
    );
    assert.ok(readLog(join(dir, 'stop', 'log.jsonl')).some((l) => l.type === 'nonfinite'));

    const r = await runTraining({
      task: toyTask,
      config: config(`data.poison=[${poisoned}]`, 'train.evalBefore=false', 'train.onNonFinite="skip"'),
      source,
      out: join(dir, 'skip'),
      quiet: true,
    });
    assert.equal(r.status, 'completed');
    assert.equal(r.skippedSteps, 5, 'the poisoned example is in one batch per epoch');
    assert.equal(r.steps, r.pos - 5);
    assert.ok(Number.isFinite(r.metrics!.test['test.loss']), 'the skipped updates never reached the weights');
    const skipped = readLog(runFiles(r.dir).log).filter((l) => l.type === 'step' && l.skipped);
    assert.equal(skipped.length, 5);
    assert.ok(
      skipped.every((l) => l.loss === 'NaN'),
      'non-finite numbers are logged as strings, keeping each line valid JSON',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('seed lists: one run per seed, test metrics reported as mean ± sample std', async () => {
  const dir = tmp();
  try {
    const r = await runSeeds({
      task: toyTask,
      config: config('train.epochs=2', 'train.evalBefore=false'),
      source,
      out: dir,
      quiet: true,
      seeds: [1, 2, 3],
    });
    assert.equal(r.runs.length, 3);
    assert.deepEqual(
      r.runs.map((x) => x.dir),
      [1, 2, 3].map((s) => join(dir, `seed-${s}`)),
    );
    const losses = r.runs.map((x) => x.metrics!.test['test.loss']);
    assert.equal(new Set(losses).size, 3, 'different seeds give different runs');
    const want = meanStd(losses);
    assert.ok(Math.abs(r.summary['test.loss'].mean - want.mean) < 1e-12);
    assert.ok(Math.abs(r.summary['test.loss'].std - want.std) < 1e-12);
    assert.ok(r.summary['test.loss'].std > 0);
    assert.equal(r.summary['test.acc'].n, 3);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    assert.equal(summary.perSeed['2']['test.loss'], losses[1]);
    assert.equal(JSON.parse(readFileSync(join(dir, 'seed-3', 'config.json'), 'utf8')).train.seed, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a task whose eval graphs draw dropout masks gets a ConfigError naming the task and function', async () => {
  const dir = tmp();
  try {
    const leaky = {
      ...toyTask,
      name: 'toy-leaky',
      buildLoss: (...[g, p, ctx]: Parameters<typeof toyTask.buildLoss>) =>
        toyTask.buildLoss(g, p, { ...ctx, purpose: 'train' }),
    };
    await assert.rejects(
      runTraining({ task: leaky, config: config('model.dropout=0.3'), source, out: dir, quiet: true }),
      /task 'toy-leaky': buildLoss with purpose 'eval' draws random inputs \(dropout\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stop requested while data loads ends the run before training; a seed list stops at the interrupted seed', async () => {
  const dir = tmp();
  try {
    const early = await runTraining({
      task: toyTask,
      config: config(),
      source,
      out: join(dir, 'early'),
      quiet: true,
      signal: AbortSignal.abort(),
    });
    assert.equal(early.status, 'interrupted');
    assert.equal(early.steps, 0);
    assert.ok(!existsSync(runFiles(early.dir).last), 'nothing to checkpoint');
    const fresh = await runTraining({
      task: toyTask,
      config: config('train.epochs=1', 'train.evalBefore=false'),
      source,
      out: join(dir, 'early'),
      quiet: true,
    });
    assert.equal(fresh.status, 'completed', 'the folder can still be used for a fresh run');

    const ac = new AbortController();
    const seeds = await runSeeds({
      task: toyTask,
      config: config('train.epochs=2', 'train.evalBefore=false'),
      source,
      out: join(dir, 'seeds'),
      quiet: true,
      seeds: [1, 2, 3],
      signal: ac.signal,
      onStep: ({ pos }) => pos === 3 && ac.abort(),
    });
    assert.equal(seeds.interrupted, true);
    assert.equal(seeds.runs.length, 1);
    assert.equal(seeds.runs[0].pos, 3);
    assert.ok(!existsSync(join(dir, 'seeds', 'seed-2')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
