/** The ablation table from run folders: rows found from each config.json, every other setting checked equal. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FAVOR_ABLATIONS, ablationMarkdown } from '../../src/app/favor_ablation.js';
import { ablationFromRuns, flattenConfig } from '../../src/app/favor_ablation_runs.js';
import { getTask } from '../../src/models/registry.js';
import { parseOverrides, resolveConfig } from '../../src/train/config.js';
import { InputError } from '../../src/util/errors.js';

/** Writes a finished-looking run folder: the resolved config with these --set overrides, and its test metrics. */
async function fakeRun(
  root: string,
  name: string,
  set: string[],
  acc: number,
  files = true,
  drop?: string,
): Promise<string> {
  const task = await getTask('favor');
  const config = { ...resolveConfig(task, { source: 'synth', overrides: parseOverrides(set) }), source: 'avqa:1000' };
  // A run written before a model field existed: its config.json lacks the field.
  if (drop) delete (config.model as Record<string, unknown>)[drop];
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  if (files)
    writeFileSync(
      join(dir, 'metrics.json'),
      JSON.stringify({ test: { 'test.acc': acc, 'test.acc_source': acc / 2, 'test.prior': 0.25 } }),
    );
  return dir;
}

function encoderFolder(root: string, name: string, bytes: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'best.safetensors'), bytes);
  return dir;
}

