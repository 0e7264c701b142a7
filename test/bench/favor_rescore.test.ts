/**
 * bench/favor_rescore.ts: on the generator a run was trained with, scoring it again repeats the test metrics its own
 * evaluation wrote (the same questions, priors and greedy answers, through the inference graph instead of the
 * training one), and a run whose source is not AVQA, or a changed model config training would refuse, is refused by
 * name. The run trains 30 steps, not a handful: an
 * untrained model's answers are near ties, which the two graphs' different float order can flip.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { rescoreRun, runAvqa } from '../../bench/favor_rescore.js';
import { getTask } from '../../src/models/registry.js';
import { parseOverrides, resolveConfig } from '../../src/train/config.js';
import { parseDataSource } from '../../src/train/data.js';
import { runTraining } from '../../src/train/run.js';
import { shortRunOverrides } from '../models/favor_fixtures.js';

test('rescoring a finished run on an unchanged generator repeats its test metrics', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-rescore-'));
  try {
    const task = await getTask('favor');
    const overrides = parseOverrides(
      shortRunOverrides(30, [
        'data.avqa.minDuration=5',
        'data.avqa.maxDuration=6',
        'data.heldOutPerFamily=1',
        'data.avqa.perFamily=2',
      ]),
    );
    const source = parseDataSource('avqa:60');
    const config = resolveConfig(task, { source: source.kind, overrides });
    const r = await runTraining({ task, config, source, out: dir, quiet: true });
    assert.equal(r.status, 'completed');
    const own = r.metrics!.test;

    const avqa = runAvqa(dir);
    assert.equal(avqa.scenes, 60);
    assert.equal(avqa.heldOut.perFamily, 1);
    assert.equal(avqa.cfg.perFamily, 2);
    const again = await rescoreRun(dir, 'test');
    const keys = Object.keys(own).filter((k) => /^test\.(acc|prior|n_|near)/.test(k));
    assert.ok(keys.includes('test.acc') && keys.some((k) => k.startsWith('test.n_')), keys.join(' '));
    for (const k of keys) assert.equal(again.metrics[k.slice('test.'.length)], own[k], k);
    assert.equal(
      again.questions,
      keys.filter((k) => k.startsWith('test.n_')).reduce((a, k) => a + own[k], 0),
    );

    // A changed model config is checked as training checks it: voiceCounts needs countObjects.
    await assert.rejects(rescoreRun(dir, 'test', { voiceCounts: true }), /voiceCounts counts countObjects' looks/);

    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), source: 'synth:60' }));
    assert.throws(() => runAvqa(dir), /config\.json source is not avqa:N/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
