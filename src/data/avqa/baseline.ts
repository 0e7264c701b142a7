/**
 * Question-only baselines: predictors that never see the scene, trained on the train split and
 * scored on the test split. If the text of a question (beyond its template) told its answer, the
 * text-aware predictors would beat the template prior; the generator is balanced so they do not.
 *
 * - family: the most common train answer of the family.
 * - template (the prior): the most common train answer of the template; for templates whose answer is
 *   one of the options the question names, the option at the most common train position.
 * - text: the most common train answer of the exact question text (falls back to the prior).
 * - bayes: multinomial naive Bayes over the question's words and word pairs, per template (Laplace
 *   smoothing), predicting the answer (or the option's position, with each option's words tagged by
 *   position); it generalizes over texts it has not seen (e.g. 'square' -> a color, 'gray' named first
 *   -> the first option).
 * - chance: 1 / (number of options) for option templates, else 1 / (distinct answers of the template).
 */
import { AVQA_FAMILIES, AvqaFamily } from './config.js';
import type { AvqaQuestion } from './generate.js';
import { tokenizeWords } from './vocab.js';

/** Test-split accuracies (0..1) of one family, or of all questions. */
export interface BaselineRow {
  family: AvqaFamily | 'all';
  train: number;
  test: number;
  chance: number;
  family_majority: number;
  template_majority: number;
  text_majority: number;
  bayes: number;
  /** Best question-only accuracy (text or bayes) minus the template prior: what the wording leaks. */
  leak: number;
}

