/**
 * Scoring FAVOR on AVQA: greedy answers for a split's questions through the inference predictor, exact-match
 * accuracy overall and per question family, beside the template prior (the most common train answer of the
 * question's template: what the question type alone gives), and the language model's attention per window.
 */
import type { AvqaQuestion, WordTokenizer } from '../../data/avqa/index.js';
import { AVQA_FAMILIES, AVQA_TEMPLATES } from '../../data/avqa/index.js';
import { type HostArray, hostArray, toFloat32 } from '../../io/array.js';
import type { Section } from '../../report/spec.js';
import type { FavorConfig } from './config.js';
import { avBatch, type AvqaExamples, promptIds } from './data.js';
import { type DecodeOptions, greedyDecode } from './decode.js';
import { avTokenWindows } from './model.js';

export type RunGraph = (feeds: Record<string, HostArray>) => Promise<Record<string, HostArray>>;

export interface Answered {
  answer: string;
  /** Attention mass of the first answer token on each window's AV tokens (mean over heads, last LM block). */
  windows: number[];
  /** The same on each count token (model.countTokens; empty without). */
  counts: number[];
}

/** text [B, Lt] int64 from prefixes (right-padded). */
export function prefixFeed(prefixes: number[][], textLen: number, pad: number): HostArray {
  const data = new BigInt64Array(prefixes.length * textLen).fill(BigInt(pad));
  prefixes.forEach((p, i) => p.slice(0, textLen).forEach((id, t) => (data[i * textLen + t] = BigInt(id))));
  return hostArray('int64', [prefixes.length, textLen], data);
}

/** Answers are 1-2 words and [EOS]: at most 3 tokens, no specials but the closing [EOS]. */
export function answerDecoding(tok: WordTokenizer, beam = 1): DecodeOptions {
  return { eos: tok.id('[EOS]'), maxNew: 3, beam, banned: ['[PAD]', '[BOS]', '[UNK]', '[SEP]'].map((w) => tok.id(w)) };
}

/**
 * Greedy answers for (clip, question) pairs run as one batch of exactly `questions.length` rows; `av` holds the
 * clips' AV feeds (avBatch, or cached encoder outputs: encoder_cache.ts).
 */
export async function answerBatch(
  run: RunGraph,
  tok: WordTokenizer,
  av: Record<string, HostArray>,
  questions: string[],
  frames: number,
  textLen: number,
  model: FavorConfig,
): Promise<Answered[]> {
  const prompts = questions.map((q) => promptIds(tok, q));
  const nWindows = Math.ceil(frames / model.window);
  const windowOf = avTokenWindows(nWindows, model);
  let firstAttention: Float32Array | null = null;
  let m = 0;
  const next = async (prefixes: number[][]): Promise<Float32Array[]> => {
    const out = await run({ ...av, text: prefixFeed(prefixes, textLen, tok.padId) });
    const [, lt, v] = out.logits.shape;
    const logits = toFloat32(out.logits);
    if (!firstAttention && out.av_attention) {
      firstAttention = toFloat32(out.av_attention);
      m = out.av_attention.shape[2];
    }
    return prefixes.map((p, i) =>
      logits.slice((i * lt + Math.min(p.length, lt) - 1) * v, (i * lt + Math.min(p.length, lt)) * v),
    );
  };
  const ids = await greedyDecode(next, prompts, answerDecoding(tok));
  return ids.map((a, i) => {
    const windows = new Array<number>(nWindows).fill(0);
    const counts: number[] = [];
    const att = firstAttention as Float32Array | null;
    if (att) {
      const row = (i * textLen + prompts[i].length - 1) * m;
      for (let k = 0; k < m; k++)
        if (windowOf[k] >= 0) windows[windowOf[k]] += att[row + k];
        else counts.push(att[row + k]); // -1: a count token
    }
    return { answer: tok.decode(a), windows, counts };
  });
}

/**
 * Answers for many questions in fixed-size batches (the last padded by repetition). `feeds` gives a batch's AV
 * inputs (default: the clips' frames and audio).
 */
export async function answerAll(
  run: RunGraph,
  ex: AvqaExamples,
  questions: AvqaQuestion[],
  batchSize: number,
  model: FavorConfig,
  feeds: (part: AvqaQuestion[]) => Record<string, HostArray> = (part) =>
    avBatch(
      part.map((q) => ex.clip(q)),
      ex.frames,
      ex.frameSize,
    ),
): Promise<Answered[]> {
  const out: Answered[] = [];
  for (let s = 0; s < questions.length; s += batchSize) {
    const part = questions.slice(s, s + batchSize);
    const real = part.length;
    while (part.length < batchSize) part.push(part[part.length - 1]);
    const r = await answerBatch(
      run,
      ex.tokenizer,
      feeds(part),
      part.map((q) => q.question),
      ex.frames,
      ex.textLen,
      model,
    );
    out.push(...r.slice(0, real));
  }
  return out;
}

