/** The favor task end to end: a short run through the trainer on AVQA, then the run loaded for inference. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AVQA_FAMILIES } from '../../src/data/avqa/index.js';
import { loadAvqaExamples } from '../../src/models/favor/data.js';
import { askClip, loadFavorModel } from '../../src/models/favor/infer.js';
import { getTask } from '../../src/models/registry.js';
import { parseOverrides, resolveConfig } from '../../src/train/config.js';
import { parseDataSource } from '../../src/train/data.js';
import { runTraining } from '../../src/train/run.js';
import { shortRunOverrides } from './favor_fixtures.js';

test('attune train favor --data avqa:N: a short run scores every family, and the run answers with attention per window', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-task-'));
  try {
    const task = await getTask('favor');
    const avqa = ['data.avqa.minDuration=5', 'data.avqa.maxDuration=6'];
    const overrides = parseOverrides(shortRunOverrides(6, avqa));
    const source = parseDataSource('avqa:60');
    assert.deepEqual(source, { kind: 'synth', clips: 60, set: 'avqa' });
    const config = resolveConfig(task, { source: source.kind, overrides });
    const losses: number[] = [];
    const r = await runTraining({ task, config, source, out: dir, quiet: true, onStep: (s) => losses.push(s.loss) });
    assert.equal(r.status, 'completed');
    assert.equal(losses.length, 6);
    assert.ok(losses.every(Number.isFinite));
    const m = r.metrics!.test;
    for (const k of [
      'test.acc',
      'test.prior',
      ...AVQA_FAMILIES.filter((f) => m[`test.acc_${f}`] !== undefined).map((f) => `test.acc_${f}`),
    ])
      assert.ok(m[k] >= 0 && m[k] <= 1, k);
    assert.ok(AVQA_FAMILIES.filter((f) => m[`test.acc_${f}`] !== undefined).length >= 4);

    const model = loadFavorModel(dir);
    const ex = loadAvqaExamples({ seed: 0, minDuration: 5, maxDuration: 6 }, 60);
    const q = ex.questions.find((x) => x.split === 'test')!;
    const a = await askClip(model, ex.clip(q), q.question, { beam: 2 });
    assert.ok(a.answer.length > 0);
    assert.ok(
      a.answer.split(' ').every((w) => model.tokenizer.has(w)),
      a.answer,
    );
    assert.equal(a.windows.length, Math.ceil(ex.clip(q).frames / model.config.window));
    assert.ok(Math.abs(a.windows.reduce((s, w) => s + w.share, 0) - 1) < 1e-5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
