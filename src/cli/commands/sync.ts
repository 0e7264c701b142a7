import type { Command } from 'commander';
import { resolve } from 'node:path';
import { shippedSyncModel } from '../../models/av_sync/model_cue.js';
import { InputError } from '../../util/errors.js';
import type { SyncModel } from '../../models/av_sync/infer.js';
import type { CueKind } from '../../models/av_sync/calibration.js';
import type { SyncTimeline } from '../../models/av_sync/timeline.js';
import { formatTable, printJson } from '../output.js';
import { number, numberList, oneOf, seconds, signedSeconds, synthCount } from '../parse.js';
import { BATCH_HELP, addBatchOptions, runBatchCommand, type BatchCliOptions } from '../batch.js';
import { inputType } from '../../jobs/inputs.js';

/**
 * `attune sync VIDEO`: how far the sound is out of sync with the picture, on the +-2 s / 0.2 s grid, with a
 * calibrated confidence and a synchronizability score; `--fix OUT` writes a corrected copy with ffmpeg.
 */
export function register(program: Command): void {
  const cmd = program
    .command('sync')
    .description(
      'estimate the audio-video offset of a video (seconds, positive = audio late), its confidence and synchronizability; --fix writes a corrected copy; a folder or manifest: every file, whole',
    )
    .argument(
      '[video]',
      'a video file with sound (any container ffmpeg reads), a folder of them (searched recursively) or a manifest .jsonl',
    )
    .option(
      '--method <m>',
      'auto (sound events and lips, calibrated on real clips), model (the learned av-sync model, needs --model) or xcorr (the AV-Synth baseline); default: model when --model is given, else auto',
      oneOf('--method', ['auto', 'model', 'xcorr'] as const),
    )
    .option(
      '--timeline',
      'auto: also the offset per 6 s window (stride 2 s) and the drift in seconds per minute (Theil-Sen fit)',
    )
    .option('--report <html>', 'with --timeline: write a self-contained HTML report with the offset-over-time chart')
    .option('--no-faces', 'auto: skip face landmarks (the lip cue); sound events only, faster')
    .option(
      '--min-confidence <p>',
      'auto: withhold the offset below this calibrated confidence (0..1, default 0.8); 0 shows what would be withheld',
      number('--min-confidence', { min: 0, max: 1 }),
    )
    .option(
      '--model <path>',
      'a trained av-sync run folder (attune train av-sync ... --out DIR) or its best.safetensors; with --method auto, used as the learned cue',
    )
    .option(
      '--learned',
      'auto: add the learned cue (the model shipped in weights/av-sync, or --model RUN). Off by default: on the held-out real clips it changed no answer and lowered best-lag accuracy (75.3 -> 68.8 %; docs/sync.md)',
    )
    .option('--start <s>', 'analyse from this time (seconds)', seconds('--start'))
    .option('--duration <s>', 'analyse this many seconds', seconds('--duration'))
    .option(
      '--fix <out>',
      'write a copy with the audio moved by the measured offset (stream copy when possible), only if the copy verifies (see below)',
    )
    .option(
      '--offset <s>',
      'with --fix: apply this offset (seconds, positive = audio late) instead of the measured one',
      signedSeconds('--offset'),
    )
    .option(
      '--shifts <list>',
      'evaluate instead: copies of VIDEO with the audio moved by these seconds (e.g. --shifts=-1,-0.4,0,0.4,1), measured by xcorr and the model',
      numberList('--shifts', { min: -10, max: 10, maxCount: 100, unit: 'seconds' }),
    )
    .option(
      '--bench <spec>',
      'evaluate instead: synth:N (N fresh AV-Synth clips x 21 offsets, xcorr and the model) or real:dev / real:held-out (the real clips of that part x 7 shifts, old xcorr, untrained baseline and auto, and --fix simulated)',
    )
    .option(
      '--real-dir <dir>',
      'with --bench real:*: the real clips and their catalog.jsonl (default ../shared/media/real or $ATTUNE_REAL_MEDIA)',
    )
    .option(
      '--fold-models <runs>',
      'with --bench real:dev: the learned cue cross-fitted: run k (comma-separated) measures the dev clips of fold k (trained with data.real.folds / fold = k, so it never saw them)',
    )
    .option(
      '--fold-lip-nets <dirs>',
      'with --bench real:dev: the lip nets the lip cue checks itself against, cross-fitted: net k (comma-separated; attune bench sync-lips writes runs/lip-sync-fold<k>) measures the dev talking heads of fold k, which it never saw',
    )
    .option(
      '--fit-calibration',
      'with --bench real:dev: also fit the confidence calibration on these cases and print its weights',
      false,
    )
    .option('--json', 'print the result as JSON', false)
    .option('--out <dir>', 'folders and manifests: where results.jsonl and summary.csv go')
    .option(
      '--segment <s>',
      'folders and manifests: seconds per analysed window; each window of a file gets its own offset, plus the file overall (default 60)',
      seconds('--segment'),
    );
  addBatchOptions(cmd, 'unreadable, no video stream');
  cmd
    .addHelpText(
      'after',
      `
Output: the offset on the 21-class grid (-2.0 ... +2.0 s in 0.2 s steps; positive = the audio is late), the
continuous lag and the confidence. With auto (the default) the confidence is the probability that the lag is
within 0.2 s, calibrated on real clips (docs/sync.md); below --min-confidence the offset is withheld, and the best
lag, its confidence and the reason are printed instead. --method xcorr is the AV-Synth baseline with its gates.

--fix OUT writes OUT only when the correction is verified: the corrected copy is measured again by the same
estimator and by an independent cue and must be within 0.2 s of zero (docs/sync.md). Exit codes: 0 written;
3 refused, confidence below --min-confidence (pass --offset S to apply a known shift); 4 refused, the corrected
copy did not verify or --offset disagrees with a confident measurement. A refused fix writes nothing.

Without --model the xcorr baseline runs. Train a model on AV-Synth or your own videos:
  attune train av-sync --data synth:300 --out runs/av-sync
  attune train av-sync --data my_videos.jsonl --out runs/my-sync
  attune sync clip.mp4 --model runs/av-sync

A single file is analysed as a whole. A folder or manifest:
  attune sync videos/ --out sync-results [--model runs/av-sync] [--jobs 4] [--segment 60]
Each file is covered whole, cut into --segment windows (equal parts of at least that many seconds; a file
shorter than two windows is one window, with exactly the numbers 'attune sync FILE' gives); each window gets its
own offset, confidence and synchronizability, and the file an overall offset (class probabilities averaged
over its synchronizable windows) and its drift (largest minus smallest window offset).
${BATCH_HELP}`,
    )
    .action(async (video: string | undefined, o: Options) => {
      const { loadSyncModel, releaseSyncModel } = await import('../../models/av_sync/index.js');
      if (video && inputType(video) !== 'file') return batch(video, o);
      if (o.out !== undefined || o.queue !== undefined)
        throw new InputError(
          '--out and --queue apply to a folder or manifest; for a corrected copy of one file use --fix OUT',
          { field: o.out !== undefined ? '--out' : '--queue' },
        );
      if (o.bench !== undefined || o.shifts !== undefined) return evaluate(video, o);
      if (!video) throw new InputError('attune sync needs a VIDEO (or --bench synth:N)', { field: 'video' });
      if (o.method === 'model' && !o.model) {
        throw new InputError(
          '--method model needs --model DIR (a run folder from: attune train av-sync --data synth:300 --out DIR)',
          { field: '--model' },
        );
      }
      if (o.offset !== undefined && !o.fix)
        throw new InputError('--offset only applies with --fix OUT', { field: '--offset' });
      const method = (o.method ?? (o.model ? 'model' : 'auto')) as 'model' | 'xcorr' | 'auto';
      // Every fix is measured by auto and verified by an independent cue (fix_check.ts); no unverified write path.
      if (o.fix) return fixVerified(video, o);
      const model = method === 'model' ? loadSyncModel(o.model as string) : undefined;
      try {
        await analyse(video, o, method, model);
      } finally {
        if (model) await releaseSyncModel(model);
      }
    });
}