/** Most common train answer per template. */
export function templatePriors(train: AvqaQuestion[]): Map<string, string> {
  const counts = new Map<string, Map<string, number>>();
  for (const q of train) {
    const c = counts.get(q.template) ?? new Map<string, number>();
    c.set(q.answer, (c.get(q.answer) ?? 0) + 1);
    counts.set(q.template, c);
  }
  return new Map([...counts].map(([t, c]) => [t, [...c].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0]]));
}

/** Whether `answer` is a whole number within one of `truth` (a number answer); a word is never near. */
export function nearCount(answer: string | undefined, truth: string): boolean {
  return answer !== undefined && /^\d+$/.test(answer) && Math.abs(Number(answer) - Number(truth)) <= 1;
}

/**
 * acc, acc_<family> and prior_<family> (template prior) over answered questions, and per template (AVQA_TEMPLATES'
 * order) acc_<template>, prior_<template> and n_<template> (its question count): a family's figure mixes templates of
 * very different difficulty and prior (a yes/no template's prior is near 50 %, a colour's near 11 %). For number
 * answers also near_<template> and prior_near_<template> (answer within one of the truth), and near_count and
 * prior_near_count over the count family: exact counts up to 12 miss by one as often as by ten, and only this tells
 * the two apart.
 */
export function scoreAnswers(
  questions: AvqaQuestion[],
  answers: string[],
  priors: Map<string, string>,
): Record<string, number> {
  const metrics: Record<string, number> = {};
  const rate = (qs: number[], ok: (i: number) => boolean) => (qs.length ? qs.filter(ok).length / qs.length : NaN);
  const all = questions.map((_, i) => i);
  metrics.acc = rate(all, (i) => answers[i] === questions[i].answer);
  metrics.prior = rate(all, (i) => priors.get(questions[i].template) === questions[i].answer);
  for (const f of AVQA_FAMILIES) {
    const idx = all.filter((i) => questions[i].family === f);
    if (!idx.length) continue;
    metrics[`acc_${f}`] = rate(idx, (i) => answers[i] === questions[i].answer);
    metrics[`prior_${f}`] = rate(idx, (i) => priors.get(questions[i].template) === questions[i].answer);
  }
  for (const t of Object.keys(AVQA_TEMPLATES)) {
    const idx = all.filter((i) => questions[i].template === t);
    if (!idx.length) continue;
    metrics[`acc_${t}`] = rate(idx, (i) => answers[i] === questions[i].answer);
    metrics[`prior_${t}`] = rate(idx, (i) => priors.get(t) === questions[i].answer);
    metrics[`n_${t}`] = idx.length;
    if (AVQA_TEMPLATES[t].answers !== 'number') continue;
    metrics[`near_${t}`] = rate(idx, (i) => nearCount(answers[i], questions[i].answer));
    metrics[`prior_near_${t}`] = rate(idx, (i) => nearCount(priors.get(t), questions[i].answer));
  }
  const counts = all.filter((i) => questions[i].family === 'count');
  if (counts.length) {
    metrics.near_count = rate(counts, (i) => nearCount(answers[i], questions[i].answer));
    metrics.prior_near_count = rate(counts, (i) => nearCount(priors.get(questions[i].template), questions[i].answer));
  }
  return metrics;
}

/** Report sections: accuracy per family beside the template prior, and a few answers with their window attention. */
export function answerSections(
  questions: AvqaQuestion[],
  answered: Answered[],
  metrics: Record<string, number>,
): Section[] {
  const rows: (string | number)[][] = AVQA_FAMILIES.filter((f) => metrics[`acc_${f}`] !== undefined).map((f) => [
    f as string,
    questions.filter((q) => q.family === f).length,
    metrics[`acc_${f}`],
    metrics[`prior_${f}`],
  ]);
  rows.push(['all', questions.length, metrics.acc, metrics.prior]);
  const templates = Object.keys(AVQA_TEMPLATES)
    .filter((t) => metrics[`n_${t}`] !== undefined)
    .map((t) => [
      t,
      metrics[`n_${t}`],
      metrics[`acc_${t}`],
      metrics[`prior_${t}`],
      metrics[`near_${t}`] ?? '',
      metrics[`prior_near_${t}`] ?? '',
    ]);
  const examples = questions
    .slice(0, 12)
    .map((q, i) => [q.question, q.answer, answered[i].answer, answered[i].windows.map((w) => w.toFixed(2)).join(' ')]);
  return [
    {
      kind: 'table',
      title: 'FAVOR on AVQA: exact-match accuracy per family (greedy) and the template prior',
      columns: ['family', 'questions', 'accuracy', 'template prior'],
      rows,
      digits: 3,
    },
    {
      kind: 'table',
      title:
        'Per template: exact-match accuracy and the template prior (most common train answer); for numbers also the ' +
        'share within one of the truth',
      columns: ['template', 'questions', 'accuracy', 'template prior', 'within one', 'prior within one'],
      rows: templates,
      digits: 3,
    },
    {
      kind: 'table',
      title: "Answers and the first answer token's attention on each window",
      columns: ['question', 'truth', 'answer', 'attention per window'],
      rows: examples,
    },
  ];
}
