/**
 * The learned lag scorer (lag_scorer.ts, cue `fused` of auto): it finds the lag its curves agree on, learns from
 * self-supervised shifts which curve to trust, refuses malformed weights by name, round-trips its files, and the
 * weights that ship are small and non-negative; auto adds it as a cue only when it has weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoSync } from '../../src/models/av_sync/auto.js';
import { CALIBRATION, calibratedConfidence, calibrationInputs } from '../../src/models/av_sync/calibration.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import {
  SCORER_INPUTS,
  SHIPPED_SCORER_DIR,
  fitLagScorer,
  loadLagScorer,
  readScorerConfig,
  saveLagScorer,
  scoreLags,
  shippedLagScorer,
  type ScorerParts,
} from '../../src/models/av_sync/lag_scorer.js';
import { MAX_LAG } from '../../src/models/av_sync/result.js';
import { ConfigError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { eventClip } from './sync_event_clip.js';
import { talking } from './sync_talker.js';

const LAGS = 2 * MAX_LAG + 1;

/** A noisy curve with a bump of `height` at `lag` (frames). */
function curve(rng: Rng, lag: number, height: number): Float64Array {
  const c = new Float64Array(LAGS);
  for (let i = 0; i < LAGS; i++)
    c[i] = 0.05 * rng.normal() + height * Math.exp(-0.5 * ((i - MAX_LAG - lag) / 1.5) ** 2);
  return c;
}

/** A talking-head case: the mouth curve peaks at the truth, the onset curve at a random wrong lag. */
function talkerCase(rng: Rng, truth: number): ScorerParts {
  const mask = new Uint8Array(200).fill(1);
  return {
    onset: curve(rng, rng.int(LAGS) - MAX_LAG, 0.4),
    significance: 1,
    envelope: curve(rng, 0, 0),
    mouth: { curve: curve(rng, truth, 0.4), audioMask: mask, videoMask: mask },
    lip: curve(rng, truth, 0.2),
  };
}

test('scoreLags puts the best lag where the curves peak, with most of its mass within 0.2 s', () => {
  const rng = new Rng(1);
  const parts = talkerCase(rng, 17);
  const r = scoreLags(parts, [0, 0, 0, 1, 1, 0]);
  assert.equal(r.best, 17);
  assert.ok(r.mass > 0.5 && r.mass <= 1 + 1e-9, `mass ${r.mass}`);
  assert.ok(Math.abs(r.probs.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  // Zero weights: a flat distribution, no preferred lag.
  assert.ok(scoreLags(parts, [0, 0, 0, 0, 0, 0]).mass < 12 / LAGS);
});

test("the calibration's 8th input is the logit of the scorer's mass (0 for cues without one), clamped", () => {
  const stats = { best: 0, refined: 0, peak: 0.4, gap: 0.1, runnerUp: 10, margin: 8, frames: 250 };
  assert.equal(calibrationInputs(stats)[7], 0);
  assert.ok(Math.abs(calibrationInputs({ ...stats, mass: 0.5 })[7]) < 1e-12);
  assert.ok(Math.abs(calibrationInputs({ ...stats, mass: 0.9 })[7] - Math.log(9)) < 1e-9);
  assert.ok(Number.isFinite(calibrationInputs({ ...stats, mass: 1 })[7]));
  const row = CALIBRATION.fused;
  assert.ok(
    calibratedConfidence({ ...stats, mass: 0.95 }, 'fused', row) >
      calibratedConfidence({ ...stats, mass: 0.6 }, 'fused', row),
  );
});

test('fitLagScorer learns from shifts to trust the curve that times them and finds unseen shifts', () => {
  const rng = new Rng(2);
  const train = Array.from({ length: 40 }, () => {
    const lag = rng.int(61) - 30;
    return { parts: talkerCase(rng, lag), lag };
  });
  const w = fitLagScorer(train);
  assert.equal(w.length, SCORER_INPUTS.length);
  assert.ok(w.every((x) => x >= 0));
  assert.ok(w[3] + w[4] > 2 * (w[0] + w[1]), `weights ${w.join(', ')}`);
  let right = 0;
  for (const lag of [-40, -12, 0, 9, 33]) right += Number(Math.abs(scoreLags(talkerCase(rng, lag), w).best - lag) <= 1);
  assert.equal(right, 5);
});

test('lag scorer files round-trip, and a wrong tensor is a ConfigError naming the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-scorer-'));
  try {
    saveLagScorer(dir, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], { command: 'test' });
    assert.deepEqual(
      loadLagScorer(dir).map((x) => Math.round(x * 10) / 10),
      [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    );
    assert.equal(readScorerConfig(dir).command, 'test');
    saveSafetensors(join(dir, 'lag-scorer.safetensors'), {
      w: { data: new Float32Array(3), shape: [3], dtype: 'float32' },
    });
    assert.throws(
      () => loadLagScorer(dir),
      (e: unknown) => e instanceof ConfigError && /lag-scorer\.safetensors.*"w".*6 weights/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shipped lag scorer is small, non-negative, and auto adds it as the fused cue with weights and a face', () => {
  const w = shippedLagScorer();
  assert.ok(w, 'weights/av-sync/lag-scorer.safetensors is missing');
  assert.equal(w.length, SCORER_INPUTS.length);
  assert.ok(w.every((x) => Number.isFinite(x) && x >= 0) && w.some((x) => x > 0), `weights ${w.join(', ')}`);
  assert.ok(statSync(join(SHIPPED_SCORER_DIR, 'lag-scorer.safetensors')).size < 10_000);
  const { feats, track } = talking(21, 8, 0.6);
  const fused = autoSync(feats, { mouth: track }).cues.find((c) => c.cue === 'fused');
  assert.ok(fused, 'no fused cue by default on a talking head');
  assert.ok(Math.abs(fused.lag - 0.6) <= 0.2, `fused lag ${fused.lag}`);
  assert.ok(fused.confidence >= 0.8, `fused confidence ${fused.confidence}`);
  assert.equal(
    autoSync(feats, { mouth: track, scorer: null }).cues.some((c) => c.cue === 'fused'),
    false,
  );
  // Without a face the scorer would read the loudness envelope alone, which never answers: no fused cue.
  assert.equal(
    autoSync(eventClip(4, 12, 0.6)).cues.some((c) => c.cue === 'fused'),
    false,
  );
});
