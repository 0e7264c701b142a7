import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SENTIMENT_FEATURES, sentimentFeatures, wordValences } from '../../src/text/sentiment.js';

test('lexicon valence with negation and intensifiers', () => {
  assert.deepEqual(wordValences('good').valence, [2]);
  assert.deepEqual(wordValences('not good').valence, [0, -1]);
  assert.deepEqual(wordValences("I don't like it").valence, [0, 0, 0, -0.5, 0]);
  assert.deepEqual(wordValences('very happy').valence, [0, 3]);
  assert.deepEqual(wordValences('slightly sad').valence, [0, -1]);
  assert.deepEqual(wordValences('terrible, awful day').valence, [-3, -3, 0]);
});

test('feature vector has fixed length and sensible signs', () => {
  const pos = sentimentFeatures('What a wonderful, happy day!');
  const neg = sentimentFeatures('This is terrible and I am so sad.');
  assert.equal(pos.length, SENTIMENT_FEATURES.length);
  assert.ok(pos[0] > 0 && neg[0] < 0);
  assert.ok(pos[2] > 0 && pos[3] === 0);
  assert.ok(neg[3] > 0);
  assert.equal(pos[5], 0.5); // one '!' squashed: 1 / (1 + 1)
  assert.deepEqual([...sentimentFeatures('')], new Array(SENTIMENT_FEATURES.length).fill(0));
  assert.equal(sentimentFeatures('STOP IT')[7], 1);
});