/** auto's learned cue: --model RUN, else the shipped weights with --learned, else none. */
function learnedModelPath(o: Options): string | false {
  if (typeof o.model === 'string') return o.model;
  if (!o.learned) return false;
  const path = shippedSyncModel();
  if (!path) throw new InputError('--learned: this installation has no weights/av-sync folder', { field: '--learned' });
  return path;
}

interface Options extends Omit<BatchCliOptions, 'model'> {
  learned?: boolean;
  method?: string;
  /** A run folder. */
  model?: string | false;
  start?: number;
  duration?: number;
  fix?: string;
  offset?: number;
  shifts?: number[];
  bench?: string;
  json: boolean;
  minConfidence?: number;
  realDir?: string;
  foldModels?: string;
  foldLipNets?: string;
  fitCalibration: boolean;
  faces: boolean;
  timeline?: boolean;
  report?: string;
  segment?: number;
}

async function batch(input: string, o: Options): Promise<void> {
  for (const [flag, v] of [
    ['--fix', o.fix],
    ['--offset', o.offset],
    ['--shifts', o.shifts],
    ['--bench', o.bench],
    ['--start', o.start],
    ['--duration', o.duration],
    ['--timeline', o.timeline],
    ['--report', o.report],
  ] as const) {
    if (v !== undefined)
      throw new InputError(
        `${flag} applies to a single file, not to a folder or manifest${flag === '--start' || flag === '--duration' ? ' (give manifest lines a start and end instead)' : ''}`,
        { field: flag },
      );
  }
  if (o.method === 'model' && !o.model)
    throw new InputError(
      '--method model needs --model DIR (a run folder from: attune train av-sync --data synth:300 --out DIR)',
      { field: '--model' },
    );
  const options: Record<string, unknown> = {
    ...(o.method ? { method: o.method } : {}),
    faces: o.faces,
    ...(o.model ? { model: resolve(o.model) } : {}),
    ...(o.segment !== undefined ? { segment: o.segment } : {}),
  };
  await runBatchCommand('sync', input, options, o);
}

