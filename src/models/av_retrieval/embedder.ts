import { ParamStore } from '../../engine/params.js';
import { Predictor } from '../../engine/export.js';
import { loadRun } from '../../train/files.js';
import { hostArray, type HostArray } from '../../io/array.js';
import { InputError, MediaError } from '../../util/errors.js';
import { probe } from '../../media/probe.js';
import { encodeModality, clipEmbedding, type AvAlignConfig } from '../av_align/model.js';
import {
  AUDIO_FEATURE_DIM,
  VIDEO_FEATURE_DIM,
  fileFeatures,
  gridFrames,
  type AvFeatureConfig,
  type FileFeatures,
} from '../av_align/features.js';

/**
 * A trained av-align or av-retrieval run turned into two single-modality embedders (video -> e_v, audio -> e_a).
 * A run folder is what `attune train` / `attune demo` write: config.json (task, model, data.features) and
 * best.safetensors (or checkpoints/last.safetensors).
 */
export interface EmbedderInfo {
  run: string;
  weights: string;
  task: string;
  model: AvAlignConfig;
  features: AvFeatureConfig;
  embedDim: number;
}

const EMBEDDING_TASKS = ['av-align', 'av-retrieval'];

/** Reads a run folder's config and weights (best, else last); the run must have audio/video embeddings. */
export function readRun(runDir: string): EmbedderInfo & { params: Record<string, HostArray> } {
  const run = loadRun(runDir, { tasks: EMBEDDING_TASKS });
  const model = run.config.model as AvAlignConfig | undefined;
  const features = run.config.data?.features as AvFeatureConfig | undefined;
  if (!model || !features)
    throw new InputError(`${run.dir}/config.json: no model or data.features section`, {
      file: run.dir,
      field: 'model',
    });
  return {
    run: run.dir,
    weights: run.weightsPath,
    task: String(run.config.task),
    model,
    features,
    embedDim: gridFrames(features) * model.embedDim,
    params: run.params,
  };
}

/** A file embedded whole: its windows' embeddings and their weighted mean (unit length), per modality. */
export interface WholeFileEmbedding {
  video: Float32Array | null;
  audio: Float32Array | null;
  /** per window [W, E] (rows of a modality the file lacks are absent: null) */
  videoWindows: Float32Array | null;
  audioWindows: Float32Array | null;
  /** window start times (seconds) and grid frames each covers */
  windowStarts: number[];
  windowFrames: number[];
  duration: number;
  /** grid frames covered in all */
  validFrames: number;
}

/** Windows decoded per ffmpeg run (10 x 6 s = 1 min): bounded memory for hour-long files. */
const WINDOWS_PER_SEGMENT = 10;

export class Embedder {
  private constructor(
    readonly info: EmbedderInfo,
    private readonly video: Predictor,
    private readonly audio: Predictor,
  ) {}

  static async load(runDir: string, opts: { worker?: boolean } = {}): Promise<Embedder> {
    const { params, ...info } = readRun(runDir);
    const store = new ParamStore(0);
    store.load(params);
    const T = gridFrames(info.features);
    const c = info.model;
    const video = await Predictor.create(
      (g, p) => {
        const h = encodeModality(p.scope('video_enc'), g.input('video', 'float32', [1, T, VIDEO_FEATURE_DIM]), c);
        return { embedding: clipEmbedding(p.scope('video_embed'), h, c) };
      },
      store,
      { worker: opts.worker ?? false },
    );
    const audio = await Predictor.create(
      (g, p) => {
        const h = encodeModality(p.scope('audio_enc'), g.input('audio', 'float32', [1, T, AUDIO_FEATURE_DIM]), c);
        return { embedding: clipEmbedding(p.scope('audio_embed'), h, c) };
      },
      store,
      { worker: opts.worker ?? false },
    );
    return new Embedder(info, video, audio);
  }

