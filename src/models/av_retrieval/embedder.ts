import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ParamStore } from '../../engine/params.js';
import { Predictor } from '../../engine/export.js';
import { loadSafetensors } from '../../io/safetensors.js';
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

interface RunConfigFile {
  task?: string;
  model?: AvAlignConfig;
  data?: { features?: AvFeatureConfig };
}

const EMBEDDING_TASKS = new Set(['av-align', 'av-retrieval']);

/** Reads a run folder's config and picks its weights (best, else last). */
export function readRun(runDir: string): EmbedderInfo & { params: Record<string, HostArray> } {
  const dir = resolve(runDir);
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new InputError(`--model ${runDir}: no config.json there; pass a run folder written by 'attune train av-align|av-retrieval' or 'attune demo' (e.g. attune-demo/av-align)`, { file: cfgPath, field: 'model' });
  let cfg: RunConfigFile;
  try {
    cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as RunConfigFile;
  } catch (err) {
    throw new InputError(`${cfgPath}: not valid JSON (${(err as Error).message})`, { file: cfgPath });
  }
  if (!cfg.task || !EMBEDDING_TASKS.has(cfg.task) || !cfg.model || !cfg.data?.features) {
    throw new InputError(`${cfgPath}: run of task '${String(cfg.task)}' has no audio/video embeddings (need av-align or av-retrieval)`, { file: cfgPath, field: 'task' });
  }
  const weights = [join(dir, 'best.safetensors'), join(dir, 'checkpoints', 'last.safetensors')].find((p) => existsSync(p) && statSync(p).size > 0);
  if (!weights) throw new InputError(`${dir}: no best.safetensors or checkpoints/last.safetensors; is the run finished?`, { file: dir, field: 'model' });
  const tensors = loadSafetensors(weights).tensors;
  const params = Object.fromEntries([...tensors].filter(([k]) => !k.startsWith('optim.')));
  return { run: dir, weights, task: cfg.task, model: cfg.model, features: cfg.data.features, embedDim: gridFrames(cfg.data.features) * cfg.model.embedDim, params };
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
