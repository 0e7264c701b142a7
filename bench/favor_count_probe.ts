/**
 * How well a FAVOR run with count tokens counts (docs/favor.md, session 15). The run's per-frame counts are read on
 * every val scene of its AVQA data, heard with the scene's own audio, and summed over the clip:
 * - the query head's 0/1 sounds (`frames`), or its softplus counts per frame (`onsets`);
 * - or the audio counting head's impacts (`audio`).
 * Each sum is checked against the scene's impacts of each kind of sound (frameLabels' audioOnsets). The table gives
 * the share of (clip, sound) pairs within 0.5 of the truth, over all pairs and over the pairs with at least one
 * impact, and the quartiles of the error on those. Answering 0 everywhere is the baseline of the first figure. An
 * `onsets` run is also read through its 0/1 sounds.
 *
 *   node dist/bench/favor_count_probe.js RUN [RUN ...] [--json]
 */
import { Graph, ParamStore, Scope, Session, type Tensor } from '../src/engine/index.js';
import { toFloat32 } from '../src/io/array.js';
import { fileURLToPath } from 'node:url';
import { FRAME_SOUNDS, avqaConfig, avqaStreams, frameLabels, sceneSplit } from '../src/data/avqa/index.js';
import { loadFavorModel } from '../src/models/favor/infer.js';
import { avInputs, favorEncode } from '../src/models/favor/model.js';
import { avBatch, clipFromStreams } from '../src/models/favor/data.js';
import { queryHeadCounts, queryHeadOutputs } from '../src/models/favor/query_aux.js';
import { loadRun } from '../src/train/files.js';
import { InputError } from '../src/util/errors.js';

interface CountScore {
  run: string;
  /** What was summed: the run's own count source, or 'frames' read off an 'onsets' run's 0/1 sounds. */
  read: string;
  pairs: number;
  nonZero: number;
  /** Answering 0 for every pair. */
  zeroShare: number;
  within: number;
  withinNonZero: number;
  /** Error (sum - truth) quartiles over the non-zero pairs. */
  errorQuartiles: [number, number, number];
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** The run's per-frame counts summed over every val scene of its data, scored against the scenes' impacts. */
export async function probeRun(dir: string): Promise<CountScore[]> {
  const model = loadFavorModel(dir);
  const c = model.config;
  if (c.countTokens === 'off')
    throw new InputError(`${dir}: model.countTokens is off; nothing to probe`, { field: 'model.countTokens' });
  const run = loadRun(dir, { tasks: ['favor'] });
  const data = (run.config.data ?? {}) as { avqa?: Record<string, unknown> };
  const source = String(run.config.source ?? '');
  const scenes = Number(/^avqa:(\d+)$/.exec(source)?.[1]);
  if (!scenes) throw new InputError(`${dir}: config.json source ${source} is not avqa:N`, { field: 'source' });
  const cfg = avqaConfig(data.avqa ?? {});
  const frames = Math.round(2 * cfg.maxDuration);
  const store = new ParamStore(0);
  store.load(model.weights);
  const g = new Graph();
  const av = favorEncode(new Scope(g, store).scope('encoder'), avInputs(g, 1, frames, c.frameSize), c);
  const reads = c.countTokens === 'onsets' ? ['onsets', 'frames'] : [c.countTokens];
  // What the count tokens sum, per frame, as the model computes it: the audio head's rates or the query head's counts.
  const outputs: Record<string, Tensor> = {};
  for (const read of reads) {
    const counts =
      read === 'audio'
        ? av.onsetRates
        : av.frameLogits && queryHeadCounts(av.frameLogits, queryHeadOutputs(c), read as 'frames' | 'onsets');
    if (!counts) throw new Error(`${dir}: the encoder gave no per-frame counts`);
    outputs[`counts_${read}`] = counts; // [1, F', C]
  }
  const session = await Session.create(g, outputs, { threads: 1 });
  const errors = reads.map(() => [] as number[]);
  const within = reads.map(() => [0, 0]);
  let [pairs, nonZero] = [0, 0];
  try {
    for (let index = 0; index < scenes; index++) {
      if (sceneSplit(cfg, index) !== 'val') continue;
      const streams = avqaStreams(cfg, index, {}, { size: c.frameSize });
      const clip = clipFromStreams(streams.video.data, streams.audio.data, c.frameSize);
      const r = await session.run({ ...avBatch([clip], frames, c.frameSize), ...store.feeds(g) });
      const perFrame = reads.map((read) => toFloat32(r[`counts_${read}`]));
      const labels = frameLabels(cfg, index);
      for (let k = 0; k < FRAME_SOUNDS; k++) {
        let truth = 0;
        const sums = reads.map(() => 0);
        for (let t = 0; t < labels.frames; t++) {
          truth += labels.audioOnsets[t * FRAME_SOUNDS + k];
          perFrame.forEach((z, i) => (sums[i] += z[t * (z.length / frames) + k])); // the sounds come first
        }
        pairs++;
        if (truth > 0) nonZero++;
        sums.forEach((sum, i) => {
          const ok = Math.abs(sum - truth) < 0.5;
          within[i][0] += +ok;
          if (truth > 0) {
            within[i][1] += +ok;
            errors[i].push(sum - truth);
          }
        });
      }
    }
  } finally {
    await session.release();
  }
  return reads.map((read, i) => {
    const e = errors[i].sort((a, b) => a - b);
    return {
      run: dir,
      read,
      pairs,
      nonZero,
      zeroShare: (pairs - nonZero) / pairs,
      within: within[i][0] / pairs,
      withinNonZero: within[i][1] / Math.max(1, nonZero),
      errorQuartiles: [quantile(e, 0.25), quantile(e, 0.5), quantile(e, 0.75)],
    };
  });
}

async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const runs = argv.filter((a) => a !== '--json');
  if (!runs.length || argv.includes('--help')) {
    console.log('usage: node dist/bench/favor_count_probe.js RUN [RUN ...] [--json]');
    return;
  }
  const rows: CountScore[] = [];
  for (const dir of runs) rows.push(...(await probeRun(dir)));
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  const pct = (x: number) => (100 * x).toFixed(1);
  console.log(
    '| run | summed | pairs (non-zero) | all 0 | within 0.5 | within 0.5, non-zero | error quartiles, non-zero |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.run} | ${r.read} | ${r.pairs} (${r.nonZero}) | ${pct(r.zeroShare)} | ${pct(r.within)} | ${pct(r.withinNonZero)} | ${r.errorQuartiles.map((x) => x.toFixed(1)).join(' / ')} |`,
    );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main(process.argv.slice(2));
