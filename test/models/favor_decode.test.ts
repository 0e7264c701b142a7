/** Decoding over a fixed next-token table: greedy, beam search beating greedy, banned ids and no empty answers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beamDecode, greedyDecode, type NextLogits } from '../../src/models/favor/decode.js';

const EOS = 0;
/** Next-token log-probabilities by the last token: after 9 (the prompt) 1 is likelier than 2, but 1 -> 3 is unlikely. */
const table: Record<number, number[]> = {
  9: [0.5, 0.35, 0.15, 0, 0],
  1: [0.05, 0, 0, 0.5, 0.45],
  2: [0.95, 0, 0, 0.05, 0],
  3: [1, 0, 0, 0, 0],
  4: [1, 0, 0, 0, 0],
};
const next: NextLogits = async (prefixes) =>
  prefixes.map((p) => Float32Array.from(table[p[p.length - 1]], (x) => Math.log(x)));

test('greedy refuses [EOS] first and banned ids; beam search finds the likelier sequence greedy misses', async () => {
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
