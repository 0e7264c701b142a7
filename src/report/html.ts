import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { chartOption, PAGE_SCRIPT, type ChartSection } from './charts.js';
import type { AudioSection, Cell, ReportSpec, Section, TableSection } from './spec.js';

/**
 * renderReport(spec) -> one self-contained HTML document: styles, data and Apache ECharts (Apache-2.0,
 * read from node_modules/echarts/dist/echarts.min.js and inlined with its notice) all live in the file,
 * so it opens offline and can be attached or archived next to the run it describes.
 */
let echartsSource: { code: string; version: string } | null = null;

function loadEcharts(): { code: string; version: string } {
  if (!echartsSource) {
    const require = createRequire(import.meta.url);
    const path = require.resolve('echarts/dist/echarts.min.js');
    const pkg = JSON.parse(readFileSync(require.resolve('echarts/package.json'), 'utf8')) as { version: string };
    echartsSource = { code: readFileSync(path, 'utf8'), version: pkg.version };
  }
  return echartsSource;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function formatCell(c: Cell, digits: number): string {
  if (c === null || c === undefined) return '';
  if (typeof c === 'number') {
    if (Number.isInteger(c)) return String(c);
    if (!Number.isFinite(c)) return String(c);
    const a = Math.abs(c);
    return a !== 0 && (a < 10 ** -digits || a >= 1e6) ? c.toExponential(3) : c.toFixed(digits);
  }
  return escapeHtml(c);
}

function tableHtml(s: TableSection): string {
  const digits = s.digits ?? 4;
  const head = s.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = s.rows
    .map(
      (r) =>
        `<tr>${r.map((c) => `<td class="${typeof c === 'number' ? 'num' : ''}">${formatCell(c, digits)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function checkSection(s: Section, i: number): void {
  const bad = (why: string) =>
    new InputError(`report section ${i} (${s.kind}${s.title ? ` "${s.title}"` : ''}): ${why}`, {
      field: `sections[${i}]`,
    });
  if (s.kind === 'table' && s.rows.some((r) => r.length !== s.columns.length))
    throw bad(`every row needs ${s.columns.length} cells`);
  if (s.kind === 'heatmap') {
    const w = s.values[0]?.length ?? 0;
    if (s.values.some((r) => r.length !== w)) throw bad('all heat-map rows need the same length');
    if (s.rowLabels && s.rowLabels.length !== s.values.length)
      throw bad(`rowLabels has ${s.rowLabels.length} labels for ${s.values.length} rows`);
    if (s.colLabels && s.colLabels.length !== w)
      throw bad(`colLabels has ${s.colLabels.length} labels for ${w} columns`);
  }
  if (s.kind === 'histogram' && !s.values && (s.bins?.length ?? -1) !== (s.counts?.length ?? -2))
    throw bad('give values, or bins and counts of equal length');
  if (s.kind === 'curves' && s.series.some((c) => c.x && c.x.length !== c.y.length))
    throw bad('a series has x and y of different lengths');
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2f4a;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}
main{max-width:1100px;margin:0 auto;padding:12px 24px 40px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:16px 0;padding:12px 18px}
section h2{font-size:16px;margin:4px 0 10px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}th,td{padding:3px 10px;border-bottom:1px solid #e8ebef;text-align:left}
td.num{text-align:right}th{background:#f0f2f5}.meta td:first-child{color:#5a6475}
.chart{width:100%;height:420px}.chart.heatmap{height:560px}.note{color:#6b7385;font-size:12px}
footer{color:#8a91a0;font-size:12px;text-align:center;padding:10px}`;

export function renderReport(spec: ReportSpec): string {
  spec.sections.forEach(checkSection);
  const charts: { id: string; kind: string; option: Record<string, unknown> }[] = [];
  const parts = spec.sections.map((s, i) => {
    const title = s.title ? `<h2>${escapeHtml(s.title)}</h2>` : '';
    if (s.kind === 'text')
      return `<section>${title}${s.text
        .split(/\n\s*\n/)
        .map((p) => `<p>${escapeHtml(p)}</p>`)
        .join('')}</section>`;
    if (s.kind === 'table') return `<section>${title}${tableHtml(s)}</section>`;
    if (s.kind === 'audio') return `<section>${title}${audioHtml(s)}</section>`;
    const id = `chart-${i}`;
    const option = chartOption(s as ChartSection);
    const note =
      typeof option._note === 'string' && option._note ? `<p class="note">${escapeHtml(option._note)}</p>` : '';
    delete option._note;
    charts.push({ id, kind: s.kind, option });
    return `<section>${title}<div id="${id}" class="chart ${s.kind}"></div>${note}</section>`;
  });
  const meta =
    spec.meta && Object.keys(spec.meta).length
      ? `<section><table class="meta">${Object.entries(spec.meta)
          .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(String(v))}</td></tr>`)
          .join('')}</table></section>`
      : '';
  const ec = charts.length ? loadEcharts() : null;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(spec.title)}</title><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(spec.title)}</h1>${spec.subtitle ? `<p>${escapeHtml(spec.subtitle)}</p>` : ''}</header>
<main>${meta}
${parts.join('\n')}
</main><footer>Generated by Attune${ec ? ` · charts by Apache ECharts ${ec.version} (Apache License 2.0; Copyright The Apache Software Foundation)` : ''}</footer>
${
  ec
    ? `<script>/* Apache ECharts ${ec.version}, Apache License 2.0, https://echarts.apache.org */\n${ec.code}</script>
<script type="application/json" id="attune-charts">${scriptJson(charts)}</script>
<script>${PAGE_SCRIPT}</script>`
    : ''
}
</body></html>
`;
}

/** Renders and writes the report atomically. */
export function writeReport(path: string, spec: ReportSpec): void {
  writeFileAtomic(path, renderReport(spec));
}

function audioHtml(s: AudioSection): string {
  const clip = (c: AudioSection['clips'][number]) =>
    `<p>${escapeHtml(c.label)}<br><audio controls preload="none" src="data:audio/wav;base64,${Buffer.from(c.wav).toString('base64')}"></audio></p>`;
  return s.clips.map(clip).join('');
}
