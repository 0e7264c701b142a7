import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchReal, defaultRealDir, readRealCatalog, REAL_SPLIT, splitCatalog } from '../../src/models/av_sync/index.js';

/**
 * Checks on the real clips (../shared/media/real or $ATTUNE_REAL_MEDIA; not in the repository). Without them every
 * test here is skipped with a message that says so; `npm test` never needs them.
 */
const dir = defaultRealDir();
const present = existsSync(join(dir, 'catalog.jsonl'));
const skip = present ? false : `real clips not found at ${dir} (../shared/media/real; set ATTUNE_REAL_MEDIA)`;
if (!present) process.stderr.write(`test/real: SKIPPED, ${skip}\n`);

test('the committed split is what the documented rule makes from the catalog', { skip }, () => {
  const made = splitCatalog(readRealCatalog(dir));
  assert.deepEqual(made.dev, REAL_SPLIT.dev);
  assert.deepEqual(made.heldOut, REAL_SPLIT.heldOut);
  assert.equal(new Set([...made.dev, ...made.heldOut]).size, made.dev.length + made.heldOut.length);
});

test('held-out real clips x 7 shifts: auto is confidently wrong on at most 3 % and --fix never makes a file worse', { skip, timeout: 600_000 }, async () => {
  const r = await benchReal({ dir, part: 'held-out' });
  assert.ok(r.cases.length >= 70, `${r.cases.length} cases`);
  assert.ok(r.summary.auto.confidentWrong <= 0.03, `confident-wrong ${r.summary.auto.confidentWrong}`);
  assert.equal(r.fix.worse, 0);
});
