/** Self-contained HTML reports (tables, heat maps, curves, histograms); see docs/metrics.md. */
export * from './spec.js';
export * from './html.js';
export * from './sections.js';
export { binValues, poolMatrix } from './charts.js';
