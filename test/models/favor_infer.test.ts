/** FAVOR inference: a run folder loads, the exported encoder is self-contained and gives the tokens favorTokens gives. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Session } from '../../src/engine/index.js';
import { toFloat32 } from '../../src/io/array.js';
import { AUDIO_PER_FRAME, FRAME_VALUES, MEL_BANDS, favorTiny } from '../../src/models/favor/config.js';
import { avBatch } from '../../src/models/favor/data.js';
import { askClip, exportEncoder, favorTokens, loadFavorModel, offeredAnswers } from '../../src/models/favor/infer.js';
import { Rng } from '../../src/util/rng.js';
import { FAVOR_TEST_VOCAB, writeStageTwoRun } from './favor_fixtures.js';

test('the exported encoder (20 frames, padded) reproduces the tokens of a 14-frame clip and flags the empty window', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-infer-'));
  try {
    writeStageTwoRun(dir);
    const model = loadFavorModel(dir);
    assert.equal(model.tokenizer.vocabSize, FAVOR_TEST_VOCAB);
    const rng = new Rng(2);
    const clip = {
      frames: 14,
      video: Float32Array.from({ length: 14 * FRAME_VALUES }, () => rng.uniform()),
      audio: Float32Array.from({ length: 14 * AUDIO_PER_FRAME * MEL_BANDS }, () => rng.uniform()),
    };
    const direct = await favorTokens(model, clip); // 3 windows x 4 queries
    assert.deepEqual(direct.tokens.shape, [1, 12, model.config.lmDim]);
    assert.deepEqual(Array.from(direct.window.data as Int32Array), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    const path = join(dir, 'encoder.onnx');
    exportEncoder(model, path, 20);
    const session = await Session.fromBytes(new Uint8Array(readFileSync(path)), { threads: 1 });
    const out = await session.run(avBatch([clip], 20));
    await session.release();
    assert.deepEqual(out.tokens.shape, [1, 16, model.config.lmDim]);
    assert.deepEqual(Array.from(toFloat32(out.token_valid)), [...new Array(12).fill(1), 0, 0, 0, 0]);
    const a = toFloat32(direct.tokens);
    const b = toFloat32(out.tokens).subarray(0, a.length);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    assert.ok(maxDiff < 1e-4, `max difference ${maxDiff}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('count tokens (countTokens) follow the windows, flagged window -1, and ignore padded frames in the export', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-infer-'));
  try {
    writeStageTwoRun(dir, { ...favorTiny(), window: 5, queryAux: 1, countTokens: 'onsets' });
    const model = loadFavorModel(dir);
    const rng = new Rng(3);
    const clip = {
      frames: 14,
      video: Float32Array.from({ length: 14 * FRAME_VALUES }, () => rng.uniform()),
      audio: Float32Array.from({ length: 14 * AUDIO_PER_FRAME * MEL_BANDS }, () => rng.uniform()),
    };
    const direct = await favorTokens(model, clip); // 3 windows x 4 queries + 4 count tokens
    const d = model.config.lmDim;
    assert.deepEqual(direct.tokens.shape, [1, 16, d]);
    assert.deepEqual(Array.from(direct.window.data as Int32Array).slice(4), [1, 1, 1, 1, 2, 2, 2, 2, -1, -1, -1, -1]);
    const path = join(dir, 'encoder.onnx');
    exportEncoder(model, path, 20);
    const session = await Session.fromBytes(new Uint8Array(readFileSync(path)), { threads: 1 });
    const out = await session.run(avBatch([clip], 20));
    await session.release();
    assert.deepEqual(out.tokens.shape, [1, 20, d]); // 4 windows (the last empty) + 4 count tokens
    assert.deepEqual(Array.from(toFloat32(out.token_valid)).slice(12), [0, 0, 0, 0, 1, 1, 1, 1]);
    const a = toFloat32(direct.tokens).subarray(12 * d);
    const b = toFloat32(out.tokens).subarray(16 * d);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    assert.ok(maxDiff < 1e-4, `count tokens differ by ${maxDiff} with 6 padded frames`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a question-only run has no encoder to export and says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-infer-'));
  try {
    writeStageTwoRun(dir, { ...favorTiny(), window: 5, questionOnly: true });
    assert.throws(() => exportEncoder(loadFavorModel(dir), join(dir, 'e.onnx'), 10), /question-only/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stage-2 run answers from its own weights (its stage-1 run may be gone); a stage-1 run is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-infer-'));
  try {
    const model = { ...favorTiny(), window: 5, visualStem: 'conv' as const, stemDim: 4 };
    writeStageTwoRun(dir, model);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const stage2 = { ...model, encoders: join(dir, 'no-such-run'), freezeEncoders: true };
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, model: stage2 }));
    const clip = { frames: 5, video: new Float32Array(5 * FRAME_VALUES), audio: new Float32Array(125 * MEL_BANDS) };
    const tokens = await favorTokens(loadFavorModel(dir), clip);
    assert.deepEqual(tokens.tokens.shape, [1, 4, model.lmDim]);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, model: { ...model, stage: 'encoders' } }));
    assert.throws(() => loadFavorModel(dir), /stage-1 run .* --set model\.encoders=/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a question offering its answers ("the A or the B") is answered by the likelier of them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-options-'));
  try {
    writeStageTwoRun(dir, { ...favorTiny(), window: 5 });
    const model = loadFavorModel(dir);
    // One row per question: the options it offers (null: none, or a word the vocabulary lacks).
    const rows: [string, string[] | null][] = [
      ['which hit the wall first, the red circle or the blue square?', ['red circle', 'blue square']],
      ['Which hit the wall first, the Red Circle or the blue square ?', ['red circle', 'blue square']],
      ['which hit the wall first, the red circle or the purple square?', null],
      ['what color is the circle?', null],
      ['is the sound early, late or in sync?', null],
    ];
    for (const [q, want] of rows) assert.deepEqual(offeredAnswers(q, model.tokenizer), want, q);
    const clip = { frames: 5, video: new Float32Array(5 * FRAME_VALUES), audio: new Float32Array(125 * MEL_BANDS) };
    const r = await askClip(model, clip, rows[0][0]);
    assert.deepEqual(
      r.options?.map((o) => o.answer),
      rows[0][1],
    );
    const best = r.options!.reduce((a, b) => (b.logProb > a.logProb ? b : a));
    assert.equal(r.answer, best.answer);
    assert.ok(r.options!.every((o) => Number.isFinite(o.logProb) && o.logProb < 0));
    const free = await askClip(model, clip, rows[0][0], { options: false });
    assert.equal(free.options, undefined);
    assert.equal(free.answer, r.decoded, 'the free answer is the one decoded beside the options');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
