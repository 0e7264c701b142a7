import { defineTask } from '../../train/task.js';
import { embeddingSuite } from '../../metrics/suite.js';
import type { Graph, Scope, Tensor } from '../../engine/index.js';
import { avAlignSmall, dualEncode, type AvAlignConfig } from '../av_align/model.js';
import {
  avAlignTask,
  defaultAvData,
  embeddingSimilaritySection,
  predictSplit,
  type AvDataConfig,
  type AvTaskData,
} from '../av_align/task.js';

/**
 * av-retrieval: the lighter dual encoder (av-align's video and audio encoders and clip embeddings, no
 * cross-modal part, no decoder), trained with InfoNCE + uniformity only. Its parameters have the same
 * names as av-align's encoders, so `attune index` / `attune retrieve` accept a run of either task.
 */
export const avRetrievalSmall = (): AvAlignConfig => ({
  ...avAlignSmall(),
  crossLayers: 0,
  loss: { nce: 1, recon: 0, align: 0, smooth: 0, uniformity: 0.1 },
});
export const avRetrievalTiny = (): AvAlignConfig => ({ ...avRetrievalSmall(), dim: 32, heads: 2 });

/** Inference: unit-length clip embeddings [B, T*E] for each modality. */
export function embedInference(
  g: Graph,
  p: Scope,
  c: AvAlignConfig,
  data: AvTaskData,
  b: number,
): Record<string, Tensor> {
  const video = g.input('video', 'float32', [b, data.set.frames, data.set.videoDim]);
  const audio = g.input('audio', 'float32', [b, data.set.frames, data.set.audioDim]);
  const { ev, ea } = dualEncode(p, video, audio, c, data.stats);
  return { video_embedding: ev, audio_embedding: ea };
}

/** av-align's task (schemas, data, loss, monitor) with the dual encoder's defaults, inference and recall@K evaluation. */
export const avRetrievalTask = defineTask<AvAlignConfig, AvDataConfig, AvTaskData>({
  ...avAlignTask,
  name: 'av-retrieval',
  description:
    'audio<->video retrieval: a dual encoder with temporal clip embeddings, trained with InfoNCE; recall@K evaluation',
  defaults: {
    model: avRetrievalSmall(),
    data: defaultAvData,
    train: { batchSize: 32, lr: 2e-3, warmupSteps: 30, epochs: 40 },
  },
  variants: { tiny: avRetrievalTiny, small: avRetrievalSmall },
  buildInference: (g, p, ctx) => embedInference(g, p, ctx.model, ctx.data, ctx.batchSize),
  async evaluate(ctx) {
    const o = await predictSplit(ctx);
    const { metrics: m } = await embeddingSuite(o.video_embedding, o.audio_embedding, { ks: [1, 5, 10], ksg: false });
    const metrics: Record<string, number> = { clips: ctx.indices.length };
    for (const [k, v] of Object.entries(m)) metrics[k.replace(/^a2b_/, 'v2a_').replace(/^b2a_/, 'a2v_')] = v;
    return { metrics, sections: ctx.final ? [embeddingSimilaritySection(o)] : undefined };
  },
});
