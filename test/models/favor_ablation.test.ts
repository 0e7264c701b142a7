/** The ablation table: one markdown row per variant with mean ± std per family, written between the doc markers. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ABLATION_END,
  ABLATION_START,
  ablationEffectsMarkdown,
  ablationMarkdown,
  ablationTables,
  FAVOR_ABLATIONS,
  writeAblationDocs,
  type AblationRow,
} from '../../src/app/favor_ablation.js';
import { meanStd } from '../../src/metrics/stats.js';

const row = (name: string, acc: number[], audio: number[]): AblationRow => ({
  name,
  set: [],
  seeds: acc.map((_, i) => i),
  seconds: 1,
  metrics: { 'test.acc': meanStd(acc), 'test.acc_audio': meanStd(audio), 'test.prior': meanStd([0.3, 0.3]) },
});

test("ablation rows cover the issue's variants and the table prints mean ± std in % with the template prior", () => {
  const sets = FAVOR_ABLATIONS.map((a) => a.set.join(' '));
  for (const s of [
    '',
    'model.sync=none',
    'model.causal=none',
    'model.causal=past',
    'model.diversity=0',
    'model.window=5',
    'model.window=20',
    'model.questionOnly=true',
    // The no-sync row at the full row's AV token count (4 visual + 4 audio queries per window).
    'model.sync=none model.queries=4',
  ])
    assert.ok(sets.includes(s), s);
  const md = ablationMarkdown([
    row('full', [0.5, 0.7], [0.9, 0.9]),
    row('no sync', [0.4, 0.4], [0.8, 1]),
    row('one seed', [0.45], [0.7]),
  ]);
  const lines = md.split('\n');
  assert.equal(lines.length, 2 + 3 + 1);
  assert.match(lines[0], /^\| variant \| n \| audio \|/);
  assert.match(lines[2], /^\| full \| 2 \| 90\.0 ± 0\.0 \| – .*\| 60\.0 ± 14\.1 \|$/);
  assert.match(lines[3], /^\| no sync \| 2 \| 90\.0 ± 14\.1 \|/);
  // One seed has no spread to show: the value alone, not a misleading ± 0.0.
  assert.match(lines[4], /^\| one seed \| 1 \| 70\.0 \| – .*\| 45\.0 \|$/);
  assert.match(lines[5], /^\| template prior .*\| {2}\| – .*\| 30\.0 \|$/);
});

test('effects against the full row: difference ± standard error, bold beyond 2 SE, the full std for one seed', () => {
  const full = row('full', [0.5, 0.7], [0.9, 0.9]);
  const lines = ablationEffectsMarkdown([full, row('one seed', [0.3], [0.8]), row('two', [0.5, 0.7], [0.8, 1])]).split(
    '\n',
  );
  assert.equal(lines.length, 2 + 2);
  // all: -30 points, se = sqrt(14.14²/2 + 14.14²/1) = 17.3 (< 2 se: not bold); audio: -10 ± 0 (bold).
  assert.match(lines[2], /^\| one seed \| 1 \| \*\*-10\.0 ± 0\.0\*\* \| – .*\| -30\.0 ± 17\.3 \|$/);
  assert.match(lines[3], /^\| two \| 2 \| [+-]0\.0 ± 10\.0 \| .*\| \+0\.0 ± 14\.1 \|$/);
  // No full row first (or one seed of it): no effects to show, and the docs get the main table alone.
  assert.equal(ablationEffectsMarkdown([{ ...full, set: ['model.sync=none'] }, full]), '');
  assert.equal(ablationEffectsMarkdown([row('full', [0.5], [0.9]), full]), '');
  assert.equal(ablationTables([full]), ablationMarkdown([full]));
});

test('writeAblationDocs replaces only the text between the markers and refuses a file without them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-ablation-'));
  try {
    const path = join(dir, 'favor.md');
    writeFileSync(path, `# A\n${ABLATION_START}\nold\n${ABLATION_END}\ntail\n`);
    writeAblationDocs(path, [row('full', [0.5], [1])], 'how');
    const text = readFileSync(path, 'utf8');
    assert.ok(text.startsWith(`# A\n${ABLATION_START}\nhow\n\n| variant |`));
    assert.ok(text.endsWith(`${ABLATION_END}\ntail\n`));
    assert.ok(!text.includes('old'));
    writeFileSync(path, 'no markers');
    assert.throws(() => writeAblationDocs(path, [], 'how'), /markers/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