/** The face stack's mouth track, unless --no-faces. */
async function mouthTracks(o: Options) {
  if (!o.faces) return undefined;
  const { faceMesh, mouthTrackOf } = await import('../../models/av_sync/index.js');
  // Convert and load the face models while ffmpeg decodes the clip (a failure surfaces in mouthTrackOf).
  faceMesh().catch(() => undefined);
  return mouthTrackOf;
}

async function analyse(
  video: string,
  o: Options,
  method: 'model' | 'xcorr' | 'auto',
  model: SyncModel | undefined,
): Promise<void> {
  const { syncFile, describeEstimate, cueDescription } = await import('../../models/av_sync/index.js');
  const wantTimeline = Boolean(o.timeline || o.report);
  if (wantTimeline && method !== 'auto')
    throw new InputError('--timeline and --report need --method auto', { field: '--timeline' });
  const r = await syncFile(video, {
    method,
    // auto: the learned cue from --model, else the shipped weights with --learned, else none.
    model: method === 'auto' ? learnedModelPath(o) : model,
    start: o.start,
    duration: o.duration,
    minConfidence: o.minConfidence,
    mouthTrack: await mouthTracks(o),
    timeline: wantTimeline,
  });
  const note =
    method === 'auto'
      ? `auto: ${cueDescription((r as { cue?: CueKind }).cue ?? 'onset')} (confidence calibrated on real clips)`
      : method === 'model'
        ? `model ${model!.source}`
        : 'xcorr baseline';
  const timeline = r.timeline;
  if (timeline && o.report) await writeTimelineReport(video, timeline, o.report);
  if (o.json) {
    const { probs, ...rest } = r;
    printJson({ ...rest, method, via: note, probs: probs.map((p) => Math.round(p * 1e4) / 1e4) });
    return;
  }
  const lines = [
    `${video}: ${describeEstimate(r)}`,
    `  method: ${note}; ${r.windows} window(s); ${r.timing.total.toFixed(2)} s (decode ${r.timing.decode.toFixed(2)} s)`,
  ];
  if (timeline) {
    lines.push(
      formatTable(
        ['window (s)', 'lag (s)', 'confidence', 'cue', 'answered'],
        timeline.windows.map((w) => [
          `${w.start.toFixed(1)}-${w.end.toFixed(1)}`,
          fmt(w.lag),
          w.confidence.toFixed(2),
          w.cue,
          w.answered ? 'yes' : 'no',
        ]),
      ),
    );
    lines.push(
      timeline.drift
        ? `  drift ${fmt(timeline.drift.secondsPerMinute)} s per minute (Theil-Sen over ${timeline.drift.windowsUsed} answered windows; lag at 0 s ${fmt(timeline.drift.lagAtStart)} s)`
        : `  drift: not measured (${timeline.reason})`,
    );
    if (o.report) lines.push(`  report: ${o.report}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

async function writeTimelineReport(video: string, t: SyncTimeline, path: string): Promise<void> {
  const { writeReport } = await import('../../report/index.js');
  const center = (w: { start: number; end: number }) => Math.round(((w.start + w.end) / 2) * 100) / 100;
  const answered = t.windows.filter((w) => w.answered);
  writeReport(path, {
    title: `attune sync: ${video}`,
    meta: {
      windows: t.windows.length,
      answered: answered.length,
      drift: t.drift ? `${t.drift.secondsPerMinute} s/min` : `not measured (${t.reason})`,
    },
    sections: [
      {
        kind: 'curves',
        title: 'Offset over the file (positive = audio late)',
        xName: 'window center (s)',
        yName: 'lag (s)',
        series: [
          { name: 'best lag, every window', x: t.windows.map(center), y: t.windows.map((w) => w.lag) },
          { name: 'answered windows', x: answered.map(center), y: answered.map((w) => w.lag) },
          ...(t.drift
            ? [
                {
                  name: 'Theil-Sen drift fit',
                  x: t.windows.map(center),
                  y: t.windows.map((w) => t.drift!.lagAtStart + (t.drift!.secondsPerMinute / 60) * center(w)),
                },
              ]
            : []),
        ],
      },
      {
        kind: 'table',
        title: 'Windows',
        columns: ['start (s)', 'end (s)', 'lag (s)', 'confidence', 'cue', 'answered'],
        rows: t.windows.map((w) => [w.start, w.end, w.lag, w.confidence, w.cue, w.answered ? 'yes' : 'no']),
        digits: 3,
      },
    ],
  });
}

async function evaluate(video: string | undefined, o: Options): Promise<void> {
  const { benchShifts, benchSynth, loadSyncModel, releaseSyncModel } = await import('../../models/av_sync/index.js');
  const { Progress } = await import('../../util/progress.js');
  const model = o.model ? loadSyncModel(o.model) : undefined;
  try {
    if (o.bench?.startsWith('real')) return benchRealCli(o);
    if (o.bench !== undefined) {
      const clips = synthCount('--bench', o.bench, { max: 10_000, fallback: 20 });
      const bar = new Progress({ label: 'sync bench', total: clips * 21, quiet: o.json });
      const r = await benchSynth({ clips, model, progress: (d) => bar.update(d) });
      bar.finish();
      if (o.json) return printJson(r);
      const rows = (['xcorr', 'model'] as const)
        .filter((k) => r[k])
        .map((k) => {
          const s = r[k]!;
          return [k, s.n, s.acc1, s.accWithin1, s.synchronizable, s.acc1Synchronizable, s.ece, s.meanConfidence];
        });
      process.stdout.write(
        `AV-Synth (seed ${r.seed}): ${r.clips} fresh clips x 21 offsets, central 4.8 s windows, ${r.seconds.toFixed(1)} s\n`,
      );
      process.stdout.write(
        formatTable(
          [
            'method',
            'windows',
            'acc@1',
            'acc within 1',
            'synchronizable',
            'acc@1 when synchronizable',
            'ECE',
            'mean confidence',
          ],
          rows,
        ) + '\n',
      );
      return;
    }
    if (!video) throw new InputError('--shifts needs a VIDEO', { field: 'video' });
    const r = await benchShifts(video, o.shifts!, { model });
    if (o.json) return printJson(r);
    const cell = (e?: { offset: number | null; lag: number; confidence: number; synchronizability: number }) =>
      !e
        ? '-'
        : e.offset === null
          ? `not sync. (lag ${fmt(e.lag)}, s=${e.synchronizability.toFixed(2)})`
          : `${fmt(e.offset)} (conf ${e.confidence.toFixed(2)}, s=${e.synchronizability.toFixed(2)})`;
    process.stdout.write(
      formatTable(
        ['true shift', 'xcorr', 'model'],
        r.rows.map((row) => [fmt(row.shift), cell(row.xcorr), cell(row.model)]),
      ) + '\n',
    );
    for (const [k, s] of Object.entries(r.summary))
      process.stdout.write(
        `${k}: ${s.right} right (within 0.1 s), ${s.notSynchronizable} not synchronizable, ${s.wrong} wrong\n`,
      );
  } finally {
    if (model) await releaseSyncModel(model);
  }
}

async function fixVerified(video: string, o: Options): Promise<void> {
  const { verifiedFix } = await import('../../models/av_sync/index.js');
  const r = await verifiedFix(video, o.fix!, {
    offset: o.offset,
    minConfidence: o.minConfidence,
    mouthTrack: await mouthTracks(o),
  });
  process.exitCode = r.exitCode;
  const before = {
    lag: r.before.lag,
    offset: r.before.offset,
    confidence: r.before.confidence,
    cue: r.before.cue,
    reason: r.before.reason,
  };
  if (o.json)
    return printJson({
      file: video,
      output: r.written?.output ?? null,
      written: r.ok,
      exitCode: r.exitCode,
      reason: r.reason,
      offset: r.offset,
      before,
      after: r.after,
      mode: r.written?.mode,
    });
  const lines = [
    `${video}: measured ${fmt(r.before.lag)} s by the ${r.before.cue} cue, confidence ${r.before.confidence.toFixed(2)}${o.offset !== undefined ? `; applying --offset ${fmt(o.offset)} s` : ''}`,
  ];
  if (r.after)
    lines.push(
      `  corrected copy: ${fmt(r.after.lag)} s (confidence ${r.after.confidence.toFixed(2)}); independent ${r.after.independent.cue} cue: ${fmt(r.after.independent.lag)} s`,
    );
  lines.push(
    r.ok
      ? `  wrote ${r.written!.output} (audio moved ${fmt(r.written!.shift)} s); ${r.reason}`
      : `  ${r.reason}; nothing written (exit code ${r.exitCode})`,
  );
  process.stdout.write(lines.join('\n') + '\n');
}

async function benchRealCli(o: Options): Promise<void> {
  const { benchReal, fitCalibration, defaultRealDir, realBenchClips, REAL_SHIFTS } =
    await import('../../models/av_sync/index.js');
  const { learnedCue, loadSyncModel, releaseSyncModel, realFold, lipFold, loadLipWeights } =
    await import('../../models/av_sync/index.js');
  const { Progress } = await import('../../util/progress.js');
  const part = o.bench === 'real:dev' ? 'dev' : o.bench === 'real:held-out' ? 'held-out' : undefined;
  if (!part)
    throw new InputError(`--bench expects real:dev or real:held-out, got "${o.bench}"`, {
      field: '--bench',
      got: o.bench,
    });
  const dir = o.realDir ?? defaultRealDir();
  const bar = new Progress({
    label: `sync ${o.bench}`,
    total: realBenchClips(dir, part).length * REAL_SHIFTS.length,
    quiet: o.json,
  });
  // auto's learned cue: --fold-models (clip i measured by the run of its fold), else --model RUN, else the shipped
  // weights with --learned; none by default.
  const learnedPath = learnedModelPath(o);
  const paths = o.foldModels ? o.foldModels.split(',') : learnedPath ? [learnedPath] : [];
  const models = paths.map((p) => loadSyncModel(p));
  const lipNets = o.foldLipNets?.split(',').map((p) => loadLipWeights(p));
  const r = await benchReal({
    dir,
    part,
    minConfidence: o.minConfidence,
    mouthTrack: await mouthTracks(o),
    learned: models.length ? (f, i) => learnedCue(f, models[realFold(i, models.length)]) : undefined,
    lipNet: lipNets ? (file) => lipNets[lipFold(dir, file, lipNets.length)] : undefined,
    progress: (d) => bar.update(d),
  }).finally(() => Promise.all(models.map((m) => releaseSyncModel(m))));
  bar.finish();
  const calibration = o.fitCalibration ? fitCalibration(r.cases) : undefined;
  if (o.json) return printJson({ ...r, ...(calibration ? { calibration } : {}) });
  const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '-');
  process.stdout.write(
    `real ${part}: ${r.clips.length} clips x ${r.shifts.length} shifts = ${r.cases.length} cases, ${r.seconds.toFixed(1)} s\n`,
  );
  process.stdout.write(
    formatTable(
      ['method', 'answered', 'within 0.2 s when answered', 'confident-wrong', 'best lag within 0.2 s'],
      Object.entries(r.summary).map(([k, s]) => [
        k,
        pct(s.answered),
        pct(s.rightWhenAnswered),
        pct(s.confidentWrong),
        pct(s.bestLagRight),
      ]),
    ) + '\n',
  );
  process.stdout.write(
    formatTable(
      ['stratum', 'cases', 'auto answered', 'auto right'],
      Object.entries(r.byStratum).map(([k, s]) => [k, s.cases, s.autoAnswered, s.autoRight]),
    ) + '\n',
  );
  process.stdout.write(
    formatTable(
      [
        'lip cue alone',
        'cases',
        'frame within +-1',
        'refined within 40 ms',
        'within 0.2 s',
        'lag scorer within +-1',
        'answer within +-1',
        'answered: within +-1',
      ],
      Object.entries(r.lips).map(([k, s]) => [
        k,
        s.cases,
        s.withinFrame,
        s.refinedWithin40ms,
        s.within02s,
        s.fusedWithinFrame,
        s.answerWithinFrame,
        `${s.answeredWithinFrame} of ${s.answered}`,
      ]),
    ) + '\n',
  );
  process.stdout.write(
    `auto ECE (confidence vs within 0.2 s): ${r.ece.toFixed(3)}\n--fix simulated: ${r.fix.fixed} written (${r.fix.improved} improved, ${r.fix.worse} made worse), ${r.fix.refused} refused\n`,
  );
  if (calibration) process.stdout.write(`calibration: ${JSON.stringify(calibration)}\n`);
}

function fmt(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
}
