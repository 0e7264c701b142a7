import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/util/errors.js';
import { deepMerge, parseOverrides, readConfigFile, resolveConfig } from '../../src/train/config.js';
import { evalBatches, parseDataSource, splitIndices, trainBatchIndices } from '../../src/train/data.js';
import { initialMonitorState, observe } from '../../src/train/evaluate.js';
import { parseSeeds } from '../../src/train/seeds.js';
import { getTask, registerTask, taskNames, unregisterTask } from '../../src/models/registry.js';
import { toyTask, type ToyData, type ToyModel } from './toy.js';

const resolve = (file?: Record<string, unknown>, sets: string[] = [], source: 'synth' | 'manifest' = 'synth') =>
  resolveConfig<ToyModel, ToyData>(toyTask, { source, file, fileName: 'run.json', overrides: parseOverrides(sets) });

/** Asserts a ConfigError whose message and details name `field`. */
function rejects(fn: () => unknown, field: string): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(err.message.includes(field), `message should name '${field}': ${err.message}`);
    assert.equal(err.details.field, field);
    return err;
  }
  assert.fail(`expected a ConfigError naming ${field}`);
}

test('config layers apply in order: common < task < per-dataset < variant < file < --set', () => {
  const c = resolve({ model: { dropout: 0.2 }, train: { epochs: 3 } }, ['train.lr=3e-4', 'variant=tiny']);
  assert.equal(c.train.clipNorm, 1); // trainer common default
  assert.equal(c.train.batchSize, 16); // task default over common (16 either way) ...
  assert.equal(c.train.checkpointEvery, 0); // ... task default over common 100
  assert.equal(c.train.epochs, 3); // file over per-dataset (5) over task (4)
  assert.equal(c.model.hidden, 8); // variant 'tiny' over the task's 32
  assert.equal(c.model.dropout, 0.2); // file
  assert.equal(c.train.lr, 3e-4); // --set over the task's 0.02
  assert.equal(c.variant, 'tiny');
  assert.equal(resolve().train.epochs, 5, 'synth per-dataset default');
  assert.equal(resolve(undefined, [], 'manifest').train.epochs, 4, 'no manifest layer: the task default');
  assert.equal(resolve({ variant: 'wide' }).model.hidden, 64);
  assert.equal(resolve({ variant: 'wide', model: { hidden: 5 } }).model.hidden, 5, 'the file beats its own variant');
  assert.deepEqual(resolve({ data: { poison: [1, 2] } }, ['data.poison=[3]']).data.poison, [3], 'arrays replace');
});

test('validation errors name the field; string booleans and unknown keys are rejected', () => {
  const e = rejects(() => resolve({ train: { worker: 'true' } }), 'train.worker');
  assert.match(e.message, /run\.json/);
  assert.match(e.message, /expected boolean, received string/i);
  rejects(() => resolve({ train: { lrr: 1 } }), 'train.lrr');
  rejects(() => resolve({ model: { hiden: 3 } }), 'model.hiden');
  rejects(() => resolve({}, ['train.batchSize=abc']), 'train.batchSize');
  rejects(() => resolve({}, ['train.batchSize=2.5']), 'train.batchSize');
  rejects(() => resolve({ train: { monitor: { metric: 'acc', mode: 'up' } } }), 'train.monitor.mode');
  rejects(() => resolve({ split: { val: 0.5, test: 0.5 } }), 'split');
  rejects(() => resolve({ trian: {} }), 'trian');
  rejects(() => resolve({ task: 'av-sync' }), 'task');
  rejects(() => resolve({ variant: 'huge' }), 'variant');
  rejects(() => parseOverrides(['train.lr']), 'train.lr');
  // true as JSON (from --set) is a real boolean and passes
  assert.equal(resolve({}, ['train.worker=false']).train.worker, false);
  assert.equal(resolve({}, ['train.schedule=constant']).train.schedule, 'constant', 'non-JSON values stay strings');
});

test('config files: JSON syntax errors and non-objects name the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-cfg-'));
  try {
    writeFileSync(join(dir, 'bad.json'), '{"train": {"lr": 1e-3,}}');
    writeFileSync(join(dir, 'list.json'), '[1]');
    writeFileSync(join(dir, 'ok.json'), '{"train": {"lr": 0.5}}');
    assert.throws(
      () => readConfigFile(join(dir, 'bad.json')),
      (err: ConfigError) => err instanceof ConfigError && err.message.includes('bad.json'),
    );
    assert.throws(() => readConfigFile(join(dir, 'list.json')), /must hold a JSON object/);
    assert.equal(resolve(readConfigFile(join(dir, 'ok.json'))).train.lr, 0.5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a saved run config (config.json, with its source) used as --config reproduces the run config exactly', () => {
  const original = resolve({ variant: 'wide', train: { lr: 0.1 } }, ['data.dim=5']);
  const saved = JSON.parse(JSON.stringify({ ...original, source: 'synth:50' })) as Record<string, unknown>;
  assert.deepEqual(resolve(saved), original);
  rejects(() => resolve({}, ['source=synth:3']), 'source');
});

