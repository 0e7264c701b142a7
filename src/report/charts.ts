import type { CurvesSection, HeatmapSection, HistogramSection } from './spec.js';

/**
 * Turns chart sections into ECharts options (plain JSON, built here in Node so the page script stays
 * tiny), after shrinking big heat maps and binning raw histogram values.
 */
export type ChartSection = HeatmapSection | CurvesSection | HistogramSection;

/** Average-pools a matrix to at most `limit` rows and columns; labels keep the first of each group. */
export function poolMatrix(
  values: number[][],
  rowLabels: string[] | undefined,
  colLabels: string[] | undefined,
  limit: number,
): { values: number[][]; rowLabels: string[]; colLabels: string[]; pooled: boolean } {
  const rows = values.length;
  const cols = rows ? values[0].length : 0;
  const fr = Math.max(1, Math.ceil(rows / limit));
  const fc = Math.max(1, Math.ceil(cols / limit));
  const outR = Math.ceil(rows / fr);
  const outC = Math.ceil(cols / fc);
  const out: number[][] = [];
  for (let i = 0; i < outR; i++) {
    const r: number[] = [];
    for (let j = 0; j < outC; j++) {
      let s = 0;
      let c = 0;
      for (let a = i * fr; a < Math.min(rows, (i + 1) * fr); a++)
        for (let b = j * fc; b < Math.min(cols, (j + 1) * fc); b++, c++) s += values[a][b];
      r.push(s / c);
    }
    out.push(r);
  }
  const label = (given: string[] | undefined, f: number, n: number) =>
    Array.from({ length: n }, (_, i) => given?.[i * f] ?? String(i * f));
  return {
    values: out,
    rowLabels: label(rowLabels, fr, outR),
    colLabels: label(colLabels, fc, outC),
    pooled: fr > 1 || fc > 1,
  };
}

function heatmapOption(s: HeatmapSection): Record<string, unknown> {
  const p = poolMatrix(s.values, s.rowLabels, s.colLabels, s.maxCells ?? 160);
  const data: [number, number, number][] = [];
  let lo = Infinity;
  let hi = -Infinity;
  p.values.forEach((r, i) =>
    r.forEach((v, j) => {
      data.push([j, i, v]);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }),
  );
  if (!data.length) lo = hi = 0;
  return {
    tooltip: { position: 'top' },
    grid: { left: 90, right: 90, top: 30, bottom: 70 },
    xAxis: {
      type: 'category',
      data: p.colLabels,
      name: s.colName ?? 'keys',
      nameLocation: 'middle',
      nameGap: 45,
      axisLabel: { rotate: 45 },
    },
    yAxis: {
      type: 'category',
      data: p.rowLabels,
      name: s.rowName ?? 'queries',
      nameLocation: 'middle',
      nameGap: 70,
      inverse: true,
    },
    visualMap: {
      min: s.min ?? lo,
      max: s.max ?? (hi > lo ? hi : lo + 1),
      precision: 2,
      calculable: true,
      orient: 'vertical',
      right: 0,
      top: 'center',
      inRange: { color: ['#f7fbff', '#6baed6', '#08306b'] },
    },
    series: [{ type: 'heatmap', data, progressive: 0, animation: false }],
    _note: p.pooled ? `average-pooled to ${p.values.length} x ${p.values[0]?.length ?? 0} cells for display` : '',
  };
}

function curvesOption(s: CurvesSection): Record<string, unknown> {
  return {
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 70, right: 30, top: 40, bottom: 60 },
    xAxis: { type: 'value', name: s.xName ?? 'step', nameLocation: 'middle', nameGap: 30, scale: true },
    yAxis: { type: s.logY ? 'log' : 'value', name: s.yName ?? '', scale: true },
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 5 }],
    series: s.series.map((c) => ({
      name: c.name,
      type: 'line',
      showSymbol: c.y.length < 60,
      animation: false,
      data: c.y.map((y, i) => [c.x?.[i] ?? s.x?.[i] ?? i, Number.isFinite(y) ? y : null]),
    })),
  };
}

/** Equal-width bins over [min, max] of the values (whole-number edges for integer data). */
export function binValues(values: number[], binCount: number, integer = false): { bins: string[]; counts: number[] } {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return { bins: [], counts: [] };
  const lo = finite.reduce((a, b) => Math.min(a, b), Infinity);
  const hi = finite.reduce((a, b) => Math.max(a, b), -Infinity);
  if (integer) {
    const a = Math.floor(lo);
    const w = Math.max(1, Math.ceil((Math.floor(hi) - a + 1) / Math.max(1, binCount)));
    const n = Math.floor((Math.floor(hi) - a) / w) + 1;
    const counts = new Array<number>(n).fill(0);
    for (const v of finite) counts[Math.floor((Math.floor(v) - a) / w)]++;
    return { bins: counts.map((_, i) => (w === 1 ? String(a + i) : `${a + i * w}..${a + (i + 1) * w - 1}`)), counts };
  }
  const n = Math.max(1, binCount);
  const w = hi > lo ? (hi - lo) / n : 1;
  const counts = new Array<number>(n).fill(0);
  for (const v of finite) counts[Math.min(n - 1, Math.floor((v - lo) / w))]++;
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
  return { bins: counts.map((_, i) => `${fmt(lo + i * w)}..${fmt(lo + (i + 1) * w)}`), counts };
}

function histogramOption(s: HistogramSection): Record<string, unknown> {
  const { bins, counts } = s.values
    ? binValues(s.values, s.binCount ?? 20, s.integer)
    : { bins: (s.bins ?? []).map(String), counts: s.counts ?? [] };
  return {
    tooltip: { trigger: 'axis' },
    grid: { left: 60, right: 30, top: 30, bottom: 70 },
    xAxis: {
      type: 'category',
      data: bins,
      name: s.xName ?? '',
      nameLocation: 'middle',
      nameGap: 50,
      axisLabel: { rotate: bins.length > 12 ? 45 : 0 },
    },
    yAxis: { type: 'value', name: s.yName ?? 'count' },
    series: [{ type: 'bar', data: counts, animation: false, itemStyle: { color: '#3b75af' } }],
  };
}

export function chartOption(s: ChartSection): Record<string, unknown> {
  switch (s.kind) {
    case 'heatmap':
      return heatmapOption(s);
    case 'curves':
      return curvesOption(s);
    case 'histogram':
      return histogramOption(s);
  }
}

/**
 * The page script: draws each chart into its div with the canvas renderer and records, per chart,
 * whether ECharts finished rendering and how many series it holds (window.__attuneCharts), which is
 * what the headless-browser test inspects.
 */
export const PAGE_SCRIPT = `
(function () {
  var specs = JSON.parse(document.getElementById('attune-charts').textContent);
  var state = window.__attuneCharts = [];
  specs.forEach(function (spec) {
    var el = document.getElementById(spec.id);
    var entry = { id: spec.id, kind: spec.kind, rendered: false, series: 0, error: null };
    state.push(entry);
    try {
      var chart = echarts.init(el, null, { renderer: 'canvas' });
      chart.on('finished', function () { entry.rendered = true; });
      chart.setOption(spec.option);
      entry.series = chart.getOption().series.length;
      window.addEventListener('resize', function () { chart.resize(); });
    } catch (e) { entry.error = String(e); el.textContent = 'chart failed: ' + e; }
  });
})();
`;
