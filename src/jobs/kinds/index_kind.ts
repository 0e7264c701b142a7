/**
 * `index` over many files: each file embedded whole (windows of the model's length over the full duration, averaged;
 * Embedder.embedWhole), the embeddings kept in the run's store, and at the end the retrieval index
 * (embeddings.safetensors + index.json) written into --out from every finished file, this run's and earlier ones'.
 */
import { dirname, resolve } from 'node:path';
import { hostArray } from '../../io/array.js';
import { AV_FEATURE_VERSION } from '../../models/av_align/features.js';
import { Embedder, readRun, type WholeFileEmbedding } from '../../models/av_retrieval/embedder.js';
import { writeIndex, type IndexRow } from '../../models/av_retrieval/index_store.js';
import { InputError } from '../../util/errors.js';
import { runIdentity } from '../identity.js';
import { inputType } from '../inputs.js';
import type { KindSubmitter } from '../submit.js';
import type { JobKind, Tensors } from '../types.js';

export interface IndexJobOptions {
  model: string;
}

const TASKS = ['av-align', 'av-retrieval'];

function indexOptions(o: Record<string, unknown>): IndexJobOptions {
  if (typeof o.model !== 'string' || !o.model)
    throw new InputError('attune index needs --model RUN (a trained av-align or av-retrieval run folder)', {
      field: '--model',
    });
  return { model: o.model };
}

export const indexKind: JobKind<Embedder> = {
  name: 'index',
  open: (o) => Embedder.load(indexOptions(o).model),
  async run(embedder, item) {
    const e = await embedder.embedWhole(item.path);
    const E = embedder.info.embedDim;
    const W = e.windowStarts.length;
    const tensors: Tensors = {
      windows: hostArray(
        'float32',
        [W, 2],
        Float32Array.from(e.windowStarts.flatMap((s, i) => [s, e.windowFrames[i]])),
      ),
    };
    if (e.video) tensors.video = hostArray('float32', [E], e.video);
    if (e.audio) tensors.audio = hostArray('float32', [E], e.audio);
    if (e.videoWindows) tensors.video_windows = hostArray('float32', [W, E], e.videoWindows);
    if (e.audioWindows) tensors.audio_windows = hostArray('float32', [W, E], e.audioWindows);
    return {
      status: 'ok',
      record: {
        hasVideo: !!e.video,
        hasAudio: !!e.audio,
        duration: Math.round(e.duration * 1000) / 1000,
        validFrames: e.validFrames,
        windows: W,
      },
      tensors,
    };
  },
  close: (embedder) => embedder.close(),
};

export const indexSubmitter: KindSubmitter = {
  async prepare(ctx) {
    const { model } = indexOptions(ctx.options);
    const { params: _params, ...info } = readRun(model);
    const root = resolve(inputType(ctx.input) === 'folder' ? ctx.input : dirname(ctx.input));
    return {
      identity: {
        model: await runIdentity(model, TASKS),
        features: info.features,
        featureVersion: AV_FEATURE_VERSION,
        whole: 1,
      },
      columns: ['hasVideo', 'hasAudio', 'duration', 'windows'],
      keepTensors: true,
      async finish(lines, store) {
        const rows: IndexRow[] = [];
        for (const l of lines) {
          if (l.status !== 'ok') continue;
          const t = store.getTensors(l.key!);
          if (!t) continue;
          const win = t.windows.data as Float32Array;
          const W = t.windows.shape[0];
          const e: WholeFileEmbedding = {
            video: (t.video?.data as Float32Array) ?? null,
            audio: (t.audio?.data as Float32Array) ?? null,
            videoWindows: (t.video_windows?.data as Float32Array) ?? null,
            audioWindows: (t.audio_windows?.data as Float32Array) ?? null,
            windowStarts: Array.from({ length: W }, (_, i) => win[2 * i]),
            windowFrames: Array.from({ length: W }, (_, i) => win[2 * i + 1]),
            duration: Number(l.duration ?? 0),
            validFrames: Number(l.validFrames ?? 0),
          };
          rows.push({ id: l.id, path: l.path, e });
        }
        if (rows.length === 0) return { indexDir: null, indexed: 0, recall: null };
        const failed = lines
          .filter((l) => l.status === 'failed')
          .map((l) => ({ index: -1, id: l.source, error: l.error ?? '', ...(l.code ? { code: l.code } : {}) }));
        const recall = await writeIndex(store.out, root, info, rows, failed);
        return { indexDir: store.out, indexed: rows.length, recall };
      },
    };
  },
};