const argmax = (m: Map<string, number>): string | undefined => {
  let best: string | undefined;
  let n = -1;
  for (const [k, v] of [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
    if (v > n) {
      best = k;
      n = v;
    }
  return best;
};

function tally<T>(items: T[], key: (x: T) => string, value: (x: T) => string): Map<string, Map<string, number>> {
  const m = new Map<string, Map<string, number>>();
  for (const x of items) {
    const k = key(x);
    const inner = m.get(k) ?? new Map<string, number>();
    inner.set(value(x), (inner.get(value(x)) ?? 0) + 1);
    m.set(k, inner);
  }
  return m;
}

const position = (q: AvqaQuestion): string => String(q.choices!.indexOf(q.answer));

/** Naive Bayes over word unigrams and bigrams of the question, one model per template. */
class Bayes {
  private readonly models = new Map<
    string,
    {
      prior: Map<string, number>;
      words: Map<string, Map<string, number>>;
      totals: Map<string, number>;
      vocab: Set<string>;
    }
  >();

  constructor(train: AvqaQuestion[]) {
    for (const q of train) {
      const m = this.models.get(q.template) ?? {
        prior: new Map(),
        words: new Map(),
        totals: new Map(),
        vocab: new Set<string>(),
      };
      const y = label(q);
      m.prior.set(y, (m.prior.get(y) ?? 0) + 1);
      const w = m.words.get(y) ?? new Map<string, number>();
      for (const f of features(q)) {
        w.set(f, (w.get(f) ?? 0) + 1);
        m.totals.set(y, (m.totals.get(y) ?? 0) + 1);
        m.vocab.add(f);
      }
      m.words.set(y, w);
      this.models.set(q.template, m);
    }
  }

  predict(q: AvqaQuestion): string | undefined {
    const m = this.models.get(q.template);
    if (!m) return undefined;
    const fs = features(q);
    let best: string | undefined;
    let score = -Infinity;
    const n = [...m.prior.values()].reduce((a, b) => a + b, 0);
    for (const [a, c] of [...m.prior].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      let s = Math.log(c / n);
      const w = m.words.get(a)!;
      const tot = m.totals.get(a) ?? 0;
      for (const f of fs) s += Math.log(((w.get(f) ?? 0) + 1) / (tot + m.vocab.size + 1));
      if (s > score) {
        score = s;
        best = a;
      }
    }
    return best === undefined || !q.choices ? best : q.choices[Number(best)];
  }
}

/** What a predictor learns: the answer, or for option templates the answer's position among the options. */
const label = (q: AvqaQuestion): string => (q.choices ? position(q) : q.answer);

/** Words and word pairs of the question, plus each option's words tagged with its position ('0:gray'). */
function features(q: AvqaQuestion): string[] {
  const w = tokenizeWords(q.question);
  const opts = (q.choices ?? []).flatMap((c, i) => tokenizeWords(c).map((x) => `${i}:${x}`));
  return [...w, ...w.slice(1).map((x, i) => `${w[i]}_${x}`), ...opts];
}

/** Per-family question-only accuracies on the test split (and 'all'). */
export function questionOnlyBaselines(questions: AvqaQuestion[], testSplit: 'test' | 'val' = 'test'): BaselineRow[] {
  const train = questions.filter((q) => q.split === 'train');
  const test = questions.filter((q) => q.split === testSplit);
  const famMaj = new Map(
    [
      ...tally(
        train,
        (q) => q.family,
        (q) => q.answer,
      ),
    ].map(([k, m]) => [k, argmax(m)]),
  );
  const tplMaj = new Map(
    [
      ...tally(
        train.filter((q) => !q.choices),
        (q) => q.template,
        (q) => q.answer,
      ),
    ].map(([k, m]) => [k, argmax(m)]),
  );
  const tplPos = new Map(
    [
      ...tally(
        train.filter((q) => q.choices),
        (q) => q.template,
        position,
      ),
    ].map(([k, m]) => [k, argmax(m)]),
  );
  const textMaj = new Map(
    [
      ...tally(
        train,
        (q) => q.question,
        (q) => q.answer,
      ),
    ].map(([k, m]) => [k, argmax(m)]),
  );
  const support = new Map(
    [
      ...tally(
        questions,
        (q) => q.template,
        (q) => q.answer,
      ),
    ].map(([k, m]) => [k, m.size]),
  );
  const bayes = new Bayes(train);
  const prior = (q: AvqaQuestion): string | undefined =>
    q.choices ? q.choices[Number(tplPos.get(q.template) ?? 0)] : tplMaj.get(q.template);
  const hit = (q: AvqaQuestion, p: string | undefined) => (p === q.answer ? 1 : 0);
  const row = (family: AvqaFamily | 'all', qs: AvqaQuestion[], nTrain: number): BaselineRow => {
    const mean = (f: (q: AvqaQuestion) => number) => (qs.length ? qs.reduce((a, q) => a + f(q), 0) / qs.length : NaN);
    const template = mean((q) => hit(q, prior(q)));
    const text = mean((q) => hit(q, textMaj.get(q.question) ?? prior(q)));
    const nb = mean((q) => hit(q, bayes.predict(q) ?? prior(q)));
    return {
      family,
      train: nTrain,
      test: qs.length,
      chance: mean((q) => 1 / (q.choices ? q.choices.length : (support.get(q.template) ?? 1))),
      family_majority: mean((q) => hit(q, famMaj.get(q.family))),
      template_majority: template,
      text_majority: text,
      bayes: nb,
      leak: Math.max(text, nb) - template,
    };
  };
  const rows = AVQA_FAMILIES.filter((f) => questions.some((q) => q.family === f)).map((f) =>
    row(
      f,
      test.filter((q) => q.family === f),
      train.filter((q) => q.family === f).length,
    ),
  );
  rows.push(row('all', test, train.length));
  return rows;
}

/** The rows as a Markdown table (percentages). */
export function formatBaselines(rows: BaselineRow[]): string {
  const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) : '-');
  const head =
    '| family | train | test | chance | family majority | template prior | exact text | naive Bayes | leak |\n|---|---|---|---|---|---|---|---|---|';
  return [
    head,
    ...rows.map(
      (r) =>
        `| ${r.family} | ${r.train} | ${r.test} | ${pct(r.chance)} | ${pct(r.family_majority)} | ${pct(r.template_majority)} | ${pct(r.text_majority)} | ${pct(r.bayes)} | ${r.leak >= 0 ? '+' : ''}${pct(r.leak)} |`,
    ),
  ].join('\n');
}
