import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import {
  writeReport,
  attentionHeatmap,
  secondsLabels,
  curvesFromLog,
  offsetHistogramSection,
  similarityHeatmap,
  metricsTable,
} from '../../src/report/index.js';
import { matrix } from '../../src/metrics/linalg.js';
import { Rng } from '../../src/util/rng.js';

/**
 * Renders a report with every section kind in headless Chromium (Debian's chromium, as in CI), checks
 * that each chart finished rendering with its series and painted non-blank pixels, and saves a
 * screenshot. Chromium is a Debian package, not an npm one, so a fresh clone without it skips the browser test and
 * says why; under CI=true (.ci/run installs it) a missing browser is a failure, not a skip.
 */
const CHROMIUM = process.env.ATTUNE_CHROMIUM ?? '/usr/bin/chromium';
const MISSING = `Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), or set ATTUNE_CHROMIUM to a Chromium binary`;
const SKIP_BROWSER = !existsSync(CHROMIUM) && process.env.CI !== 'true' ? `${MISSING} (required under CI=true)` : false;
// page-side code runs in the browser; these names exist there, not in Node's types
declare const window: any;
declare const document: any;

function sampleReport(dir: string): string {
  const rng = new Rng(7);
  const words = ['a', 'dog', 'barks', 'twice', 'then', 'a', 'car', 'passes'];
  const keys = 20;
  const att = new Float32Array(words.length * keys);
  for (let q = 0; q < words.length; q++) {
    let s = 0;
    for (let k = 0; k < keys; k++) {
      const v = Math.exp(-((k - q * 2.5) ** 2) / 4) + 0.05 * rng.uniform();
      att[q * keys + k] = v;
      s += v;
    }
    for (let k = 0; k < keys; k++) att[q * keys + k] /= s;
  }
  const a = matrix(30, 16);
  const b = matrix(30, 16);
  for (let i = 0; i < a.data.length; i++) {
    a.data[i] = rng.normal();
    b.data[i] = a.data[i] + 0.8 * rng.normal();
  }
  const log = Array.from({ length: 50 }, (_, step) => ({
    step,
    loss: 2 * Math.exp(-step / 15) + 0.05 * rng.uniform(),
    'R@1': 1 - Math.exp(-step / 20),
  }));
  const path = join(dir, 'report.html');
  writeReport(path, {
    title: 'Browser test report',
    subtitle: 'every section kind',
    meta: { model: 'test', seed: 7 },
    sections: [
      { kind: 'text', title: 'About', text: 'Synthetic data <b>escaped</b>.\n\nSecond paragraph.' },
      metricsTable('Metrics', { 'R@1': 0.5, 'mAP@10': 0.61234 }),
      similarityHeatmap(a, b),
      attentionHeatmap(
        { dtype: 'float32', shape: [words.length, keys], data: att },
        { queryLabels: words, keyLabels: secondsLabels(keys, 4), keyName: 'audio time' },
      ),
      curvesFromLog('Training', log),
      offsetHistogramSection([0, 0.2, -0.2, 0, 1.4, 0, 0.2]),
      { kind: 'audio', title: 'Listen', clips: [{ label: 'a 440 Hz tone', wav: toneWav(0.25) }] },
    ],
  });
  return path;
}

test('the report loads nothing from outside its file and escapes text sections', () => {
  const text = readFileSync(sampleReport(mkdtempSync(join(tmpdir(), 'attune-report-'))), 'utf8');
  assert.ok(
    !/<script[^>]+src=/i.test(text) && !/<link[^>]+href=/i.test(text),
    'report must not load anything from outside the file',
  );
  assert.ok(text.includes('&lt;b&gt;escaped&lt;/b&gt;'), 'text sections are escaped');
});

