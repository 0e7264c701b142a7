import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo, DEMO_FULL, DEMO_QUICK, type DemoSummary } from '../../src/app/demo.js';
import { SUITE_METRICS } from '../../src/models/av_align/metrics.js';

test('the demo pipeline runs end to end in a tiny configuration', async () => {
  const out = mkdtempSync(join(tmpdir(), 'attune-demo-'));
  try {
    const s = await runDemo({
      out,
      quick: true,
      quiet: true,
      parts: ['align', 'sync'],
      scale: {
        alignClips: 30,
        alignEpochs: 2,
        valClips: 4,
        testClips: 8,
        syncClips: 8,
        syncMaxSteps: 2,
        files: 2,
        batchSize: 8,
      },
    });
    // every phase ran and wrote its outputs
    assert.deepEqual(Object.keys(s.phases), ['synthesize', 'av-align', 'index', 'inspect', 'av-sync']);
    for (const f of [
      'report.html',
      'summary.json',
      'av-align/best.safetensors',
      'av-align/config.json',
      'avsynth/manifest.jsonl',
      'avsynth/clips/clip000000.mp4',
      'avsynth/index/index.json',
    ]) {
      assert.ok(existsSync(join(out, f)), `${f} missing`);
    }
    assert.equal(s.align!.steps, 2 * Math.floor(18 / 8));
    for (const m of SUITE_METRICS) {
      assert.ok(Number.isFinite(s.align!.before[m.key]), `before.${m.key}`);
      assert.ok(Number.isFinite(s.align!.after[m.key]), `after.${m.key}`);
    }
    assert.equal(s.retrieval!.testClips, 8);
    assert.equal(s.retrieval!.files.indexed, 4); // 2 MP4 + 2 WAV
    assert.equal(s.retrieval!.files.failed, 0);
    assert.ok('run' in s.sync, `av-sync: ${JSON.stringify(s.sync)}`);
    if ('run' in s.sync) assert.ok(Number.isFinite(s.sync.after.acc1));
    const html = readFileSync(s.report, 'utf8');
    assert.match(html, /Alignment metric suite on 8 test clips/);
    assert.match(html, /temporal_consistency/);
    assert.match(html, /Retrieval recall/);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).align.steps, s.align!.steps);
    checkVisuals(s, html);
    // a second run in the same folder starts the runs fresh and reuses the feature cache
    const again = await runDemo({
      out,
      quick: true,
      quiet: true,
      parts: ['align', 'sync'],
      skipSync: true,
      scale: { alignClips: 30, alignEpochs: 1, valClips: 4, testClips: 8, files: 1, batchSize: 8 },
    });
    assert.deepEqual(again.sync, { skipped: 'skipped by option' });
    assert.equal(again.retrieval!.files.indexed, 2);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('attune demo PART runs that part alone: sync trains av-sync only and leaves the other parts out of the report', async () => {
  const out = mkdtempSync(join(tmpdir(), 'attune-demo-part-'));
  try {
    const s = await runDemo({
      out,
      quick: true,
      quiet: true,
      parts: ['sync'],
      scale: { syncClips: 8, syncMaxSteps: 2, batchSize: 8 },
    });
    assert.deepEqual(Object.keys(s.phases), ['av-sync']);
    assert.equal(s.align, undefined);
    assert.ok('run' in s.sync, JSON.stringify(s.sync));
    assert.ok(!existsSync(join(out, 'av-align')));
    const html = readFileSync(s.report, 'utf8');
    assert.match(html, /av-sync on the test split/);
    assert.doesNotMatch(html, /Alignment metric suite/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

interface ChartSpec {
  id: string;
  kind: string;
  option: {
    xAxis: { data: string[] };
    yAxis: { data: string[] };
    series: { data: [number, number, number][] | number[] }[];
  };
}

/** The report's heat maps and histograms, read back from the chart data embedded in the HTML. */
function checkVisuals(s: DemoSummary, html: string): void {
  assert.ok(!('skipped' in s.visuals!), JSON.stringify(s.visuals!));
  if ('skipped' in s.visuals! || !('run' in s.sync)) return;
  const charts = JSON.parse(
    html.match(/<script type="application\/json" id="attune-charts">([^]*?)<\/script>/)![1],
  ) as ChartSpec[];
  const chartAfter = (title: RegExp): ChartSpec => {
    const m = html.match(new RegExp(`<h2>${title.source}[^<]*</h2><div id="(chart-\\d+)"`));
    assert.ok(m, `no chart titled ${title}`);
    return charts.find((c) => c.id === m[1])!;
  };
  const cells = (c: ChartSpec) => c.option.series[0].data as [number, number, number][];

  // attention: rows = audio frames, columns = video frames, both in seconds; each query row is a distribution
  assert.equal(s.visuals!.similarityClips, 8);
  assert.match(s.visuals!.attentionClip, /^clip\d{6}$/);
  const att = chartAfter(/av-align cross-modal attention on test clip \d+/);
  assert.match(
    html,
    new RegExp(`impacts \\(seen and heard\\) at ${s.visuals!.impacts.map((t) => `${t.toFixed(2)} s`).join(', ')}`),
  );
  assert.equal(att.option.yAxis.data.length, 48);
  assert.deepEqual(att.option.yAxis.data.slice(0, 3), ['0.00 s', '0.13 s', '0.25 s']);
  assert.deepEqual(att.option.xAxis.data, att.option.yAxis.data);
  const rowSums = new Array<number>(48).fill(0);
  for (const [, i, v] of cells(att)) rowSums[i] += v;
  for (const r of rowSums) assert.ok(Math.abs(r - 1) < 1e-4, `attention row sums to ${r}`);

  // similarity of the 8 test clips: the row-wise argmax reproduces the trained model's audio->video recall@1
  const sim = chartAfter(/Test-set audio-video similarity/);
  const m = Array.from({ length: 8 }, () => new Array<number>(8).fill(-Infinity));
  for (const [j, i, v] of cells(sim)) m[i][j] = v;
  const hits = m.filter((row, i) => row.indexOf(Math.max(...row)) === i).length;
  assert.equal(hits / 8, s.align!.after['a2v_R@1']);

  // av-sync: the confusion matrix and the error histogram count the same windows, and agree with acc1
  const conf = chartAfter(/av-sync confusion over the 21 offset classes/);
  assert.equal(conf.option.xAxis.data.length, 21);
  const total = cells(conf).reduce((a, [, , v]) => a + v, 0);
  const diagonal = cells(conf)
    .filter(([j, i]) => i === j)
    .reduce((a, [, , v]) => a + v, 0);
  assert.ok(total > 0);
  assert.ok(
    Math.abs(diagonal / total - s.sync.after.acc1) < 1e-9,
    `confusion trace ${diagonal}/${total} vs acc1 ${s.sync.after.acc1}`,
  );
  const hist = chartAfter(/av-sync error: predicted minus true offset on \d+ test windows \(\d+ exact\)/);
  const counts = hist.option.series[0].data as number[];
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    total,
  );
  assert.equal(counts[hist.option.xAxis.data.indexOf('+0.0')], diagonal);
  assert.equal(Number(html.match(/test windows \((\d+) exact\)/)![1]), diagonal);
}

test('demo scales: quick is a strict subset of the full job', () => {
  assert.ok(DEMO_QUICK.alignClips < DEMO_FULL.alignClips && DEMO_QUICK.alignEpochs < DEMO_FULL.alignEpochs);
  assert.equal(DEMO_FULL.testClips, 100);
});
