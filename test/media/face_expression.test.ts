import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EMOTION_CLASSES,
  EMOTION_SIZE,
  EXPRESSIONS,
  ExpressionNet,
  expressionInput,
  toExpressionOrder,
} from '../../src/media/face_expression.js';
import { FACE_COLUMNS } from '../../src/media/face.js';
import { HUMAN_MODELS } from './human_tfjs.js';

/** The expression model's class order, preprocessing and mapping onto the face preset's columns. */

test("the model's class order is the one human's own source gives its one-channel emotion model", () => {
  const source = readFileSync(join(HUMAN_MODELS, '..', 'src', 'gear', 'emotion.ts'), 'utf8');
  const gray = /if \(!rgb\) annotations = \[([^\]]+)\]/.exec(source);
  assert.ok(gray, 'the grayscale annotations line in human/src/gear/emotion.ts');
  assert.deepEqual(
    gray[1].split(',').map((s) => s.trim().replace(/'/g, '')),
    [...EMOTION_CLASSES],
  );
  // And human's preprocessing constants: BT.601 gray, (x - 0.5) * 2.
  assert.match(source, /t\.grayscaleSub = tf\.sub\(t\.grayscale, constants\.tf05\)/);
  assert.match(source, /t\.grayscaleMul = tf\.mul\(t\.grayscaleSub, constants\.tf2\)/);
});

test('each expression column takes its own class from the model output (a permutation, names matched)', () => {
  assert.deepEqual(FACE_COLUMNS.slice(7), [...EXPRESSIONS]);
  for (let k = 0; k < EMOTION_CLASSES.length; k++) {
    const oneHot = Float32Array.from(EMOTION_CLASSES, (_, i) => (i === k ? 1 : 0));
    const ordered = toExpressionOrder(oneHot);
    const at = ordered.indexOf(1);
    assert.equal(
      ordered.reduce((a, b) => a + b, 0),
      1,
    );
    // fearful/fear, disgusted/disgust, surprised/surprise: the same class, face-api's name kept.
    assert.ok(EXPRESSIONS[at].startsWith(EMOTION_CLASSES[k]), `${EMOTION_CLASSES[k]} -> ${EXPRESSIONS[at]}`);
  }
});

test('the input is BT.601 gray of the crop, mapped from [0, 255] to [-1, 1]; outside the frame reads black', () => {
  const [W, H] = [40, 30];
  const data = new Uint8Array(W * H * 3);
  for (let p = 0; p < W * H; p++) data.set([200, 100, 50], 3 * p);
  const inside = expressionInput({ data, width: W, height: H }, 20, 15, 20);
  assert.equal(inside.length, EMOTION_SIZE * EMOTION_SIZE);
  const gray = (0.2989 * 200 + 0.587 * 100 + 0.114 * 50) / 255;
  for (const v of inside) assert.ok(Math.abs(v - (gray - 0.5) * 2) < 1e-5, `${v}`);
  // A crop twice the frame's height, centered: its top rows are outside, black (-1).
  const partly = expressionInput({ data, width: W, height: H }, 20, 15, 60);
  assert.ok(Math.abs(partly[0] + 1) < 1e-6);
  assert.ok(Math.abs(partly[(EMOTION_SIZE / 2) * EMOTION_SIZE + EMOTION_SIZE / 2] - (gray - 0.5) * 2) < 1e-5);
});

test('classify gives seven probabilities summing to 1, in EXPRESSIONS order', async () => {
  const net = await ExpressionNet.load();
  try {
    const [W, H] = [64, 64];
    const data = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 7919) % 256);
    const probs = await net.classify({ data, width: W, height: H }, 32, 32, 64);
    assert.equal(probs.length, EXPRESSIONS.length);
    assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    const raw = await net.run(expressionInput({ data, width: W, height: H }, 32, 32, 64));
    EXPRESSIONS.forEach((e, i) => {
      const k = EMOTION_CLASSES.findIndex((c) => e.startsWith(c));
      assert.equal(probs[i], raw[k], e);
    });
  } finally {
    await net.close();
  }
});