test(
  'report renders in headless Chromium: charts drawn, pixels painted, screenshot saved',
  { skip: SKIP_BROWSER },
  async () => {
    assert.ok(existsSync(CHROMIUM), MISSING);
    const dir = mkdtempSync(join(tmpdir(), 'attune-report-'));
    const html = sampleReport(dir);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      // offline: any request other than the file itself fails the test
      await page.route('**/*', (route) =>
        route.request().url().startsWith('file:') ? route.continue() : route.abort(),
      );
      await page.goto(pathToFileURL(html).href);
      await page.waitForFunction(
        () => {
          const charts = (window as any).__attuneCharts as { rendered: boolean }[] | undefined;
          return charts && charts.length > 0 && charts.every((c) => c.rendered);
        },
        undefined,
        { timeout: 15000 },
      );
      const charts = (await page.evaluate(() => (window as any).__attuneCharts)) as {
        kind: string;
        series: number;
        error: string | null;
      }[];
      assert.deepEqual(errors, []);
      assert.deepEqual(
        charts.map((c) => c.kind),
        ['heatmap', 'heatmap', 'curves', 'histogram'],
      );
      for (const c of charts) {
        assert.equal(c.error, null);
        assert.ok(c.series >= 1, `${c.kind} has series`);
      }
      assert.equal(charts[2].series, 2, 'two training curves');
      // the inlined WAV plays: the browser decodes its duration from the data URL
      const duration = await page.evaluate(
        () =>
          new Promise<number>((done) => {
            const a = document.querySelector('audio') as any;
            a.addEventListener('loadedmetadata', () => done(a.duration));
            a.addEventListener('error', () => done(-1));
            a.preload = 'metadata';
            a.load();
          }),
      );
      assert.ok(Math.abs(duration - 0.25) < 0.01, `audio duration ${duration}`);
      // every chart canvas holds painted (non-white, non-transparent) pixels
      const painted = (await page.evaluate(() =>
        Array.from(document.querySelectorAll('.chart canvas')).map((cv: any) => {
          const c = cv as any;
          const ctx = c.getContext('2d')!;
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4)
            if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++;
          return { n, total: d.length / 4 };
        }),
      )) as { n: number; total: number }[];
      assert.ok(painted.length >= 4, `expected a canvas per chart, found ${painted.length}`);
      for (const p of painted)
        assert.ok(p.n > p.total * 0.002, `a canvas is nearly blank (${p.n} of ${p.total} pixels painted)`);
      const shot = join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 10000, 'screenshot written');
      process.stdout.write(`# report screenshot: ${shot}\n`);
    } finally {
      await browser.close();
    }
  },
);

test('integer histogram bins have whole-number edges; large heat maps are pooled', async () => {
  const { binValues, poolMatrix } = await import('../../src/report/index.js');
  const r = binValues([0, 0, 1, 5, 9], 5, true);
  assert.deepEqual(r.bins, ['0..1', '2..3', '4..5', '6..7', '8..9']);
  assert.deepEqual(r.counts, [3, 0, 1, 0, 1]);
  assert.deepEqual(binValues([2, 2, 3], 10, true), { bins: ['2', '3'], counts: [2, 1] });
  const big = Array.from({ length: 10 }, (_, i) => Array.from({ length: 4 }, (_, j) => i * 4 + j));
  const p = poolMatrix(big, undefined, ['a', 'b', 'c', 'd'], 5);
  assert.equal(p.values.length, 5);
  assert.equal(p.values[0][0], (0 + 4) / 2);
  assert.deepEqual(p.colLabels, ['a', 'b', 'c', 'd']);
  assert.ok(p.pooled);
});

test('bad report sections are rejected with the section named', async () => {
  const { renderReport } = await import('../../src/report/index.js');
  assert.throws(
    () => renderReport({ title: 't', sections: [{ kind: 'table', title: 'T', columns: ['a', 'b'], rows: [[1]] }] }),
    /section 0 \(table "T"\): every row needs 2 cells/,
  );
  assert.throws(
    () => renderReport({ title: 't', sections: [{ kind: 'heatmap', values: [[1, 2]], colLabels: ['x'] }] }),
    /colLabels has 1 labels for 2 columns/,
  );
  // a text-only report needs no chart library
  assert.ok(!renderReport({ title: 't', sections: [{ kind: 'text', text: 'hi' }] }).includes('echarts.init'));
});

/** A mono 16-bit PCM WAV of a 440 Hz tone, built by hand so the test needs no encoder. */
function toneWav(seconds: number, rate = 16000): Uint8Array {
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + 2 * n, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(2 * rate, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + 2 * i);
  return new Uint8Array(buf);
}
