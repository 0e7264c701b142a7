import { parentPort, workerData } from 'node:worker_threads';
import { generateClip } from '../../data/synth/clip.js';
import type { SynthConfig } from '../../data/synth/config.js';
import { audioFeatures, videoFeatures, type AvFeatureConfig } from './features.js';

/**
 * Worker side of the parallel AV-Synth feature pass (see synthClipSet): renders each assigned clip in memory,
 * computes its grid features and posts them back (buffers transferred, not copied).
 */
interface Job {
  cfg: SynthConfig;
  features: AvFeatureConfig;
  indices: number[];
}

export function clipFeatures(
  cfg: SynthConfig,
  features: AvFeatureConfig,
  index: number,
): { video: Float32Array; audio: Float32Array } {
  const clip = generateClip(cfg, index);
  return {
    video: videoFeatures(clip.video, clip.frames, clip.width, clip.height, clip.fps, features).data,
    audio: audioFeatures(clip.audio, features).data,
  };
}

if (parentPort && workerData) {
  const job = workerData as Job;
  for (const index of job.indices) {
    const f = clipFeatures(job.cfg, job.features, index);
    parentPort.postMessage({ index, video: f.video, audio: f.audio }, [
      f.video.buffer as ArrayBuffer,
      f.audio.buffer as ArrayBuffer,
    ]);
  }
  parentPort.postMessage({ done: true });
}
