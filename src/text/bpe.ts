import { readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../util/atomic.js';
import { ConfigError, InputError } from '../util/errors.js';
import { PAIR_SHIFT, learnMerges, mergePair } from './bpe_train.js';

/**
 * Byte-level BPE tokenizer, trained on the corpus at hand and saved as JSON next to the model.
 * Ids: the special tokens first ([PAD] = 0, ...), then the 256 bytes, then one id per learned merge in
 * merge order. Any text encodes (no unknown token).
 *
 * Pre-tokenization splits text into words that keep their leading space (" dog", "'s", "42", "!!"),
 * so merges never cross word boundaries. With `lowercase` (the default) text is lowercased first, so
 * decode(encode(x)) === x.toLowerCase(); without it, decode(encode(x)) === x exactly.
 */
export const DEFAULT_SPECIALS = ['[PAD]', '[BOS]', '[EOS]', '[MASK]'] as const;

export interface TokenizerJson {
  type: 'attune-byte-bpe';
  version: 1;
  lowercase: boolean;
  specials: string[];
  merges: [number, number][];
}

export interface TrainOptions {
  vocabSize: number; // total ids including specials and the 256 bytes
  lowercase?: boolean;
  specials?: string[];
  /** Pairs seen fewer times than this are not merged (default 2). */
  minFrequency?: number;
}

export interface EncodeOptions {
  addSpecial?: boolean; // wrap in [BOS] ... [EOS] (default true)
  maxLength?: number; // truncate to this many ids (keeping [EOS] when addSpecial)
  padTo?: number; // pad with [PAD] up to this length
}

export interface Encoded {
  ids: Int32Array;
  mask: Uint8Array; // 1 = real token, 0 = padding
}

const WORD_RE = /'(?:s|t|re|ve|m|ll|d)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const utf8 = new TextEncoder();
const utf8Decode = new TextDecoder();

export class BpeTokenizer {
  readonly specials: string[];
  readonly lowercase: boolean;
  readonly merges: [number, number][];
  private readonly rank = new Map<string, number>(); // "a,b" -> merge index
  private readonly bytesOf: Uint8Array[]; // id -> bytes ([] for specials)
  private readonly cache = new Map<string, number[]>();

  constructor(json: TokenizerJson) {
    if (json.type !== 'attune-byte-bpe' || json.version !== 1) {
      throw new InputError(
        `not an Attune byte-BPE tokenizer (type ${String(json.type)}, version ${String(json.version)})`,
        { field: 'type' },
      );
    }
    this.specials = [...json.specials];
    this.lowercase = json.lowercase;
    this.merges = json.merges.map(([a, b]) => [a, b]);
    const s = this.specials.length;
    this.bytesOf = [
      ...this.specials.map(() => new Uint8Array(0)),
      ...Array.from({ length: 256 }, (_, b) => Uint8Array.of(b)),
    ];
    this.merges.forEach(([a, b], i) => {
      if (!(a < s + 256 + i && b < s + 256 + i && a >= s && b >= s))
        throw new InputError(`merge ${i} refers to unknown ids ${a}, ${b}`, { field: `merges.${i}` });
      this.rank.set(`${a},${b}`, i);
      this.bytesOf.push(concat(this.bytesOf[a], this.bytesOf[b]));
    });
  }

  get vocabSize(): number {
    return this.bytesOf.length;
  }

  /** Id of a special token such as '[PAD]'. */
  specialId(name: string): number {
    const i = this.specials.indexOf(name);
    if (i < 0)
      throw new InputError(`tokenizer has no special token ${name} (has ${this.specials.join(', ')})`, {
        field: 'specials',
      });
    return i;
  }

  get padId(): number {
    return this.specials.indexOf('[PAD]');
  }

  /** Learns merges from a corpus of texts. */
  static train(texts: Iterable<string>, opts: TrainOptions): BpeTokenizer {
    const specials = opts.specials ?? [...DEFAULT_SPECIALS];
    const base = specials.length + 256;
    if (opts.vocabSize < base)
      throw new ConfigError(`vocabSize ${opts.vocabSize} is below ${base} (specials + 256 bytes)`, {
        field: 'vocabSize',
      });
    if (opts.vocabSize > PAIR_SHIFT)
      throw new ConfigError(`vocabSize ${opts.vocabSize} is above ${PAIR_SHIFT}`, { field: 'vocabSize' });
    const lowercase = opts.lowercase ?? true;
    const counts = new Map<string, number>();
    for (const text of texts)
      for (const w of splitWords(lowercase ? text.toLowerCase() : text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const words = [...counts].map(([w, n]) => ({ ids: [...utf8.encode(w)].map((b) => b + specials.length), n }));
    const merges = learnMerges(words, base, opts.vocabSize - base, opts.minFrequency ?? 2);
    return new BpeTokenizer({ type: 'attune-byte-bpe', version: 1, lowercase, specials, merges });
  }

  /** Token ids of one text. */
  encode(text: string, opts: EncodeOptions = {}): Encoded {
    const addSpecial = opts.addSpecial ?? true;
    let ids: number[] = [];
    for (const w of splitWords(this.lowercase ? text.toLowerCase() : text)) ids.push(...this.encodeWord(w));
    if (addSpecial) ids = [this.specialId('[BOS]'), ...ids, this.specialId('[EOS]')];
    if (opts.maxLength !== undefined && ids.length > opts.maxLength) {
      ids =
        addSpecial && opts.maxLength >= 2
          ? [...ids.slice(0, opts.maxLength - 1), ids[ids.length - 1]]
          : ids.slice(0, opts.maxLength);
    }
    const len = Math.max(ids.length, opts.padTo ?? 0);
    const out = new Int32Array(len).fill(this.padId < 0 ? 0 : this.padId);
    out.set(ids);
    const mask = new Uint8Array(len);
    mask.fill(1, 0, ids.length);
    return { ids: out, mask };
  }

  /** A padded batch: ids and mask [B, L], L = maxLength or the longest text. */
  encodeBatch(
    texts: readonly string[],
    opts: EncodeOptions = {},
  ): { ids: Int32Array; mask: Uint8Array; shape: [number, number] } {
    const enc = texts.map((t) => this.encode(t, { ...opts, padTo: undefined }));
    const len = opts.padTo ?? opts.maxLength ?? Math.max(1, ...enc.map((e) => e.ids.length));
    const ids = new Int32Array(texts.length * len).fill(this.padId < 0 ? 0 : this.padId);
    const mask = new Uint8Array(texts.length * len);
    enc.forEach((e, b) => {
      const n = Math.min(len, e.ids.length);
      ids.set(e.ids.subarray(0, n), b * len);
      mask.set(e.mask.subarray(0, n), b * len);
    });
    return { ids, mask, shape: [texts.length, len] };
  }

  /** Text of a sequence of ids (special tokens dropped unless keepSpecial). */
  decode(ids: ArrayLike<number>, keepSpecial = false): string {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id < 0 || id >= this.bytesOf.length)
        throw new InputError(`token id ${id} is outside the vocabulary (0..${this.bytesOf.length - 1})`, {
          field: 'ids',
          got: id,
        });
      if (id < this.specials.length) {
        if (keepSpecial) parts.push(utf8.encode(this.specials[id]));
      } else parts.push(this.bytesOf[id]);
    }
    return utf8Decode.decode(concat(...parts));
  }

  /** Readable form of a token (for inspection). */
  tokenText(id: number): string {
    return id < this.specials.length ? this.specials[id] : utf8Decode.decode(this.bytesOf[id]);
  }

  private encodeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    let ids = [...utf8.encode(word)].map((b) => b + this.specials.length);
    while (ids.length > 1) {
      let bestRank = Infinity;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.rank.get(`${ids[i]},${ids[i + 1]}`);
        if (r !== undefined && r < bestRank) bestRank = r;
      }
      if (bestRank === Infinity) break;
      const [a, b] = this.merges[bestRank];
      ids = mergePair(ids, a, b, this.specials.length + 256 + bestRank);
    }
    if (this.cache.size < 50000) this.cache.set(word, ids);
    return ids;
  }

  toJSON(): TokenizerJson {
    return {
      type: 'attune-byte-bpe',
      version: 1,
      lowercase: this.lowercase,
      specials: [...this.specials],
      merges: this.merges.map(([a, b]) => [a, b]),
    };
  }

  save(path: string): void {
    writeJsonAtomic(path, this.toJSON());
  }

  static load(path: string): BpeTokenizer {
    let json: TokenizerJson;
    try {
      json = JSON.parse(readFileSync(path, 'utf8')) as TokenizerJson;
    } catch (err) {
      throw new InputError(`cannot read tokenizer ${path}: ${(err as Error).message}`, { file: path });
    }
    return new BpeTokenizer(json);
  }
}

export function splitWords(text: string): string[] {
  return text.match(WORD_RE) ?? [];
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
