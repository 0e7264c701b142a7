/**
 * bench/favor_count_probe.ts on a stage-1 run that trained the counting head (model.onsetAux): it reads the head
 * both ways (rates summed, peaks counted) on the val scenes of the AVQA setting asked for, and refuses a run with
 * nothing to count by name, and a stage-1 hit head as each object's wall hits; its answers mode on a stage-2 run with count tokens.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { probeAnswers, probeObjects, probeRun } from '../../bench/favor_count_probe.js';
import { avqaConfig, avqaScene, generateAvqa, sceneSplit } from '../../src/data/avqa/index.js';
import { favorTiny } from '../../src/models/favor/config.js';
import { writeStageOneRun, writeStageTwoRun } from '../models/favor_fixtures.js';

test('the count probe reads a stage-1 counting head as summed rates and as peaks, over every val (clip, sound) pair', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-probe-'));
  try {
    writeStageOneRun(dir, { ...favorTiny(), window: 5, onsetAux: 1 }, 3);
    const scenes = 24;
    const cfg = avqaConfig({ minDuration: 5, maxDuration: 5 });
    const val = Array.from({ length: scenes }, (_, i) => sceneSplit(cfg, i)).filter((s) => s === 'val').length;
    assert.ok(val > 0, 'some val scenes');
    const rows = await probeRun(dir, { scenes, duration: 5, peak: 0.2 });
    assert.deepEqual(
      rows.map((r) => r.read),
      ['audio', 'audio peaks > 0.2'],
    );
    for (const r of rows) {
      assert.equal(r.pairs, 4 * val, r.read);
      assert.ok(r.nonZero > 0 && r.nonZero < r.pairs, `${r.read}: ${r.nonZero}`);
      for (const share of [r.zeroShare, r.within, r.withinNonZero]) assert.ok(share >= 0 && share <= 1, r.read);
    }
    // An untrained head (bias -6, rate 0.0025 a token) has no peaks: every pair reads 0.
    assert.equal(rows[1].within, rows[1].zeroShare);
    // With a hit head: each object's wall hits too, over every (clip, look on screen) pair.
    writeStageOneRun(dir, { ...favorTiny(), window: 5, hitAux: 1 }, 3);
    const [hits] = await probeRun(dir, { scenes, duration: 5 });
    const looks = Array.from({ length: scenes }, (_, i) => i)
      .filter((i) => sceneSplit(cfg, i) === 'val')
      .reduce((a, i) => a + new Set(avqaScene(cfg, i).objects.map((o) => o.name)).size, 0);
    assert.equal(hits.read, 'object hits > 0.5');
    assert.equal(hits.pairs, looks);
    assert.ok(hits.nonZero > 0, `object hits: ${hits.nonZero} of ${hits.pairs} looks hit the wall`);
    for (const share of [hits.zeroShare, hits.within, hits.withinNonZero]) assert.ok(share >= 0 && share <= 1);
    writeStageOneRun(dir, { ...favorTiny(), window: 5, onsetAux: 0 }, 3);
    await assert.rejects(
      probeRun(dir, { scenes, duration: 5 }),
      /model\.onsetAux and model\.hitAux are 0; nothing to probe/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the answers probe: per count template, how often the count token is right, the answer is right and copies it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-probe-answers-'));
  try {
    const model = { ...favorTiny(), window: 5, queryAux: 1, countTokens: 'audio' as const, countPeaks: 0.15 };
    writeStageTwoRun(dir, model);
    const file = join(dir, 'config.json');
    const scenes = 60;
    // Three questions per family per scene, so that the few test scenes ask a count.heard question.
    const avqa = { seed: 0, minDuration: 5, maxDuration: 10, perFamily: 3 };
    const written = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...written, source: `avqa:${scenes}`, data: { avqa } }));
    const cfg = avqaConfig(avqa);
    const test_ = generateAvqa(cfg, scenes).questions.filter((q) => q.split === 'test' && q.template === 'count.heard');
    assert.ok(test_.length > 0, 'some test count.heard questions');
    const rows = await probeAnswers(dir, 'test');
    assert.deepEqual(
      rows.map((r) => r.template),
      ['count.heard', 'count.sounds'],
    );
    const heard = rows[0];
    assert.equal(heard.questions, test_.length);
    // An untrained head (rate 0.0025 a token) makes no peak: every token says 0, right exactly when the truth is 0.
    assert.equal(heard.tokenRight, test_.filter((q) => q.answer === '0').length / test_.length);
    for (const r of rows)
      for (const share of [r.tokenRight, r.answerRight, r.rightWhenTokenRight, r.rightWhenTokenWrong, r.copiesToken])
        assert.ok(share >= 0 && share <= 1, `${r.template}: ${share}`);
    // The first answer token attends to every unmasked AV token a little (softmax), the 4 count tokens included.
    assert.ok(heard.countAttention > 0 && heard.countAttention < 1, `${heard.countAttention}`);
    assert.ok(heard.askedAttention > 0 && heard.askedAttention < heard.countAttention, `${heard.askedAttention}`);
    writeStageTwoRun(dir, { ...model, countTokens: 'off', countPeaks: 0 });
    await assert.rejects(probeAnswers(dir, 'test'), /model\.countTokens is off/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the objects probe: how often the frozen heads alone answer the questions objectAnswers, countObjects (per word, split, per voice) and visualAnswers copy', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-probe-objects-'));
  try {
    writeStageOneRun(dir, { ...favorTiny(), window: 5, hitAux: 1, onsetAux: 1, voiceAux: 1 }, 3);
    const [scenes, duration] = [40, 5];
    const rows = await probeObjects(dir, 'val', { scenes, duration });
    // The count rows again per kind of object asked about, the kinds these val scenes ask about.
    const kindRows = rows.map((r) => r.template).filter((t) => t.includes(' ['));
    assert.ok(kindRows.length > 0, 'some count rows per kind of object');
    assert.deepEqual(
      rows.map((r) => r.template),
      [
        'visual.color',
        'visual.shape',
        'visual.count',
        'visual.gray',
        'order.wall',
        'order.sounds',
        'order.first',
        'causal.next',
        'causal.heard',
        'source.at',
        'source.which',
        'source.sound',
        'count.wall',
        'count.wall (splitSounds)',
        'count.wall (voiceCounts)',
        'count.sounds',
        'count.sounds (splitSounds)',
        'count.sounds (voiceCounts)',
        ...kindRows,
      ],
    );
    const cfg = avqaConfig({ minDuration: duration, maxDuration: duration });
    const asked = generateAvqa(cfg, scenes).questions.filter((q) => q.split === 'val');
    for (const r of rows.filter((x) => !kindRows.includes(x.template))) {
      const template = r.template.replace(/ \((splitSounds|voiceCounts)\)$/, ''); // the count templates are read three ways
      assert.equal(r.questions, asked.filter((q) => q.template === template).length, r.template);
      assert.ok(r.headsRight >= 0 && r.headsRight <= 1, r.template);
      // Its rows per kind of object split its questions and the right ones.
      const kinds = rows.filter((x) => x.template.startsWith(`${r.template} [`));
      if (!r.template.startsWith('count.')) continue;
      const sum = (f: (x: (typeof rows)[number]) => number) => kinds.reduce((a, x) => a + f(x), 0);
      assert.equal(
        sum((x) => x.questions),
        r.questions,
        r.template,
      );
      assert.ok(Math.abs(sum((x) => x.headsRight * x.questions) - r.headsRight * r.questions) < 1e-9, r.template);
    }
    assert.ok(
      rows.some((r) => r.questions > 0),
      'some questions asked',
    );
    writeStageOneRun(dir, { ...favorTiny(), window: 5, onsetAux: 1 }, 3);
    await assert.rejects(probeObjects(dir, 'val', { scenes, duration }), /model\.hitAux or model\.onsetAux is 0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
