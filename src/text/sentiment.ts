/**
 * Lexicon sentiment features: a small hand-written valence lexicon (-3 very negative .. +3 very
 * positive), with negation ("not good" flips the next three words' valence, halved) and intensifiers
 * ("very good" x1.5, "slightly good" x0.5). Cheap, deterministic features to give text models (and
 * the emotion tasks) a prior; not a replacement for a learned model.
 */
const LEXICON_SOURCE: Record<string, string> = {
  '3': 'amazing awesome brilliant delighted ecstatic excellent fantastic outstanding perfect superb thrilled wonderful love loved loving',
  '2': 'beautiful cheerful enjoy enjoyed excited fun glad good great happy joy joyful laugh laughing lovely nice pleased pleasant proud smile smiling sweet win winning calm relaxed',
  '1': 'agree better clean comfortable cool easy fine hope interesting kind like liked okay ok safe thanks thank warm well yes fair helpful friendly',
  '-1': 'bored boring confused difficult doubt dull hard late lost miss missed odd problem slow strange tired unsure weird worry worried',
  '-2': 'afraid angry annoyed bad cry crying disappointed fail failed fear guilty hate hurt lonely mad nervous pain sad scared sick sorry stupid ugly upset wrong',
  '-3': 'awful disgusting furious horrible miserable terrible terrified tragic worst hated devastated dreadful',
};

export const LEXICON: ReadonlyMap<string, number> = new Map(
  Object.entries(LEXICON_SOURCE).flatMap(([v, words]) =>
    words.split(' ').map((w) => [w, Number(v)] as [string, number]),
  ),
);

const NEGATIONS = new Set(['not', 'no', 'never', "n't", 'nobody', 'nothing', 'neither', 'nor', 'without', 'hardly']);
const INTENSIFIERS: ReadonlyMap<string, number> = new Map([
  ['very', 1.5],
  ['really', 1.5],
  ['so', 1.3],
  ['extremely', 2],
  ['totally', 1.5],
  ['absolutely', 1.8],
  ['quite', 1.2],
  ['slightly', 0.5],
  ['somewhat', 0.6],
  ['barely', 0.4],
  ['little', 0.6],
]);
const NEGATION_SCOPE = 3;

/** Names of the entries of sentimentFeatures(), in order. */
export const SENTIMENT_FEATURES = [
  'valence_mean', // mean valence over sentiment words, in [-3, 3] (0 when none)
  'valence_sum_norm', // sum of valences / sqrt(words), squashed by x / (1 + |x|)
  'positive_frac', // fraction of words with valence > 0
  'negative_frac', // fraction of words with valence < 0
  'negation_frac', // fraction of words that are negations
  'exclamations', // '!' count, squashed
  'questions', // '?' count, squashed
  'uppercase_frac', // fraction of letters upper-case (shouting)
] as const;

/** Valence of each word after negation and intensifiers (0 for words outside the lexicon). */
export function wordValences(text: string): { words: string[]; valence: number[] } {
  const words = (
    text
      .toLowerCase()
      .replace(/n't\b/g, " n't")
      .match(/[\p{L}']+/gu) ?? []
  ).map((w) => w.replace(/^'+|'+$/g, '') || w);
  const valence: number[] = [];
  let negate = 0;
  let boost = 1;
  for (const w of words) {
    if (NEGATIONS.has(w)) {
      negate = NEGATION_SCOPE;
      valence.push(0);
      continue;
    }
    const intens = INTENSIFIERS.get(w);
    if (intens !== undefined) {
      boost *= intens;
      valence.push(0);
      continue;
    }
    let v = LEXICON.get(w) ?? 0;
    if (v !== 0) {
      v *= boost;
      if (negate > 0) v *= -0.5;
      boost = 1;
    }
    if (negate > 0) negate--;
    valence.push(v);
  }
  return { words, valence };
}

/** A fixed-length feature vector (see SENTIMENT_FEATURES). */
export function sentimentFeatures(text: string): Float32Array {
  const { words, valence } = wordValences(text);
  const n = Math.max(1, words.length);
  const nonzero = valence.filter((v) => v !== 0);
  const sum = nonzero.reduce((a, b) => a + b, 0);
  const squash = (x: number) => x / (1 + Math.abs(x));
  const letters = text.match(/\p{L}/gu) ?? [];
  const upper = letters.filter((c) => c !== c.toLowerCase()).length;
  return Float32Array.from([
    nonzero.length ? sum / nonzero.length : 0,
    squash(sum / Math.sqrt(n)),
    valence.filter((v) => v > 0).length / n,
    valence.filter((v) => v < 0).length / n,
    words.filter((w) => NEGATIONS.has(w)).length / n,
    squash((text.match(/!/g) ?? []).length),
    squash((text.match(/\?/g) ?? []).length),
    letters.length ? upper / letters.length : 0,
  ]);
}
