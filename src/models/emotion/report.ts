/**
 * Report sections of the emotion model: heat maps of one utterance's attention (words on one axis, seconds on the
 * other), the per-class table with the seed's attention statistics, and the confusion matrix.
 */
import { attentionHeatmap, confusionHeatmap, secondsLabels } from '../../report/sections.js';
import type { HeatmapSection, Section, TableSection } from '../../report/spec.js';
import { AUDIO_RATE } from './config.js';
import type { EmotionAnalysis } from './analysis.js';
import type { EmotionPrediction } from './predict.js';

const host = (maps: number[][][]) => ({
  dtype: 'float64' as const,
  shape: [maps.length, maps[0].length, maps[0][0].length],
  data: Float64Array.from(maps.flat(2)),
});

/** text→audio (rows = words, columns = seconds) and audio→text (rows = seconds, columns = words), mean over heads. */
export function attentionSections(pred: EmotionPrediction, words: string[], title: string): HeatmapSection[] {
  const shown = words.slice(0, pred.words);
  const seconds = secondsLabels(pred.frames, AUDIO_RATE);
  const out: HeatmapSection[] = [];
  if (pred.textToAudio)
    out.push(
      attentionHeatmap(host(pred.textToAudio), {
        title: `${title}: text→audio attention`,
        queryLabels: shown,
        keyLabels: seconds,
        queryName: 'word',
        keyName: 'time',
      }),
    );
  if (pred.audioToText)
    out.push(
      attentionHeatmap(host(pred.audioToText), {
        title: `${title}: audio→text attention`,
        queryLabels: seconds,
        keyLabels: shown,
        queryName: 'time',
        keyName: 'word',
      }),
    );
  return out;
}

export function perClassTable(a: EmotionAnalysis, title = 'Per class (test)'): TableSection {
  return {
    kind: 'table',
    title,
    digits: 3,
    columns: [
      'class',
      'n',
      'precision',
      'recall',
      'F1',
      'attention diversity',
      'cross-modal alignment',
      'temporal consistency',
    ],
    rows: a.report.perClass.map((c, i) => [
      c.label,
      c.support,
      c.precision,
      c.recall,
      c.f1,
      num(a.perClass[i].diversity),
      num(a.perClass[i].alignment),
      num(a.perClass[i].consistency),
    ]),
  };
}

export function analysisSections(a: EmotionAnalysis): Section[] {
  const out: Section[] = [
    perClassTable(a),
    confusionHeatmap(
      a.report.confusion,
      a.report.perClass.map((c) => c.label),
      'Confusion matrix (test)',
    ),
  ];
  if (a.groundedItems) {
    out.push({
      kind: 'text',
      title: 'Attention grounding',
      text: `Share of the emotion-bearing word's text→audio attention inside its spoken interval: ${a.grounding.toFixed(3)} over ${a.groundedItems} items (uniform attention would give ${a.groundingChance.toFixed(3)}).`,
    });
  }
  return out;
}

const num = (x: number): number | null => (Number.isFinite(x) ? x : null);