test('deepMerge merges objects, replaces the rest, and does not mutate', () => {
  const a = { x: { y: 1, z: [1, 2] }, k: 1 };
  const m = deepMerge(a, { x: { z: [3] }, k: null });
  assert.deepEqual(m, { x: { y: 1, z: [3] }, k: null });
  assert.deepEqual(a, { x: { y: 1, z: [1, 2] }, k: 1 });
});

test('splits are deterministic by seed, disjoint and cover everything; batches are a function of (seed, epoch, b)', () => {
  const s1 = splitIndices(100, { val: 0.1, test: 0.2 }, 5);
  assert.deepEqual(s1, splitIndices(100, { val: 0.1, test: 0.2 }, 5));
  assert.notDeepEqual(s1.test, splitIndices(100, { val: 0.1, test: 0.2 }, 6).test);
  assert.deepEqual([s1.train.length, s1.val.length, s1.test.length], [70, 10, 20]);
  assert.deepEqual(
    [...s1.train, ...s1.val, ...s1.test].sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i),
  );
  const epoch0 = [0, 1, 2, 3].flatMap((b) => trainBatchIndices(s1.train, 16, 5, 0, b));
  assert.equal(new Set(epoch0).size, 64, 'no repeats within an epoch');
  assert.deepEqual(trainBatchIndices(s1.train, 16, 5, 0, 2), epoch0.slice(32, 48));
  assert.notDeepEqual(trainBatchIndices(s1.train, 16, 5, 1, 0), epoch0.slice(0, 16), 'a new order each epoch');
  assert.deepEqual(trainBatchIndices([4, 9], 5, 1, 0, 0).sort(), [4, 4, 4, 9, 9], 'small sets cycle');
  assert.throws(() => splitIndices(2, { val: 0.5, test: 0.4 }, 0), ConfigError);
  assert.deepEqual(evalBatches([1, 2, 3, 4, 5], 2), [
    { indices: [1, 2], real: 2 },
    { indices: [3, 4], real: 2 },
    { indices: [5, 5], real: 1 },
  ]);
});

test('data sources, seed lists and the registry', async () => {
  assert.deepEqual(parseDataSource('synth:12'), { kind: 'synth', clips: 12 });
  assert.throws(() => parseDataSource('synth:x'), ConfigError);
  assert.throws(() => parseDataSource('/nonexistent/m.jsonl'), /no such manifest/);
  assert.deepEqual(parseSeeds('1,2,3'), [1, 2, 3]);
  assert.deepEqual(parseSeeds('0-3'), [0, 1, 2, 3]);
  assert.throws(() => parseSeeds('1,1'), /duplicate/);
  assert.throws(() => parseSeeds('a'), ConfigError);
  await assert.rejects(getTask('no-such-task'), /unknown task 'no-such-task'/);
  registerTask(toyTask);
  try {
    assert.ok(taskNames().includes('toy'));
    assert.equal(await getTask('toy'), toyTask);
  } finally {
    unregisterTask('toy');
  }
  assert.ok(!taskNames().includes('toy'));
});

test('early-stopping bookkeeping is direction-aware; NaN never improves; exact ties break on val loss', () => {
  const min = initialMonitorState();
  const m = { metric: 'loss', mode: 'min' as const };
  assert.equal(observe(min, m, 1.0, 0, 1, 1), true);
  assert.equal(observe(min, m, 0.95, 0.1, 2, 2), false, 'within minDelta');
  assert.equal(observe(min, m, NaN, 0, 3, 3), false);
  assert.equal(min.bad, 2);
  assert.equal(observe(min, m, 0.5, 0, 4, 4), true);
  assert.deepEqual([min.best, min.bestStep, min.bad], [0.5, 4, 0]);
  const max = initialMonitorState();
  const a = { metric: 'acc', mode: 'max' as const };
  assert.equal(observe(max, a, 0.5, 0, 1, 1, 2.0), true);
  assert.equal(observe(max, a, 0.4, 0, 2, 2, 1.0), false);
  assert.equal(observe(max, a, 0.5, 0, 3, 3, 2.5), false, 'tie with a higher loss');
  assert.equal(observe(max, a, 0.5, 0, 4, 4, 1.5), true, 'tie with a lower loss');
  assert.equal(max.bestStep, 4);
});

test('--data NAME:N names a generated set; a task refuses a set that is not its own', async () => {
  const { checkGeneratedSet } = await import('../../src/train/data.js');
  const { getTask } = await import('../../src/models/registry.js');
  assert.deepEqual(parseDataSource('avqa:7'), { kind: 'synth', clips: 7, set: 'avqa' });
  assert.deepEqual(parseDataSource('emospeech:9'), { kind: 'synth', clips: 9, set: 'emospeech' });
  assert.throws(() => parseDataSource('avqa:x'), /expected NAME:N/);
  const sync = await getTask('av-sync');
  assert.throws(() => checkGeneratedSet(sync, parseDataSource('avqa:40')), /task 'av-sync' trains on synth:N/);
  assert.doesNotThrow(() => checkGeneratedSet(sync, parseDataSource('synth:40')));
  const favor = await getTask('favor');
  assert.throws(() => checkGeneratedSet(favor, parseDataSource('synth:40')), /task 'favor' trains on avqa:N/);
});