async function withDir(fn: (root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'favor-ablation-runs-'));
  try {
    await fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('flattenConfig turns nested settings into dotted keys with JSON leaves', () => {
  assert.deepEqual(flattenConfig({ a: { b: 1, c: [1, 2] }, d: null }), { 'a.b': '1', 'a.c': '[1,2]', d: 'null' });
});

test('runs group into rows in table order; copied encoders and thread counts do not split them', async () => {
  await withDir(async (root) => {
    const encA = encoderFolder(root, 'encA', 'same weights');
    const encB = encoderFolder(root, 'encB', 'same weights');
    const base = ['model.freezeEncoders=true', 'train.lr=0.003'];
    const noSync = await fakeRun(root, 'nosync', [...base, `model.encoders=${encB}`, 'model.sync=none'], 0.4);
    const full0 = await fakeRun(root, 'full0', [...base, `model.encoders=${encA}`, 'train.seed=0'], 0.5);
    const full1 = await fakeRun(
      root,
      'full1',
      [...base, `model.encoders=${encB}`, 'train.seed=1', 'train.threads=1'],
      0.7,
    );
    const rows = await ablationFromRuns([noSync, full0, full1]);
    assert.deepEqual(
      rows.map((r) => [r.set.join(' '), r.seeds]),
      [
        ['', [0, 1]],
        ['model.sync=none', [0]],
      ],
    );
    assert.ok(Math.abs(rows[0].metrics['test.acc'].mean - 0.6) < 1e-12);
    assert.ok(Math.abs(rows[0].metrics['test.acc'].std - Math.sqrt(0.02)) < 1e-12);
    const lines = ablationMarkdown(rows).split('\n');
    assert.match(lines[2], /^\| FAVOR .*\| 2 \| – \| – \| 30\.0 ± 7\.1 \| .*\| 60\.0 ± 14\.1 \|$/);
    assert.match(lines[3], /^\| no synchronization .*\| 1 \| – \| – \| 20\.0 \| .*\| 40\.0 \|$/);
    assert.match(lines[4], /^\| template prior .*\| {2}\| .*\| 25\.0 \|$/);
  });
});

test('a run that differs in a shared setting, in two ablated fields, or repeats a seed is refused by name', async () => {
  await withDir(async (root) => {
    const full = await fakeRun(root, 'full', ['train.lr=0.003'], 0.5);
    const lr = await fakeRun(root, 'lr', ['train.lr=0.001', 'model.sync=none'], 0.5);
    await assert.rejects(ablationFromRuns([full, lr]), /lr[/\\]config\.json: 'train\.lr' is 0\.001 but .* has 0\.003/);
    const two = await fakeRun(root, 'two', ['train.lr=0.003', 'model.sync=none', 'model.causal=none'], 0.5);
    await assert.rejects(
      ablationFromRuns([full, two]),
      /two[/\\]config\.json: its ablated fields .* match no ablation row/,
    );
    const again = await fakeRun(root, 'again', ['train.lr=0.003'], 0.6);
    await assert.rejects(ablationFromRuns([full, again]), /has two runs with seed 0/);
  });
});

test('different encoder weights and unfinished runs are refused', async () => {
  await withDir(async (root) => {
    const a = await fakeRun(root, 'a', [`model.encoders=${encoderFolder(root, 'e1', 'one')}`], 0.5);
    const b = await fakeRun(root, 'b', [`model.encoders=${encoderFolder(root, 'e2', 'two')}`, 'train.seed=1'], 0.5);
    await assert.rejects(ablationFromRuns([a, b]), /'model\.encoders' is sha256:/);
    const unfinished = await fakeRun(root, 'unfinished', ['train.seed=2'], 0.5, false);
    await assert.rejects(ablationFromRuns([a, unfinished]), /unfinished[/\\]metrics\.json does not exist/);
    await assert.rejects(ablationFromRuns([]), /at least one run folder/);
  });
});

test('a model field missing from an older run counts as its default, and only as its default', async () => {
  await withDir(async (root) => {
    const old = await fakeRun(root, 'old', ['train.lr=0.003'], 0.5, true, 'queryHits');
    const now = await fakeRun(root, 'now', ['train.lr=0.003', 'model.sync=none'], 0.4);
    const rows = await ablationFromRuns([old, now]);
    assert.deepEqual(
      rows.map((r) => r.seeds),
      [[0], [0]],
    );
    const hits = await fakeRun(root, 'hits', ['train.lr=0.003', 'model.queryAux=1', 'model.queryHits=1'], 0.5);
    const oldAux = await fakeRun(
      root,
      'oldAux',
      ['train.lr=0.003', 'model.queryAux=1', 'train.seed=1'],
      0.5,
      true,
      'queryHits',
    );
    await assert.rejects(
      ablationFromRuns([oldAux, hits]),
      /hits[/\\]config\.json: 'model\.queryHits' is 1 but .* has 0/,
    );
  });
});

test('the equal-token no-sync row takes sync=none with 4 queries; older 8-query runs keep their rows', async () => {
  await withDir(async (root) => {
    const base = ['train.lr=0.003'];
    const full = await fakeRun(root, 'full', base, 0.5);
    const wide = await fakeRun(root, 'wide', [...base, 'model.sync=none'], 0.54);
    const even = await fakeRun(root, 'even', [...base, 'model.sync=none', 'model.queries=4'], 0.52);
    // A run from before queries was an ablated field: its config.json says queries 8, the default.
    const old = await fakeRun(root, 'old', [...base, 'model.sync=none', 'model.queries=8', 'train.seed=1'], 0.56);
    const rows = await ablationFromRuns([even, old, wide, full]);
    const last = FAVOR_ABLATIONS.length - 1;
    assert.deepEqual(FAVOR_ABLATIONS[last].set, ['model.sync=none', 'model.queries=4']);
    assert.deepEqual(
      rows.map((r) => [r.name, r.seeds]),
      [
        [FAVOR_ABLATIONS[0].name, [0]],
        [FAVOR_ABLATIONS[1].name, [1, 0]],
        [FAVOR_ABLATIONS[last].name, [0]],
      ],
    );
    assert.equal(rows[2].metrics['test.acc'].mean, 0.52);
  });
});

test('a run with 4 queries but frame sync matches no row, and the error names the file and the field', async () => {
  await withDir(async (root) => {
    const full = await fakeRun(root, 'full', ['train.lr=0.003'], 0.5);
    const fewer = await fakeRun(root, 'fewer', ['train.lr=0.003', 'model.queries=4', 'train.seed=1'], 0.5);
    const err = await ablationFromRuns([full, fewer]).then(
      () => assert.fail('a 4-query frame-sync run must be refused'),
      (e: unknown) => e as InputError,
    );
    assert.ok(err instanceof InputError);
    assert.match(
      err.message,
      /fewer[/\\]config\.json: .*match no ablation row \(changed from the defaults: model\.queries;/,
    );
    assert.equal(err.details.field, 'model.queries');
  });
});

test("rows are read against the runs' variant: a tiny full run (4 queries by default) is the full row", async () => {
  await withDir(async (root) => {
    const full = await fakeRun(root, 'full', ['variant=tiny'], 0.5);
    const noSync = await fakeRun(root, 'nosync', ['variant=tiny', 'model.sync=none'], 0.4);
    const rows = await ablationFromRuns([full, noSync]);
    assert.deepEqual(
      rows.map((r) => r.set),
      [[], ['model.sync=none']],
    );
  });
});

test('runs that share a non-default base field (framePos 1) make their own table; a framePos 0 run is refused', async () => {
  await withDir(async (root) => {
    const base = ['train.lr=0.003', 'model.framePos=1'];
    const full = await fakeRun(root, 'full', base, 0.5);
    const full1 = await fakeRun(root, 'full1', [...base, 'train.seed=1'], 0.6);
    const noCausal = await fakeRun(root, 'nocausal', [...base, 'model.causal=none'], 0.45);
    const rows = await ablationFromRuns([noCausal, full1, full]);
    assert.deepEqual(
      rows.map((r) => [r.set.join(' '), r.seeds]),
      [
        ['', [1, 0]],
        ['model.causal=none', [0]],
      ],
    );
    // Older runs' config.json lacks framePos: they count as framePos 0 and may not join a framePos 1 table.
    const old = await fakeRun(root, 'old', ['train.lr=0.003', 'model.sync=none'], 0.5, true, 'framePos');
    await assert.rejects(ablationFromRuns([full, old]), /old[/\\]config\.json: 'model\.framePos' is 0 but .* has 1/);
  });
});
