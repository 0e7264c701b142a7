import type { Command } from 'commander';
import { InputError } from '../../util/errors.js';
import { printJson } from '../output.js';
import type { BenchModule } from '../../../bench/types.js';

/**
 * `attune bench <name>`: benchmarks that print figures and ratios against a peer (e.g. PyTorch) run side by
 * side. Each benchmark lives in bench/<name>.ts and exports `run(options): Promise<BenchReport>` (bench/types.ts);
 * it is loaded only when asked for.
 */
const BENCHES: Record<string, { about: string; load: () => Promise<BenchModule> }> = {
  batch: {
    about: 'attune sync over AV-Synth clips: a pool of 2 worker processes vs 1 (throughput ratio)',
    load: () => import('../../../bench/batch.js'),
  },
  decode: {
    about: 'ffmpeg CLI vs libav in-process (node-av): correctness on every clip, decode speed, install size',
    load: () => import('../../../bench/decode.js'),
  },
  engine: {
    about: 'training step and inference of the reference cross-attention model vs PyTorch',
    load: () => import('../../../bench/engine.js'),
  },
  features: {
    about: 'decode + feature extraction throughput (x real time) and peak RSS',
    load: () => import('../../../bench/features.js'),
  },
  metrics: {
    about: 'recall/mAP on 10k pairs and Frechet distance on 10k x 2048 features',
    load: () => import('../../../bench/metrics.js'),
  },
  sync: {
    about: 'attune sync latency on 10 s of a 720p clip, without and with face landmarks, by stage',
    load: () => import('../../../bench/sync.js'),
  },
  'sync-lips': {
    about: 'the lip cue within one frame on the dev talking heads, per face-path speed trick and cue choice',
    load: () => import('../../../bench/sync_lips.js'),
  },
  'sync-scorer': {
    about: 'trains the learned lag scorer of attune sync on the dev clips + AV-Synth, leave-one-clip-out figures',
    load: () => import('../../../bench/sync_scorer.js'),
  },
  queue: {
    about:
      'attune sync over a Redis queue with 3 workers, one killed mid-job in each of 20 runs: files lost and duplicated',
    load: () => import('../../../bench/batch_queue.js'),
  },
  v2a: {
    about: 'v2a: 8 s of sound at 25 Euler steps with CFG on 2 threads (network + Griffin-Lim decoder), time per steps',
    load: () => import('../../../bench/v2a.js'),
  },
};

export function register(program: Command): void {
  program
    .command('bench')
    .description('run a benchmark and print figures and ratios against a peer implementation')
    .argument('<name>', `one of: ${Object.keys(BENCHES).join(', ')}`)
    .option('--quick', 'small sizes for a smoke run', false)
    .option('--no-peer', 'do not run the peer implementation (PyTorch)')
    .option('--json', 'print the results as JSON', false)
    .addHelpText(
      'after',
      '\nBenchmarks:\n' +
        Object.entries(BENCHES)
          .map(([k, v]) => `  ${k.padEnd(10)} ${v.about}`)
          .join('\n'),
    )
    .action(async (name: string, opts: { quick: boolean; peer: boolean; json: boolean }) => {
      const bench = BENCHES[name];
      if (!bench)
        throw new InputError(`unknown benchmark "${name}"; expected one of: ${Object.keys(BENCHES).join(', ')}`, {
          field: 'name',
        });
      const report = await (await bench.load()).run({ json: opts.json, quick: opts.quick, noPeer: !opts.peer });
      if (opts.json) printJson(report);
    });
}
