/**
 * What a report is made of. A report is one self-contained HTML file: sections render in order, charts
 * are drawn by Apache ECharts, which is inlined into the file so it opens offline.
 */
export type Cell = string | number | null;

export interface TextSection {
  kind: 'text';
  title?: string;
  /** plain text; blank lines separate paragraphs (HTML is escaped) */
  text: string;
}

export interface TableSection {
  kind: 'table';
  title?: string;
  columns: string[];
  rows: Cell[][];
  /** decimals for numbers (default 4) */
  digits?: number;
}

export interface HeatmapSection {
  kind: 'heatmap';
  title?: string;
  /** values[row][column]; for attention: rows = queries, columns = keys */
  values: number[][];
  rowLabels?: string[];
  colLabels?: string[];
  rowName?: string;
  colName?: string;
  /** color scale limits (default: data min/max) */
  min?: number;
  max?: number;
  /** larger matrices are average-pooled down to this many rows/columns (default 160) */
  maxCells?: number;
}

export interface CurveSeries {
  name: string;
  /** x per point; default: the section's x, or 0, 1, 2, ... */
  x?: number[];
  y: number[];
}

export interface CurvesSection {
  kind: 'curves';
  title?: string;
  x?: number[];
  series: CurveSeries[];
  xName?: string;
  yName?: string;
  logY?: boolean;
}

export interface HistogramSection {
  kind: 'histogram';
  title?: string;
  /** either ready counts per labeled bin ... */
  bins?: (string | number)[];
  counts?: number[];
  /** ... or raw values cut into `binCount` equal bins */
  values?: number[];
  binCount?: number;
  /** integer-valued data (ranks, counts): whole-number bin edges */
  integer?: boolean;
  xName?: string;
  yName?: string;
}

/** Sound a reader can play: each clip is a WAV file's bytes, inlined as a data URL so the report stays one file. */
export interface AudioSection {
  kind: 'audio';
  title?: string;
  clips: { label: string; wav: Uint8Array }[];
}

export type Section = TextSection | TableSection | HeatmapSection | CurvesSection | HistogramSection | AudioSection;

export interface ReportSpec {
  title: string;
  subtitle?: string;
  /** key facts shown under the title (model, dataset, seed, config path ...) */
  meta?: Record<string, string | number>;
  sections: Section[];
}
