import { ParamStore } from '../../engine/params.js';
import { Predictor } from '../../engine/export.js';
import { loadRun } from '../../train/files.js';
import { hostArray, type HostArray } from '../../io/array.js';
import { InputError } from '../../util/errors.js';
import { encodeModality, clipEmbedding, type AvAlignConfig } from '../av_align/model.js';
import { AUDIO_FEATURE_DIM, VIDEO_FEATURE_DIM, fileFeatures, gridFrames, type AvFeatureConfig, type FileFeatures } from '../av_align/features.js';

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
  if (!model || !features) throw new InputError(`${run.dir}/config.json: no model or data.features section`, { file: run.dir, field: 'model' });
  return { run: run.dir, weights: run.weightsPath, task: String(run.config.task), model, features, embedDim: gridFrames(features) * model.embedDim, params: run.params };
}

export class Embedder {
  private constructor(readonly info: EmbedderInfo, private readonly video: Predictor, private readonly audio: Predictor) {}

  static async load(runDir: string, opts: { worker?: boolean } = {}): Promise<Embedder> {
    const { params, ...info } = readRun(runDir);
    const store = new ParamStore(0);
    store.load(params);
    const T = gridFrames(info.features);
    const c = info.model;
    const video = await Predictor.create((g, p) => {
      const h = encodeModality(p.scope('video_enc'), g.input('video', 'float32', [1, T, VIDEO_FEATURE_DIM]), c);
      return { embedding: clipEmbedding(p.scope('video_embed'), h, c) };
    }, store, { worker: opts.worker ?? false });
    const audio = await Predictor.create((g, p) => {
      const h = encodeModality(p.scope('audio_enc'), g.input('audio', 'float32', [1, T, AUDIO_FEATURE_DIM]), c);
      return { embedding: clipEmbedding(p.scope('audio_embed'), h, c) };
    }, store, { worker: opts.worker ?? false });
    return new Embedder(info, video, audio);
  }

  /** Unit-length embeddings of whichever modalities the features have. */
  async embed(f: Pick<FileFeatures, 'video' | 'audio'>): Promise<{ video: Float32Array | null; audio: Float32Array | null }> {
    const T = gridFrames(this.info.features);
    const run = async (p: Predictor, name: string, x: Float32Array, dim: number) => (await p.run({ [name]: hostArray('float32', [1, T, dim], x) })).embedding.data as Float32Array;
    return {
      video: f.video ? await run(this.video, 'video', f.video, VIDEO_FEATURE_DIM) : null,
      audio: f.audio ? await run(this.audio, 'audio', f.audio, AUDIO_FEATURE_DIM) : null,
    };
  }

  /** Decodes a file and embeds it. */
  async embedFile(path: string): Promise<{ features: FileFeatures; video: Float32Array | null; audio: Float32Array | null }> {
    const features = await fileFeatures(path, this.info.features);
    return { features, ...(await this.embed(features)) };
  }

  async close(): Promise<void> {
    await Promise.all([this.video.close(), this.audio.close()]);
  }
}
