/**
 * Emotion manifests: JSONL, one utterance per line, for EmoSpeech and for real corpora (docs/emospeech.md
 * shows IEMOCAP, MELD, CREMA-D, RAVDESS and CMU-MOSI layouts). Paths are relative to the manifest's folder;
 * blank lines and '#' lines are skipped; unknown top-level fields are errors (free-form data goes under
 * metadata), as in src/data/manifest.ts.
 *
 *   {"id":"Ses01F_impro01_F000","audio":"wav/Ses01F_impro01.wav","start":6.2,"end":8.2,"text":"Excuse me.",
 *    "label":"neutral","speaker":"Ses01F","split":"train","words":[{"word":"Excuse","start":0.1,"end":0.5}],
 *    "features":{"text":"feats/x.bert.npy","audio":"feats/x.safetensors#wav2vec2"},"metadata":{"gender":"F"}}
 *
 * Word times are seconds from the start of the utterance (from `start` for a segment of a longer file).
 * A line is bad (reported as file:line, field and reason, then skipped) when it is not JSON, breaks the
 * schema, has an empty transcript, a label outside the class set, or names a file that does not exist.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { forEachJsonLine, readManifestText, type ManifestLineError } from '../manifest.js';
import { EMOTIONS } from './spec.js';

const WordSchema = z
  .object({ word: z.string().min(1), start: z.number().finite().nonnegative(), end: z.number().finite().nonnegative() })
  .strict()
  .refine((w) => w.end >= w.start, { message: 'word end must be >= start', path: ['end'] });

export const EmotionItemSchema = z
  .object({
    id: z.string().min(1).optional(),
    audio: z.string().min(1).optional(),
    start: z.number().finite().nonnegative().optional(),
    end: z.number().finite().positive().optional(),
    text: z.string(),
    label: z.union([z.string().min(1), z.number().finite()]),
    speaker: z.string().min(1).optional(),
    split: z.enum(['train', 'val', 'test']).optional(),
    words: z.array(WordSchema).optional(),
    features: z
      .object({ text: z.string().min(1).optional(), audio: z.string().min(1).optional() })
      .strict()
      .optional(),
    metadata: z.record(z.unknown()).optional(),
  })
  .strict()
  .refine((v) => v.audio !== undefined || v.features?.audio !== undefined, {
    message: 'an item needs audio or features.audio',
    path: ['audio'],
  })
  .refine((v) => v.start === undefined || v.end === undefined || v.end > v.start, {
    message: 'end must be greater than start',
    path: ['end'],
  });

export type EmotionItem = z.infer<typeof EmotionItemSchema> & { id: string; line: number; file: string };

export interface EmotionLabels {
  /** Class names (default the 7 EmoSpeech classes), or 'regression' for numeric labels (e.g. CMU-MOSI, -3..3). */
  classes?: readonly string[] | 'regression';
  /** Corpus codes to class names, applied before the check (e.g. { ANG: 'angry' } for CREMA-D). */
  map?: Record<string, string>;
}

/** Label settings for the corpora docs/emospeech.md shows (codes outside a map are reported and skipped). */
export const CORPUS_LABELS = {
  iemocap: {
    map: {
      neu: 'neutral',
      hap: 'happy',
      exc: 'happy',
      sad: 'sad',
      ang: 'angry',
      fea: 'fearful',
      dis: 'disgusted',
      sur: 'surprised',
    },
  },
  meld: {
    map: { joy: 'happy', sadness: 'sad', anger: 'angry', fear: 'fearful', disgust: 'disgusted', surprise: 'surprised' },
  },
  cremad: { map: { ANG: 'angry', DIS: 'disgusted', FEA: 'fearful', HAP: 'happy', NEU: 'neutral', SAD: 'sad' } },
  ravdess: {
    map: {
      '01': 'neutral',
      '03': 'happy',
      '04': 'sad',
      '05': 'angry',
      '06': 'fearful',
      '07': 'disgusted',
      '08': 'surprised',
    },
  },
  mosi: { classes: 'regression' },
} as const satisfies Record<string, EmotionLabels>;

export interface ParsedEmotionManifest {
  file: string;
  items: EmotionItem[];
  errors: ManifestLineError[];
}

export function parseEmotionManifest(
  text: string,
  file = '<manifest>',
  labels: EmotionLabels = {},
  baseDir = dirname(resolve(file)),
): ParsedEmotionManifest {
  const classes = labels.classes ?? EMOTIONS;
  const items: EmotionItem[] = [];
  const errors: ManifestLineError[] = [];
  const seen = new Map<string, number>();
  forEachJsonLine(text, file, errors, (json, line, fail) => {
    const parsed = EmotionItemSchema.safeParse(json);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        if (issue.code !== 'unrecognized_keys') fail(issue.path.join('.'), issue.message);
        else
          for (const key of issue.keys)
            fail(
              [...issue.path, key].join('.'),
              'unknown field (expected id, audio, start, end, text, label, speaker, split, words, features, metadata)',
            );
      }
      return;
    }
    const item: EmotionItem = { ...parsed.data, id: parsed.data.id ?? `line${line}`, line, file };
    if (item.text.trim() === '') return fail('text', 'empty transcript');
    const label = typeof item.label === 'string' ? (labels.map?.[item.label] ?? item.label) : item.label;
    if (classes === 'regression') {
      if (typeof label !== 'number') return fail('label', `expected a number (regression labels), got "${label}"`);
    } else if (typeof label !== 'string' || !classes.includes(label)) {
      return fail('label', `unknown label ${JSON.stringify(item.label)} (expected one of ${classes.join(', ')})`);
    }
    item.label = label;
    if (item.audio) item.audio = resolve(baseDir, item.audio);
    if (item.features?.text) item.features.text = resolve(baseDir, item.features.text);
    if (item.features?.audio) item.features.audio = resolve(baseDir, item.features.audio);
    const first = seen.get(item.id);
    if (first !== undefined) return fail('id', `duplicate id '${item.id}' (first used on line ${first})`);
    seen.set(item.id, line);
    items.push(item);
  });
  return { file, items, errors };
}

/** The file part of a feature reference ('x.safetensors#name' -> 'x.safetensors'). */
export function featureFile(ref: string): string {
  const hash = ref.lastIndexOf('#');
  return hash > 0 && ref.slice(0, hash).endsWith('.safetensors') ? ref.slice(0, hash) : ref;
}

/** Reads a manifest and checks that every referenced file exists; bad lines go to errors, not items. */
export function readEmotionManifest(path: string, labels: EmotionLabels = {}): ParsedEmotionManifest {
  const text = readManifestText(path, 'emotion manifest');
  const parsed = parseEmotionManifest(text, path, labels);
  const missing = new Set<number>();
  for (const item of parsed.items) {
    const refs: [string, string | undefined][] = [
      ['audio', item.audio],
      ['features.text', item.features?.text],
      ['features.audio', item.features?.audio],
    ];
    for (const [field, p] of refs) {
      if (p && !existsSync(featureFile(p))) {
        parsed.errors.push({ file: path, line: item.line, field, message: `file not found: ${featureFile(p)}` });
        missing.add(item.line);
      }
    }
  }
  parsed.items = parsed.items.filter((it) => !missing.has(it.line));
  parsed.errors.sort((a, b) => a.line - b.line);
  return parsed;
}
