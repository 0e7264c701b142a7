/**
 * Text for a small LM: a fixed word-level vocabulary. AVQA's language is a closed grammar (the
 * templates plus colors, shapes, sound words, counts and question times), so every word gets one id,
 * no text is out of vocabulary, a number such as '12.5' stays one token, and sequences are short
 * (questions are 5-16 tokens, answers 1-2). The vocabulary comes from the grammar, not from a
 * generated corpus, so datasets made with the same settings share it. A byte-level BPE
 * (src/text/bpe.ts) also works: train it on avqaCorpus(questions).
 */
import { readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../../util/atomic.js';
import { InputError } from '../../util/errors.js';
import { COLORS, SHAPES } from '../synth/classes.js';
import type { AvqaConfig } from './config.js';
import type { AvqaQuestion } from './generate.js';
import { AVQA_TEMPLATES, AVQA_TOLERANCES, formatSeconds } from './templates.js';
import { SOUND_WORDS } from './scene.js';

export const WORD_SPECIALS = ['[PAD]', '[BOS]', '[EOS]', '[UNK]', '[SEP]'] as const;

export interface WordTokenizerJson {
  type: 'attune-word';
  version: 1;
  specials: string[];
  words: string[];
}

/** Lower-cased words, numbers ('2.5', '12') and punctuation ('?', ',') as separate tokens. */
export function tokenizeWords(text: string): string[] {
  return text.toLowerCase().match(/\d+(?:\.\d+)?|[a-z]+|[^\s\w]/g) ?? [];
}

export class WordTokenizer {
  readonly specials: string[];
  readonly words: string[];
  private readonly ids = new Map<string, number>();

  constructor(json: WordTokenizerJson) {
    if (json.type !== 'attune-word' || json.version !== 1)
      throw new InputError(`not an Attune word tokenizer (type ${String(json.type)})`, { field: 'type' });
    this.specials = [...json.specials];
    this.words = [...json.words];
    [...this.specials, ...this.words].forEach((w, i) => {
      if (this.ids.has(w)) throw new InputError(`word tokenizer lists '${w}' twice`, { field: 'words' });
      this.ids.set(w, i);
    });
  }

  get vocabSize(): number {
    return this.specials.length + this.words.length;
  }

  get padId(): number {
    return this.id('[PAD]');
  }

  get unkId(): number {
    return this.id('[UNK]');
  }

  id(token: string): number {
    const i = this.ids.get(token);
    if (i === undefined) throw new InputError(`word tokenizer has no token '${token}'`, { field: 'token', got: token });
    return i;
  }

  has(word: string): boolean {
    return this.ids.has(word);
  }

  /** Ids of a text ([BOS] ... [EOS] unless addSpecial is false); unknown words map to [UNK]. */
  encode(
    text: string,
    opts: { addSpecial?: boolean; maxLength?: number; padTo?: number } = {},
  ): { ids: Int32Array; mask: Uint8Array } {
    let ids = tokenizeWords(text).map((w) => this.ids.get(w) ?? this.unkId);
    if (opts.addSpecial ?? true) ids = [this.id('[BOS]'), ...ids, this.id('[EOS]')];
    if (opts.maxLength !== undefined && ids.length > opts.maxLength) ids = ids.slice(0, opts.maxLength);
    const len = Math.max(ids.length, opts.padTo ?? 0);
    const out = new Int32Array(len).fill(this.padId);
    out.set(ids);
    const mask = new Uint8Array(len);
    mask.fill(1, 0, ids.length);
    return { ids: out, mask };
  }

  /** A padded batch [B, L]. */
  encodeBatch(
    texts: readonly string[],
    opts: { addSpecial?: boolean; maxLength?: number; padTo?: number } = {},
  ): { ids: Int32Array; mask: Uint8Array; shape: [number, number] } {
    const { addSpecial, maxLength } = opts;
    const len = opts.padTo ?? Math.max(1, ...texts.map((t) => this.encode(t, { addSpecial, maxLength }).ids.length));
    const rows = texts.map((t) =>
      this.encode(t, { addSpecial, maxLength: Math.min(len, maxLength ?? len), padTo: len }),
    );
    const ids = new Int32Array(texts.length * len);
    const mask = new Uint8Array(texts.length * len);
    rows.forEach((r, b) => {
      ids.set(r.ids, b * len);
      mask.set(r.mask, b * len);
    });
    return { ids, mask, shape: [texts.length, len] };
  }

  /** Words joined by spaces, with no space before punctuation; specials dropped unless keepSpecial. */
  decode(ids: ArrayLike<number>, keepSpecial = false): string {
    const all = [...this.specials, ...this.words];
    let out = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id < 0 || id >= all.length)
        throw new InputError(`token id ${id} is outside the vocabulary (0..${all.length - 1})`, {
          field: 'ids',
          got: id,
        });
      if (id < this.specials.length && !keepSpecial) continue;
      const w = all[id];
      out += out === '' || /^[^\s\w]$/.test(w) ? w : ` ${w}`;
    }
    return out;
  }

  toJSON(): WordTokenizerJson {
    return { type: 'attune-word', version: 1, specials: [...this.specials], words: [...this.words] };
  }

  save(path: string): void {
    writeJsonAtomic(path, this.toJSON());
  }

  static load(path: string): WordTokenizer {
    try {
      return new WordTokenizer(JSON.parse(readFileSync(path, 'utf8')) as WordTokenizerJson);
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(`cannot read word tokenizer ${path}: ${(err as Error).message}`, { file: path });
    }
  }
}

/** Every answer a question can have (for a classification head over answers). */
export function avqaAnswers(cfg: Pick<AvqaConfig, 'sounding' | 'distractors'>): string[] {
  const objects = cfg.sounding[1] + cfg.distractors[1];
  const colors = COLORS.map((c) => c.name);
  const numbers = Array.from({ length: Math.max(AVQA_TOLERANCES.maxCount, objects) + 1 }, (_, i) => String(i));
  const names = [...colors.flatMap((c) => SHAPES.map((s) => `${c} ${s}`)), ...SHAPES.map((s) => `gray ${s}`)];
  return [
    ...new Set([
      'yes',
      'no',
      ...numbers,
      ...SOUND_WORDS,
      ...colors,
      'gray',
      ...SHAPES,
      ...names,
      'early',
      'late',
      'in sync',
    ]),
  ];
}

/** The grammar's words: templates, parameter values, answers and every question time up to maxDuration. */
export function avqaWords(cfg: Pick<AvqaConfig, 'sounding' | 'distractors' | 'maxDuration'>): string[] {
  const words = new Set<string>();
  const add = (text: string) => tokenizeWords(text).forEach((w) => words.add(w));
  for (const t of Object.values(AVQA_TEMPLATES)) add(t.text.replace(/\{\w+\}/g, ' '));
  for (const a of avqaAnswers(cfg)) add(a);
  for (let t = AVQA_TOLERANCES.timeStep; t <= cfg.maxDuration + 1e-9; t += AVQA_TOLERANCES.timeStep)
    add(formatSeconds(t));
  return [...words].sort();
}

export function avqaTokenizer(cfg: Pick<AvqaConfig, 'sounding' | 'distractors' | 'maxDuration'>): WordTokenizer {
  return new WordTokenizer({ type: 'attune-word', version: 1, specials: [...WORD_SPECIALS], words: avqaWords(cfg) });
}

/** Every question and answer text, e.g. for BpeTokenizer.train(avqaCorpus(qs), { vocabSize }). */
export function avqaCorpus(questions: readonly AvqaQuestion[]): string[] {
  return questions.flatMap((q) => [q.question, q.answer]);
}
