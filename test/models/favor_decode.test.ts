/**
 * Decoding over a fixed next-token table: greedy, beam search beating greedy, banned ids and no empty answers; the
 * log-probability of given answers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beamDecode, greedyDecode, type NextLogits, scoreAnswers } from '../../src/models/favor/decode.js';

const EOS = 0;
/**
 * Next-token probabilities by the last token (a fresh table per call: a test may change rows): after 9 (the prompt) 1
 * is likelier than 2, but 1 -> 3 is unlikely.
 */
const nextTable = (): Record<number, number[]> => ({
  9: [0.5, 0.35, 0.15, 0, 0],
  1: [0.05, 0, 0, 0.5, 0.45],
  2: [0.95, 0, 0, 0.05, 0],
  3: [1, 0, 0, 0, 0],
  4: [1, 0, 0, 0, 0],
});
/** The decoders' next-token log-probabilities, read off `table` as it is at each call. */
const nextFrom =
  (table: Record<number, number[]>): NextLogits =>
  async (prefixes) =>
    prefixes.map((p) => Float32Array.from(table[p[p.length - 1]], (x) => Math.log(x)));

test('greedy refuses [EOS] first and banned ids; beam search finds the likelier sequence greedy misses', async () => {
  const table = nextTable();
  const next = nextFrom(table);
  assert.deepEqual(await greedyDecode(next, [[9]], { eos: EOS, maxNew: 3 }), [[1, 3]]);
  assert.deepEqual(await greedyDecode(next, [[9]], { eos: EOS, maxNew: 3, banned: [1] }), [[2]]);
  // paths without EOS first: 1,3,EOS = .35*.5 = .175; 1,4,EOS = .1575; 2,EOS = .1425 -> greedy and beam agree here
  const beam = await beamDecode(next, [9], { eos: EOS, maxNew: 3, beam: 3 });
  assert.deepEqual(beam.ids, [1, 3]);
  assert.ok(Math.abs(beam.score - Math.log((0.35 / 0.5) * 0.5 * 1)) < 1e-6); // the first step renormalizes without [EOS]
  table[2] = [1, 0, 0, 0, 0];
  table[1] = [0.4, 0, 0, 0.3, 0.3]; // without [EOS] first: 1,EOS = .7 * .4 = .28 (greedy); 2,EOS = .3 (beam)
  assert.deepEqual(await greedyDecode(next, [[9]], { eos: EOS, maxNew: 3 }), [[1]]);
  const b2 = await beamDecode(next, [9], { eos: EOS, maxNew: 3, beam: 2 });
  assert.deepEqual(b2.ids, [2]);
});

test("scoreAnswers: each given answer's tokens and [EOS], the first step without [EOS], one row per answer", async () => {
  // The first step renormalises without [EOS]: 1 has .35 / .5, 2 has .15 / .5.
  const rows: [string, number[], number][] = [
    ['two words', [1, 3], (0.35 / 0.5) * 0.5 * 1],
    ['one word', [2], (0.15 / 0.5) * 0.95],
    ['one word, [EOS] unlikely after it', [1], (0.35 / 0.5) * 0.05],
  ];
  const got = await scoreAnswers(
    nextFrom(nextTable()),
    [9],
    rows.map((r) => r[1]),
    { eos: EOS, maxNew: 3 },
  );
  rows.forEach(([name, , p], i) =>
    assert.ok(Math.abs(got[i] - Math.log(p)) < 1e-6, `${name}: ${got[i]} vs ${Math.log(p)}`),
  );
});