  /** Unit-length embeddings of whichever modalities the features have. */
  async embed(
    f: Pick<FileFeatures, 'video' | 'audio'>,
  ): Promise<{ video: Float32Array | null; audio: Float32Array | null }> {
    const T = gridFrames(this.info.features);
    const run = async (p: Predictor, name: string, x: Float32Array, dim: number) =>
      (await p.run({ [name]: hostArray('float32', [1, T, dim], x) })).embedding.data as Float32Array;
    return {
      video: f.video ? await run(this.video, 'video', f.video, VIDEO_FEATURE_DIM) : null,
      audio: f.audio ? await run(this.audio, 'audio', f.audio, AUDIO_FEATURE_DIM) : null,
    };
  }

  /** Decodes a file and embeds it. */
  async embedFile(
    path: string,
  ): Promise<{ features: FileFeatures; video: Float32Array | null; audio: Float32Array | null }> {
    const features = await fileFeatures(path, this.info.features);
    return { features, ...(await this.embed(features)) };
  }

  /**
   * Embeds a whole file: windows of the model's length (6 s by default) back to back over the full duration, each
   * embedded; the file's embedding per modality is the mean of its windows' unit embeddings weighted by the grid
   * frames they cover, normalized to unit length. A last window covering less than a quarter of its length is left
   * out (unless it is the only one). The file is decoded a minute at a time, so memory does not grow with length.
   * A file no longer than one window gives `embedFile`'s embedding (to float rounding).
   */
  async embedWhole(path: string): Promise<WholeFileEmbedding> {
    const c = this.info.features;
    const T = gridFrames(c);
    const info = await probe(path, { scanPackets: 0 });
    const total = Math.max(1, Math.ceil(info.duration / c.seconds - 1e-6));
    const E = this.info.embedDim;
    const rows: { start: number; valid: number; video: Float32Array | null; audio: Float32Array | null }[] = [];
    for (let w0 = 0; w0 < total; w0 += WINDOWS_PER_SEGMENT) {
      const k = Math.min(WINDOWS_PER_SEGMENT, total - w0);
      let f: FileFeatures;
      try {
        f = await fileFeatures(path, { ...c, seconds: k * c.seconds }, w0 * c.seconds);
      } catch (err) {
        // A stream that ends before the container does (video shorter than audio): keep what was embedded.
        if (w0 > 0 && err instanceof MediaError) break;
        throw err;
      }
      for (let j = 0; j < k; j++) {
        const valid = Math.max(0, Math.min(T, f.validFrames - j * T));
        if (rows.length > 0 && valid < T / 4) continue;
        const e = await this.embed({
          video: f.video ? f.video.slice(j * T * VIDEO_FEATURE_DIM, (j + 1) * T * VIDEO_FEATURE_DIM) : null,
          audio: f.audio ? f.audio.slice(j * T * AUDIO_FEATURE_DIM, (j + 1) * T * AUDIO_FEATURE_DIM) : null,
        });
        rows.push({ start: (w0 + j) * c.seconds, valid, ...e });
      }
    }
    const pool = (m: 'video' | 'audio'): { mean: Float32Array | null; windows: Float32Array | null } => {
      if (!rows.every((r) => r[m])) return { mean: null, windows: null };
      const windows = new Float32Array(rows.length * E);
      const mean = new Float32Array(E);
      rows.forEach((r, i) => {
        windows.set(r[m]!, i * E);
        const w = Math.max(1, r.valid);
        for (let j = 0; j < E; j++) mean[j] += w * r[m]![j];
      });
      let n = 0;
      for (let j = 0; j < E; j++) n += mean[j] * mean[j];
      n = Math.sqrt(n) || 1;
      for (let j = 0; j < E; j++) mean[j] /= n;
      return { mean, windows };
    };
    const v = pool('video');
    const a = pool('audio');
    return {
      video: v.mean,
      audio: a.mean,
      videoWindows: v.windows,
      audioWindows: a.windows,
      windowStarts: rows.map((r) => r.start),
      windowFrames: rows.map((r) => r.valid),
      duration: info.duration,
      validFrames: rows.reduce((s, r) => s + r.valid, 0),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.video.close(), this.audio.close()]);
  }
}
