/**
 * Inference time of a trained emotion model on 5 s utterances (after load): features (log-mel + YIN prosody) and
 * the model, wall and process CPU per utterance, median over repeats, on as many threads as ORT is given (2).
 *
 *   node dist/bench/emotion_infer.js RUN [--repeats 20]
 */
import { fileURLToPath } from 'node:url';
import { audioFrames, hashWord, splitWords } from '../src/models/emotion/features.js';
import { loadEmotionModel, releaseEmotionModel, runOne } from '../src/models/emotion/infer.js';
import { Rng } from '../src/util/rng.js';

export interface InferTiming {
  seconds: number;
  featuresMs: number;
  modelMs: number;
  totalMs: number;
  cpuMs: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Times `repeats` 5 s utterances (a voiced, gliding harmonic tone with noise, 22.05 kHz) after one warm-up call. */
export async function timeEmotionInference(run: string, repeats = 20): Promise<InferTiming> {
  const model = loadEmotionModel(run);
  const sr = 22050;
  const rng = new Rng(1);
  const samples = Float32Array.from(
    { length: 5 * sr },
    (_, i) => 0.3 * Math.sin(2 * Math.PI * (140 + 20 * Math.sin(i / sr)) * (i / sr)) + 0.01 * rng.normal(),
  );
  const words = splitWords('Honestly, everyone said the dinner at the lake seemed absolutely lovely.');
  const feat: number[] = [];
  const net: number[] = [];
  const cpu: number[] = [];
  try {
    for (let r = 0; r <= repeats; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const f = audioFrames(samples, sr);
      const t1 = performance.now();
      await runOne(model, {
        words,
        tokens: Int32Array.from(words, hashWord),
        spans: words.map(() => null),
        audio: f.data,
        frames: f.frames,
        utterance: f.utterance,
        meta: [1, 2, 1, 1],
        label: 0,
      });
      const t2 = performance.now();
      const dc = process.cpuUsage(c0);
      if (r === 0) continue; // the first call builds the session
      feat.push(t1 - t0);
      net.push(t2 - t1);
      cpu.push((dc.user + dc.system) / 1000);
    }
  } finally {
    await releaseEmotionModel(model);
  }
  return {
    seconds: 5,
    featuresMs: median(feat),
    modelMs: median(net),
    totalMs: median(feat.map((x, i) => x + net[i])),
    cpuMs: median(cpu),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [run, flag, n] = process.argv.slice(2);
  if (!run) throw new Error('usage: node dist/bench/emotion_infer.js RUN [--repeats N]');
  console.log(JSON.stringify(await timeEmotionInference(run, flag === '--repeats' ? Number(n) : 20), null, 2));
}
