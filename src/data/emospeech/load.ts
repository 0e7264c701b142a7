/**
 * Loads emotion-manifest items for a model: raw inputs (audio samples + transcript, for the built-in
 * encoders) or precomputed feature sequences (e.g. BERT and wav2vec2 outputs saved per item as .npy or
 * .safetensors by a Python pipeline, MMSA-style) in their place. Items that cannot be used (a file that
 * fails to decode, silent audio, a feature array of the wrong shape) are reported by file:line and skipped.
 */
import { extname } from 'node:path';
import { toFloat32, type HostArray } from '../../io/array.js';
import { loadNpy } from '../../io/npy.js';
import { loadSafetensors } from '../../io/safetensors.js';
import { decodeAudio } from '../../media/decode_audio.js';
import { describeError, InputError, ShapeError } from '../../util/errors.js';
import type { ManifestLineError } from '../manifest.js';
import { featureFile, readEmotionManifest, type EmotionItem, type EmotionLabels } from './manifest.js';
import { readWav16 } from './wav.js';

/** A [frames, dim] float sequence. */
export interface FeatureSequence {
  data: Float32Array;
  frames: number;
  dim: number;
}

export interface EmotionExample {
  item: EmotionItem;
  /** Raw mode: mono samples of the utterance (the [start, end) segment when given). */
  audio?: { samples: Float32Array; sampleRate: number };
  /** Features mode: the precomputed sequences. */
  features?: { text?: FeatureSequence; audio?: FeatureSequence };
}

export interface LoadOptions {
  /** 'raw' decodes audio; 'features' reads features.text / features.audio instead. */
  input: 'raw' | 'features';
  /** Raw mode: decode at this rate (default 16000). */
  sampleRate?: number;
  /** Features mode: required feature dims (e.g. { text: 768, audio: 768 }); unset = the first item's dims. */
  dims?: { text?: number; audio?: number };
  /** Audio whose peak |sample| is below this is silent (default 1e-4, -80 dBFS). */
  silencePeak?: number;
}

export async function loadEmotionExample(item: EmotionItem, opts: LoadOptions): Promise<EmotionExample> {
  if (opts.input === 'features') {
    if (!item.features?.text && !item.features?.audio)
      throw new InputError(
        `${item.file}:${item.line}: no features (features mode needs features.text and/or features.audio)`,
        { field: 'features' },
      );
    return {
      item,
      features: {
        text: item.features.text ? readSequence(item.features.text, 'features.text', opts.dims?.text) : undefined,
        audio: item.features.audio ? readSequence(item.features.audio, 'features.audio', opts.dims?.audio) : undefined,
      },
    };
  }
  if (!item.audio)
    throw new InputError(`${item.file}:${item.line}: no audio path (raw mode needs audio)`, { field: 'audio' });
  const sampleRate = opts.sampleRate ?? 16000;
  const samples = await readAudio(item, sampleRate);
  let peak = 0;
  for (const x of samples) peak = Math.max(peak, Math.abs(x));
  if (peak < (opts.silencePeak ?? 1e-4))
    throw new InputError(`${item.audio}: silent audio (peak ${peak.toExponential(2)})`, {
      field: 'audio',
      reason: 'silent',
    });
  return { item, audio: { samples, sampleRate } };
}

async function readAudio(item: EmotionItem, sampleRate: number): Promise<Float32Array> {
  const path = item.audio as string;
  if (extname(path).toLowerCase() === '.wav' && item.start === undefined && item.end === undefined) {
    try {
      const wav = readWav16(path);
      if (wav.sampleRate === sampleRate) return wav.samples; // fast path for EmoSpeech's own files
    } catch {
      // not a plain 16-bit mono WAV: ffmpeg reads it below
    }
  }
  const decoded = await decodeAudio(path, {
    sampleRate,
    start: item.start,
    duration: item.end !== undefined ? item.end - (item.start ?? 0) : undefined,
  });
  return decoded.data.subarray(0, decoded.length);
}

/** Reads x.npy, x.safetensors (its only tensor) or x.safetensors#name as a [frames, dim] float sequence. */
export function readSequence(ref: string, field: string, dim?: number): FeatureSequence {
  const file = featureFile(ref);
  let arr: HostArray;
  if (file.endsWith('.npy')) {
    arr = loadNpy(file);
  } else if (file.endsWith('.safetensors')) {
    const st = loadSafetensors(file);
    const name = file === ref ? undefined : ref.slice(file.length + 1);
    if (name === undefined && st.tensors.size !== 1) {
      throw new InputError(
        `${file}: holds ${st.tensors.size} tensors (${[...st.tensors.keys()].join(', ')}); name one as ${file}#NAME`,
        { file, field },
      );
    }
    const found = name === undefined ? [...st.tensors.values()][0] : st.tensors.get(name);
    if (!found)
      throw new InputError(`${file}: no tensor '${name}' (has ${[...st.tensors.keys()].join(', ')})`, { file, field });
    arr = found;
  } else {
    throw new InputError(`${file}: feature files must be .npy or .safetensors`, { file, field });
  }
  const shape = arr.shape[0] === 1 && arr.shape.length === 3 ? arr.shape.slice(1) : arr.shape; // [1, T, D] from a batch of one
  if (shape.length !== 2 || shape[0] < 1 || shape[1] < 1) {
    throw new ShapeError(`${ref}: ${field} must be a [frames, dim] sequence, got shape [${arr.shape.join(', ')}]`, {
      file,
      field,
      expected: '[T, D]',
      got: arr.shape,
    });
  }
  if (arr.dtype !== 'float32' && arr.dtype !== 'float64')
    throw new ShapeError(`${ref}: ${field} must be float32 or float64, got ${arr.dtype}`, {
      file,
      field,
      got: arr.dtype,
    });
  if (dim !== undefined && shape[1] !== dim) {
    throw new ShapeError(`${ref}: ${field} has dim ${shape[1]}, expected ${dim}`, {
      file,
      field,
      expected: dim,
      got: shape[1],
    });
  }
  const data = toFloat32(arr);
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i]))
      throw new ShapeError(`${ref}: ${field} has a non-finite value at flat index ${i}`, { file, field });
  return { data, frames: shape[0], dim: shape[1] };
}

export interface LoadedDataset {
  examples: EmotionExample[];
  /** Every skipped line with its reason (manifest errors first, then load errors). */
  skipped: ManifestLineError[];
}

/** Reads a manifest and loads every good item; bad ones are reported in skipped, never thrown. */
export async function loadEmotionDataset(
  path: string,
  opts: LoadOptions & { labels?: EmotionLabels; split?: 'train' | 'val' | 'test' },
): Promise<LoadedDataset> {
  const parsed = readEmotionManifest(path, opts.labels);
  const skipped = [...parsed.errors];
  const examples: EmotionExample[] = [];
  const dims = { ...opts.dims };
  for (const item of parsed.items) {
    if (opts.split && item.split !== opts.split) continue;
    try {
      const ex = await loadEmotionExample(item, { ...opts, dims });
      // The first good item fixes the dims every later item must match.
      dims.text ??= ex.features?.text?.dim;
      dims.audio ??= ex.features?.audio?.dim;
      examples.push(ex);
    } catch (err) {
      const field = (err as { details?: { field?: string } }).details?.field ?? '';
      skipped.push({ file: path, line: item.line, field, message: describeError(err) });
    }
  }
  return { examples, skipped };
}
