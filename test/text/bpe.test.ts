import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpeTokenizer, splitWords } from '../../src/text/bpe.js';
import { ConfigError, InputError } from '../../src/util/errors.js';

const corpus = [
  'the dog barks at the red ball',
  'the red ball bounces off the wall',
  'a blue square bounces twice',
  'the dog and the cat play with the ball',
  'bounces bounces bounces',
];

test('pre-tokenization keeps every character', () => {
  const text = "Hello,  world! It's 42 \u00e9t\u00e9\n";
  assert.equal(splitWords(text).join(''), text);
  assert.deepEqual(splitWords('the dog'), ['the', ' dog']);
});

test('training learns frequent merges first and shortens frequent words', () => {
  const tok = BpeTokenizer.train(corpus, { vocabSize: 4 + 256 + 30 });
  assert.ok(tok.vocabSize <= 290 && tok.vocabSize > 260);
  const first = tok.merges[0];
  assert.equal(tok.tokenText(4 + 256), tok.tokenText(first[0]) + tok.tokenText(first[1]));
  const the = tok.encode(' the', { addSpecial: false }).ids;
  assert.equal(the.length, 1, 'a word seen 8 times becomes one token');
  assert.equal(tok.tokenText(the[0]), ' the');
  const rare = tok.encode(' zebra', { addSpecial: false }).ids;
  assert.equal(rare.length >= 4, true);
});

test('encode/decode round-trips any text, including unseen characters', () => {
  const tok = BpeTokenizer.train(corpus, { vocabSize: 300, lowercase: false });
  for (const text of ['the dog barks', 'Unseen: \u00fcber caf\u00e9 \u{1F436}!', '', '  spaces  ']) {
    assert.equal(tok.decode(tok.encode(text).ids), text);
  }
  const lower = BpeTokenizer.train(corpus, { vocabSize: 300 });
  assert.equal(lower.decode(lower.encode('The DOG').ids), 'the dog');
});

test('special tokens, truncation keeping [EOS], padding and the attention mask', () => {
  const tok = BpeTokenizer.train(corpus, { vocabSize: 300 });
  const [pad, bos, eos] = ['[PAD]', '[BOS]', '[EOS]'].map((s) => tok.specialId(s));
  assert.deepEqual([pad, bos, eos], [0, 1, 2]);
  const e = tok.encode('the dog', { padTo: 8 });
  assert.equal(e.ids[0], bos);
  const n = e.mask.reduce((a, b) => a + b, 0);
  assert.equal(e.ids[n - 1], eos);
  assert.deepEqual([...e.ids.slice(n)], new Array(8 - n).fill(pad));
  const t = tok.encode('the dog barks at the red ball and the cat', { maxLength: 5 });
  assert.equal(t.ids.length, 5);
  assert.equal(t.ids[4], eos);
  const batch = tok.encodeBatch(['the dog', 'the red ball bounces off the wall'], {});
  assert.equal(batch.shape[0], 2);
  assert.equal(batch.shape[1], tok.encode('the red ball bounces off the wall').ids.length);
  assert.equal(batch.mask[batch.shape[1] - 1], 0);
  assert.equal(batch.mask[2 * batch.shape[1] - 1], 1);
  assert.equal(tok.decode(tok.encode('the dog').ids, true), '[BOS]the dog[EOS]');
  assert.throws(() => tok.decode([9999]), InputError);
});

test('save and load give the same encodings; bad settings are typed errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-tok-'));
  try {
    const tok = BpeTokenizer.train(corpus, { vocabSize: 290 });
    const path = join(dir, 'tokenizer.json');
    tok.save(path);
    const back = BpeTokenizer.load(path);
    assert.deepEqual(back.encode('the blue dog bounces').ids, tok.encode('the blue dog bounces').ids);
    assert.throws(() => BpeTokenizer.train(corpus, { vocabSize: 100 }), ConfigError);
    assert.throws(() => BpeTokenizer.load(join(dir, 'none.json')), InputError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
