/**
 * bench/favor_voice_probe: the softmax it fits separates classes a linear map can separate (and only on what it was
 * given), and on a stage-1 run it reads every impact of a sounding object once, split by scene, and refuses a
 * stage-2 run by name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fitSoftmax, voiceProbe } from '../../bench/favor_voice_probe.js';
import { FAVOR_AUDIO_RATE, avqaConfig, avqaScene } from '../../src/data/avqa/index.js';
import { favorTiny } from '../../src/models/favor/config.js';
import { Rng } from '../../src/util/rng.js';
import { writeStageOneRun, writeStageTwoRun } from '../models/favor_fixtures.js';

test('fitSoftmax: three classes apart along different features are all told apart; noise labels are not', () => {
  const rng = new Rng('voice-probe');
  const rows = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const y = i % 3;
      return { y, x: Float64Array.from({ length: 4 }, (_, j) => (j === y ? 8 : 0) + rng.normal()) };
    });
  const [train, held] = [rows(150), rows(60)];
  const score = fitSoftmax(
    train.map((r) => r.x),
    train.map((r) => r.y),
    3,
  );
  const argmax = (l: Float64Array) => l.indexOf(Math.max(...l));
  assert.equal(held.filter((r) => argmax(score(r.x)) === r.y).length, held.length);
  // Labels drawn apart from the features, for the held-out rows too: held-out accuracy near chance (1/3).
  const noise = fitSoftmax(
    train.map((r) => r.x),
    train.map(() => rng.int(3)),
    3,
  );
  const right = held.filter((r) => argmax(noise(r.x)) === rng.int(3)).length;
  assert.ok(right < 0.6 * held.length, `${right} of ${held.length}`);
});

test('voiceProbe: every impact of a sounding object read once, train and held-out scenes apart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-voice-probe-'));
  try {
    const model = { ...favorTiny(), window: 5, onsetAux: 1 };
    writeStageOneRun(dir, model, 3);
    const [scenes, duration] = [30, 5];
    const p = await voiceProbe(dir, scenes, duration);
    const cfg = avqaConfig({ minDuration: duration, maxDuration: duration });
    const last = 2 * duration * (FAVOR_AUDIO_RATE / 2) - 3;
    const count = { train: 0, heldOut: 0 };
    for (let i = 0; i < scenes; i++) {
      const s = avqaScene(cfg, i);
      const n = s.objects
        .filter((o) => o.voice !== null)
        .flatMap((o) => o.bounces)
        .filter((t) => t >= 0 && Math.floor(FAVOR_AUDIO_RATE * t) <= last).length;
      count[s.split === 'train' ? 'train' : 'heldOut'] += n;
    }
    assert.deepEqual(p.impacts, count);
    for (const a of [p.trainAcc, p.heldOutAcc, p.sharedWord.acc, p.sharedWord.chance]) assert.ok(a >= 0 && a <= 1);
    assert.ok(p.voices > 1 && p.voices <= 48, `${p.voices}`);
    writeStageTwoRun(dir);
    await assert.rejects(voiceProbe(dir, scenes, duration), /not a stage-1 run/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
