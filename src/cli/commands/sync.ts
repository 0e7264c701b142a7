import type { Command } from 'commander';
import { resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import type { SyncModel } from '../../models/av_sync/infer.js';
import { formatTable, printJson } from '../output.js';
import { seconds, signedSeconds } from '../parse.js';
import { BATCH_HELP, addBatchOptions, runBatchCommand, type BatchCliOptions } from '../batch.js';
import { inputType } from '../../jobs/inputs.js';

/**
 * `attune sync VIDEO`: how far the sound is out of sync with the picture, on the +-2 s / 0.2 s grid, with a
 * calibrated confidence and a synchronisability score; `--fix OUT` writes a corrected copy with ffmpeg.
 * `attune sync DIR|MANIFEST --out RESULTS`: every file, whole, through the batch layer (src/jobs).
 */
export function register(program: Command): void {
  const cmd = program
    .command('sync')
    .description('estimate the audio-video offset of a video (seconds, positive = audio late), its confidence and synchronisability; --fix writes a corrected copy; a folder or manifest: every file, whole')
    .argument('[video]', 'a video file with sound (any container ffmpeg reads), a folder of them (searched recursively) or a manifest .jsonl')
    .option('--method <m>', 'model (the learned av-sync model, needs --model) or xcorr (onset envelope x motion energy); default: model when --model is given, else xcorr')
    .option('--model <path>', 'a trained av-sync run folder (attune train av-sync ... --out DIR) or its best.safetensors')
    .option('--start <s>', 'analyse from this time (seconds)', seconds('--start'))
    .option('--duration <s>', 'analyse this many seconds', seconds('--duration'))
    .option('--fix <out>', 'write a copy with the audio moved by the measured offset (stream copy when possible), then measure it again')
    .option('--offset <s>', 'with --fix: apply this offset (seconds, positive = audio late) instead of the measured one', signedSeconds('--offset'))
    .option('--shifts <list>', 'evaluate instead: copies of VIDEO with the audio moved by these seconds (e.g. --shifts=-1,-0.4,0,0.4,1), measured by xcorr and the model', list('--shifts'))
    .option('--bench <spec>', 'evaluate on fresh AV-Synth clips instead: synth:N (N clips x 21 offsets, central 4.8 s windows), xcorr and the model')
    .option('--json', 'print the result as JSON', false)
    .option('--out <dir>', 'folders and manifests: where results.jsonl and summary.csv go')
    .option('--segment <s>', 'folders and manifests: seconds per analysed window; each window of a file gets its own offset, plus the file overall (default 60)', seconds('--segment'));
  addBatchOptions(cmd, 'unreadable, no video stream');
  cmd
    .addHelpText('after', `
Output: the offset on the 21-class grid (-2.0 ... +2.0 s in 0.2 s steps; positive = the audio is late), the
continuous lag, the confidence (probability of that class, temperature-calibrated) and the synchronisability
(0..1: does the clip carry sound onsets and motion that match?). Below 0.5 the clip is reported as
"not synchronisable" with a reason (silence, a still picture, no audio stream, too short) and no offset.

Without --model the xcorr baseline runs. Train a model on AV-Synth or your own videos:
  attune train av-sync --data synth:300 --out runs/av-sync
  attune train av-sync --data my_videos.jsonl --out runs/my-sync
  attune sync clip.mp4 --model runs/av-sync

A single file is analysed as a whole (the model averages its 4.8 s windows). A folder or manifest:
  attune sync videos/ --out sync-results [--model runs/av-sync] [--jobs 4] [--segment 60]
Each file is covered whole, cut into --segment windows (equal parts of at least that many seconds; a file
shorter than two windows is one window, with exactly the numbers 'attune sync FILE' gives); each window gets its
own offset, confidence and synchronisability, and the file an overall offset (class probabilities averaged
over its synchronisable windows) and its drift (largest minus smallest window offset).
${BATCH_HELP}`)
    .action(async (video: string | undefined, o: Options) => {
      const { loadSyncModel, releaseSyncModel } = await import('../../models/av_sync/index.js');
      if (video && inputType(video) !== 'file') return batch(video, o);
      if (o.out !== undefined || o.queue !== undefined) throw new InputError('--out and --queue apply to a folder or manifest; for a corrected copy of one file use --fix OUT', { field: o.out !== undefined ? '--out' : '--queue' });
      if (o.bench !== undefined || o.shifts !== undefined) return evaluate(video, o);
      if (!video) throw new InputError('attune sync needs a VIDEO (or --bench synth:N)', { field: 'video' });
      if (o.method !== undefined && o.method !== 'model' && o.method !== 'xcorr') {
        throw new InputError(`--method expects model or xcorr, got "${o.method}"`, { field: '--method', got: o.method });
      }
      if (o.method === 'model' && !o.model) {
        throw new InputError('--method model needs --model DIR (a run folder from: attune train av-sync --data synth:300 --out DIR)', { field: '--model' });
      }
      if (o.offset !== undefined && !o.fix) throw new InputError('--offset only applies with --fix OUT', { field: '--offset' });
      const method = (o.method ?? (o.model ? 'model' : 'xcorr')) as 'model' | 'xcorr';
      const model = method === 'model' ? loadSyncModel(o.model!) : undefined;
      try {
        await analyse(video, o, method, model);
      } finally {
        if (model) await releaseSyncModel(model);
      }
    });
}

interface Options extends BatchCliOptions {
  method?: string; model?: string; start?: number; duration?: number; fix?: string; offset?: number; shifts?: number[]; bench?: string; json: boolean;
  segment?: number;
}

async function batch(input: string, o: Options): Promise<void> {
  for (const [flag, v] of [['--fix', o.fix], ['--offset', o.offset], ['--shifts', o.shifts], ['--bench', o.bench], ['--start', o.start], ['--duration', o.duration]] as const) {
    if (v !== undefined) throw new InputError(`${flag} applies to a single file, not to a folder or manifest${flag === '--start' || flag === '--duration' ? ' (give manifest lines a start and end instead)' : ''}`, { field: flag });
  }
  if (o.method !== undefined && o.method !== 'model' && o.method !== 'xcorr') throw new InputError(`--method expects model or xcorr, got "${o.method}"`, { field: '--method', got: o.method });
  if (o.method === 'model' && !o.model) throw new InputError('--method model needs --model DIR (a run folder from: attune train av-sync --data synth:300 --out DIR)', { field: '--model' });
  const method = o.method ?? (o.model ? 'model' : 'xcorr');
  const options: Record<string, unknown> = { method, ...(o.model ? { model: resolve(o.model) } : {}), ...(o.segment !== undefined ? { segment: o.segment } : {}) };
  await runBatchCommand('sync', input, options, o);
}

async function analyse(video: string, o: Options, method: 'model' | 'xcorr', model: SyncModel | undefined): Promise<void> {
  const { syncFile, fixSync, describeEstimate } = await import('../../models/av_sync/index.js');
  const r = await syncFile(video, { method, model, start: o.start, duration: o.duration });
  const note = method === 'xcorr' && !o.method ? 'xcorr baseline (no --model given)' : method === 'model' ? `model ${model!.source}` : 'xcorr baseline';
  let fix: Record<string, unknown> | undefined;
  if (o.fix) {
    const offset = o.offset ?? r.offset;
    if (offset === null) {
      throw new InputError(`${video}: not synchronisable (${r.reason ?? 'no sync cues'}); refusing to guess a correction. Pass --offset S to apply a known shift`, { file: video, field: '--fix', reason: r.reason });
    }
    const written = await fixSync(video, o.fix, offset);
    const after = await syncFile(o.fix, { method, model, start: o.start, duration: o.duration });
    fix = { output: written.output, shift: written.shift, mode: written.mode, after: { offset: after.offset, lag: after.lag, confidence: after.confidence, synchronisability: after.synchronisability, synchronisable: after.synchronisable, reason: after.reason } };
  }
  if (o.json) {
    const { probs, ...rest } = r;
    printJson({ ...rest, method, via: note, probs: probs.map((p) => Math.round(p * 1e4) / 1e4), ...(fix ? { fix } : {}) });
    return;
  }
  const lines = [`${video}: ${describeEstimate(r)}`, `  method: ${note}; ${r.windows} window(s); ${r.timing.total.toFixed(2)} s (decode ${r.timing.decode.toFixed(2)} s)`];
  if (fix) {
    const after = fix.after as { offset: number | null; lag: number; confidence: number; synchronisable: boolean; reason?: string };
    lines.push(`  fixed: ${fix.output} (audio moved ${(fix.shift as number) >= 0 ? '+' : ''}${(fix.shift as number).toFixed(2)} s, ${fix.mode === 'copy' ? 'streams copied, no re-encoding' : fix.mode === 'audio-reencode' ? 'audio re-encoded' : 're-encoded'})`);
    lines.push(`  after fix: ${after.synchronisable ? `offset ${fmt(after.offset ?? 0)} s, lag ${fmt(after.lag)} s, confidence ${after.confidence.toFixed(2)}` : `not synchronisable (${after.reason})`}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

async function evaluate(video: string | undefined, o: Options): Promise<void> {
  const { benchShifts, benchSynth, loadSyncModel, releaseSyncModel } = await import('../../models/av_sync/index.js');
  const { Progress } = await import('../../util/progress.js');
  const model = o.model ? loadSyncModel(o.model) : undefined;
  try {
    if (o.bench !== undefined) {
      const m = /^synth(?::(\d+))?$/.exec(o.bench);
      if (!m) throw new InputError(`--bench expects synth or synth:N, got "${o.bench}"`, { field: '--bench', got: o.bench });
      const clips = Number(m[1] ?? 20);
      const bar = new Progress({ label: 'sync bench', total: clips * 21, quiet: o.json });
      const r = await benchSynth({ clips, model, progress: (d) => bar.update(d) });
      bar.finish();
      if (o.json) return printJson(r);
      const rows = (['xcorr', 'model'] as const).filter((k) => r[k]).map((k) => {
        const s = r[k]!;
        return [k, s.n, s.acc1, s.accWithin1, s.synchronisable, s.acc1Synchronisable, s.ece, s.meanConfidence];
      });
      process.stdout.write(`AV-Synth (seed ${r.seed}): ${r.clips} fresh clips x 21 offsets, central 4.8 s windows, ${r.seconds.toFixed(1)} s\n`);
      process.stdout.write(formatTable(['method', 'windows', 'acc@1', 'acc within 1', 'synchronisable', 'acc@1 when synchronisable', 'ECE', 'mean confidence'], rows) + '\n');
      return;
    }
    if (!video) throw new InputError('--shifts needs a VIDEO', { field: 'video' });
    const r = await benchShifts(video, o.shifts!, { model });
    if (o.json) return printJson(r);
    const cell = (e?: { offset: number | null; lag: number; confidence: number; synchronisability: number }) =>
      !e ? '-' : e.offset === null ? `not sync. (lag ${fmt(e.lag)}, s=${e.synchronisability.toFixed(2)})` : `${fmt(e.offset)} (conf ${e.confidence.toFixed(2)}, s=${e.synchronisability.toFixed(2)})`;
    process.stdout.write(formatTable(['true shift', 'xcorr', 'model'], r.rows.map((row) => [fmt(row.shift), cell(row.xcorr), cell(row.model)])) + '\n');
    for (const [k, s] of Object.entries(r.summary)) process.stdout.write(`${k}: ${s.right} right (within 0.1 s), ${s.notSynchronisable} not synchronisable, ${s.wrong} wrong\n`);
  } finally {
    if (model) await releaseSyncModel(model);
  }
}

function list(flag: string) {
  return (v: string): number[] => {
    const xs = v.split(',').map((x) => Number(x.trim()));
    if (!xs.length || xs.some((x) => !Number.isFinite(x) || Math.abs(x) > 10)) throw new InputError(`${flag} expects comma-separated seconds in [-10, 10], got "${v}"`, { field: flag, got: v });
    return xs;
  };
}

function fmt(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
}

