// FAVOR on every clip of media/real (portrait HEVC, MPEG-PS, 16-48 kHz, 3-23 s): the file decodes to the 2 Hz
// frames and 50 Hz log-mel the model reads, `attune ask`'s path answers with words of the vocabulary and one
// attention share per window, and the joint tokens come out one set per window, finite. The model holds its
// initial weights (the answers mean nothing): what is checked is that real footage goes through, not accuracy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toFloat32 } from '../../src/io/array.js';
import { AUDIO_PER_FRAME, MEL_BANDS, favorTiny } from '../../src/models/favor/config.js';
import { askClip, decodeClip, favorTokens, loadFavorModel } from '../../src/models/favor/infer.js';
import { writeStageTwoRun } from '../models/favor_fixtures.js';
import { REAL_DIR, realClips } from './shared.js';

const clips = realClips();
const dir = mkdtempSync(join(tmpdir(), 'favor-real-'));
// The documented recipe's layout: conv stem, windows of 10 frames (5 s).
writeStageTwoRun(dir, { ...favorTiny(), window: 10, visualStem: 'conv', stemDim: 4 });
const model = loadFavorModel(dir);
test.after(() => rmSync(dir, { recursive: true, force: true }));

function range(v: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    assert.ok(Number.isFinite(x), 'a non-finite value');
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  return [lo, hi];
}

for (const entry of clips) {
  test(`real clip ${entry.file}: FAVOR decodes it, answers a question about it and gives its tokens per window`, async () => {
    const clip = await decodeClip(join(REAL_DIR, entry.file));
    const expected = entry.duration_s * 2;
    assert.ok(
      clip.frames >= Math.floor(expected) - 1 && clip.frames <= Math.ceil(expected),
      `${clip.frames} frames at 2 Hz for ${entry.duration_s} s`,
    );
    assert.equal(clip.audio.length, clip.frames * AUDIO_PER_FRAME * MEL_BANDS);
    const [vlo, vhi] = range(clip.video);
    assert.ok(vlo >= 0 && vhi <= 1 && vhi - vlo > 0.1, `pixels span ${vlo}..${vhi}`);
    const [alo, ahi] = range(clip.audio);
    assert.ok(ahi - alo > 0.1, `log-mel spans ${alo}..${ahi}: silent or undecoded audio`);

    const windows = Math.ceil(clip.frames / model.config.window);
    const asked = await askClip(model, clip, 'what kind of sound is heard?');
    const words = asked.answer.split(' ').filter((w) => w);
    assert.ok(words.length >= 1 && words.length <= 3, `answer "${asked.answer}"`);
    for (const w of words) assert.ok(model.tokenizer.words.includes(w), `"${w}" is not an AVQA word`);
    assert.equal(asked.windows.length, windows);
    assert.equal(asked.windows.at(-1)?.end, clip.frames / 2);
    const shares = asked.windows.reduce((a, w) => a + w.share, 0);
    assert.ok(Math.abs(shares - 1) < 1e-6, `window shares sum to ${shares}`);

    const tokens = await favorTokens(model, clip);
    assert.deepEqual(tokens.tokens.shape, [1, windows * model.config.queries, model.config.lmDim]);
    range(toFloat32(tokens.tokens));
    assert.ok(
      toFloat32(tokens.valid).every((v) => v === 1),
      'every token of a clip without padding is valid',
    );
  });
}
