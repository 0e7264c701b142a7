import { join, resolve } from 'node:path';
import { writeSynth } from '../data/synth/write.js';
import { resolveConfig } from '../train/config.js';
import { runTraining } from '../train/run.js';
import { readLog } from '../train/log.js';
import { writeReport } from '../report/html.js';
import { attentionHeatmap, curvesFromLog, secondsLabels, similarityHeatmap } from '../report/sections.js';
import type { Section } from '../report/spec.js';
import { generateClip } from '../data/synth/clip.js';
import { hostArray, type HostArray } from '../io/array.js';
import { asMatrix } from '../metrics/input.js';
import type { AnyTask } from '../train/task.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { freshOutDirs, prepareOutDir } from '../util/outdir.js';
import { describeError } from '../util/errors.js';
import { getTask } from '../models/registry.js';
import { avAlignTask, defaultAvData, synthSplits, type AvDataConfig } from '../models/av_align/task.js';
import { synthClipSet, synthFor } from '../models/av_align/data.js';
import { inspectAvAlign } from '../models/av_align/inspect.js';
import { SUITE_METRICS, improved } from '../models/av_align/metrics.js';
import { buildIndex } from '../models/av_retrieval/index_store.js';
import { DEMO_PARTS, EXTRA_DEMO_PARTS, type DemoPart, type ExtraPartResult } from './demo_parts.js';

/**
 * `attune demo`, the main job: synthesize AV-Synth (real MP4s through ffmpeg + the in-memory fast path), extract
 * features (cached), train av-align and av-sync with the trainer, evaluate (the metric-suite table before/after, sync
 * accuracy, retrieval recall in memory and over the decoded MP4s), and write one HTML report.
 *   <out>/report.html  summary.json  avsynth/ (MP4 + WAV + manifest)  av-align/ av-sync/ (trainer run folders)  cache/
 */
export interface DemoScale {
  /** in-memory AV-Synth clips for av-align (the last testClips are the retrieval test set) */
  alignClips: number;
  alignEpochs: number;
  valClips: number;
  testClips: number;
  /** in-memory clips for av-sync, and a cap on its steps (null: the task's own epochs) */
  syncClips: number;
  syncMaxSteps: number | null;
  syncEpochs: number | null;
  /** MP4 files written through ffmpeg, then decoded and indexed */
  files: number;
  batchSize: number;
}

export const DEMO_FULL: DemoScale = {
  alignClips: 650,
  alignEpochs: 16,
  valClips: 50,
  testClips: 100,
  syncClips: 320,
  syncMaxSteps: 500,
  syncEpochs: null,
  files: 24,
  batchSize: 32,
};
export const DEMO_QUICK: DemoScale = {
  alignClips: 160,
  alignEpochs: 4,
  valClips: 20,
  testClips: 40,
  syncClips: 40,
  syncMaxSteps: 40,
  syncEpochs: null,
  files: 6,
  batchSize: 16,
};

export interface DemoOptions {
  out?: string;
  quick?: boolean;
  /** overrides of the chosen scale (tests shrink it further) */
  scale?: Partial<DemoScale>;
  seed?: number;
  /** no progress output at all (tests); phase lines and bars go to stderr otherwise */
  quiet?: boolean;
  /** skip av-sync even when registered */
  skipSync?: boolean;
  /** which parts run (default all, DEMO_PARTS): align (av-align, retrieval), sync (av-sync), favor, ... */
  parts?: DemoPart[];
  /** write into a non-empty --out folder Attune did not create (its run folders are still only ever cleared when Attune made them) */
  force?: boolean;
}

export interface DemoSummary {
  out: string;
  report: string;
  seconds: number;
  phases: Record<string, number>;
  scale: DemoScale;
  parts: DemoPart[];
  align?: {
    run: string;
    steps: number;
    stepsPerSecond: number;
    before: Record<string, number>;
    after: Record<string, number>;
    allImproved: boolean;
    notImproved: string[];
  };
  retrieval?: {
    testClips: number;
    'a2v_R@1': number;
    'v2a_R@1': number;
    'a2v_R@5': number;
    'v2a_R@5': number;
    files: { indexed: number; failed: number; recall: Record<string, number> | null };
  };
  sync:
    { run: string; steps: number; before: Record<string, number>; after: Record<string, number> } | { skipped: string };
  /** what the heat maps show: the clip whose attention is drawn (with its impact times, s) and the similarity matrix size */
  visuals?: { attentionClip: string; impacts: number[]; similarityClips: number } | { skipped: string };
  /** the other parts' own summaries (favor, emotion, v2a), by part */
  extras: Record<string, Record<string, unknown>>;
}

/** Test clips in the similarity heat map (and inspected for the attention map). */
const SIMILARITY_CLIPS = 20;

const strip = (m: Record<string, number>, split: string): Record<string, number> =>
  Object.fromEntries(
    Object.entries(m)
      .filter(([k]) => k.startsWith(`${split}.`))
      .map(([k, v]) => [k.slice(split.length + 1), v]),
  );

export async function runDemo(opts: DemoOptions = {}): Promise<DemoSummary> {
  const out = resolve(opts.out ?? 'attune-demo');
  const scale: DemoScale = { ...(opts.quick ? DEMO_QUICK : DEMO_FULL), ...opts.scale };
  const seed = opts.seed ?? 0;
  const quiet = opts.quiet ?? false;
  const say = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  const t0 = Date.now();
  const phases: Record<string, number> = {};
  const phase = async <T>(name: string, what: string, fn: () => Promise<T>): Promise<T> => {
    say(`demo: ${what}`);
    const t = Date.now();
    const r = await fn();
    phases[name] = (Date.now() - t) / 1000;
    say(`demo: ${name} done in ${phases[name].toFixed(1)} s`);
    return r;
  };
  const parts = opts.parts ?? [...DEMO_PARTS];
  const withAlign = parts.includes('align');
  const withSync = parts.includes('sync') && !opts.skipSync;
  const extraParts = parts.filter((p): p is Exclude<DemoPart, 'align' | 'sync'> => p in EXTRA_DEMO_PARTS);
  // the run folders are the demo's own: start them fresh (the feature cache is kept); never clear what Attune did not create
  prepareOutDir(out, { by: 'attune demo', force: opts.force });
  const own = [...(withAlign ? ['av-align', 'avsynth'] : []), ...(withSync ? ['av-sync'] : []), ...extraParts];
  freshOutDirs(
    own.map((d) => join(out, d)),
    { by: 'attune demo' },
  );
  const cacheDir = join(out, 'cache');
  const data = {
    ...defaultAvData,
    valClips: scale.valClips,
    testClips: scale.testClips,
    synth: { ...defaultAvData.synth, seed },
  };
  const summary: DemoSummary = {
    out,
    report: join(out, 'report.html'),
    seconds: 0,
    phases,
    scale,
    parts,
    sync: { skipped: 'not asked for' },
    extras: {},
  };
  const alignSections: Section[] = [];
  if (withAlign)
    Object.assign(summary, await runAlignPart({ out, scale, data, seed, cacheDir, quiet, phase, say }, alignSections));

  const syncSections: Section[] = [];
  if (withSync) {
    try {
      const task = withFinalSections(await getTask('av-sync'), syncSections);
      const train: Record<string, unknown> = { seed, checkpointEvery: 0 };
      if (scale.syncMaxSteps !== null) train.maxSteps = scale.syncMaxSteps;
      if (scale.syncEpochs !== null) train.epochs = scale.syncEpochs;
      const cfg = resolveConfig(task, { source: 'synth', overrides: { train } });
      const sync = await phase(
        'av-sync',
        `training av-sync on ${scale.syncClips} in-memory clips with shifted audio`,
        () =>
          runTraining({
            task,
            config: cfg,
            source: { kind: 'synth', clips: scale.syncClips },
            out: join(out, 'av-sync'),
            cacheDir,
            quiet,
          }),
      );
      summary.sync = {
        run: sync.dir,
        steps: sync.steps,
        before: strip(sync.metrics?.before ?? {}, 'test'),
        after: strip(sync.metrics?.test ?? {}, 'test'),
      };
    } catch (err) {
      // integration point: the demo still reports the other parts when av-sync is missing or fails
      summary.sync = { skipped: `av-sync unavailable: ${describeError(err)}` };
      say(`demo: ${summary.sync.skipped}`);
    }
  } else if (opts.skipSync) summary.sync = { skipped: 'skipped by option' };

  const extraSections: Section[] = [];
  for (const name of extraParts) {
    const part = EXTRA_DEMO_PARTS[name];
    const r: ExtraPartResult = await phase(name, part.about, () =>
      part.run({ out: join(out, name), seed, quick: opts.quick ?? false, quiet }),
    );
    summary.extras[name] = r.summary;
    extraSections.push({ kind: 'text', title: part.title, text: r.text }, ...r.sections);
  }
  summary.seconds = (Date.now() - t0) / 1000;
  const sections = [
    ...reportSections(summary, out, alignSections, syncSections),
    ...extraSections,
    phaseTable(summary),
  ];
  writeReport(summary.report, {
    title: 'Attune demo',
    subtitle: `parts: ${parts.join(', ')}`,
    meta: reportMeta(summary),
    sections,
  });
  writeJsonAtomic(join(out, 'summary.json'), summary);
  say(`demo: report written to ${summary.report} (${summary.seconds.toFixed(1)} s in total)`);
  return summary;
}

interface AlignPartContext {
  out: string;
  scale: DemoScale;
  data: AvDataConfig;
  seed: number;
  cacheDir: string;
  quiet: boolean;
  phase: <T>(name: string, what: string, fn: () => Promise<T>) => Promise<T>;
  say: (line: string) => void;
}

/** The align part: write AV-Synth files, train av-align, index the decoded files, inspect the trained model. */
async function runAlignPart(
  c: AlignPartContext,
  sections: Section[],
): Promise<Pick<DemoSummary, 'align' | 'retrieval' | 'visuals'>> {
  const { out, scale, data, seed, cacheDir, quiet, phase } = c;
  const files = await phase(
    'synthesize',
    `writing ${scale.files} AV-Synth clips as MP4 + WAV through ffmpeg (held-out seed ${seed + 1000})`,
    () =>
      writeSynth({
        clips: scale.files,
        out: join(out, 'avsynth'),
        config: synthFor(data.features, { ...data.synth, seed: seed + 1000 }),
        quiet,
      }),
  );
  const alignCfg = resolveConfig(avAlignTask, {
    source: 'synth',
    overrides: {
      data,
      train: { seed, epochs: scale.alignEpochs, batchSize: scale.batchSize, evalBatchSize: 50, checkpointEvery: 0 },
    },
  });
  const align = await phase(
    'av-align',
    `AV-Synth features for ${scale.alignClips} in-memory clips (cached in ${cacheDir}), then training av-align`,
    () =>
      runTraining({
        task: avAlignTask,
        config: alignCfg,
        source: { kind: 'synth', clips: scale.alignClips },
        out: join(out, 'av-align'),
        cacheDir,
        quiet,
      }),
  );
  const index = await phase(
    'index',
    `decoding and indexing the ${files.files} MP4/WAV files with the trained av-align`,
    () =>
      buildIndex(join(out, 'avsynth', 'clips'), {
        model: join(out, 'av-align'),
        out: join(out, 'avsynth', 'index'),
        quiet,
      }),
  );
  let visuals: Visuals | { skipped: string };
  try {
    visuals = await phase(
      'inspect',
      `attention maps and test-set similarities of the trained av-align (${SIMILARITY_CLIPS} test clips)`,
      () => inspectTrainedAlign(join(out, 'av-align'), data, scale.alignClips, cacheDir),
    );
  } catch (err) {
    // the diagnostics are extras: the report still comes out without them
    visuals = { skipped: `av-align diagnostics unavailable: ${describeError(err)}` };
    c.say(`demo: ${visuals.skipped}`);
  }
  if (!('skipped' in visuals)) sections.push(...visuals.sections);
  const before = strip(align.metrics?.before ?? {}, 'test');
  const after = strip(align.metrics?.test ?? {}, 'test');
  const notImproved = SUITE_METRICS.filter(
    (m) => m.key in before && m.key in after && !improved(m, before[m.key], after[m.key]),
  ).map((m) => m.label);
  const alignSteps = readLog(join(out, 'av-align', 'log.jsonl')).filter((l) => l.type === 'step');
  const trainSeconds = alignSteps.length > 1 ? Number(alignSteps.at(-1)!.time) - Number(alignSteps[0].time) : NaN;
  return {
    align: {
      run: align.dir,
      steps: align.steps,
      stepsPerSecond: (alignSteps.length - 1) / trainSeconds,
      before,
      after,
      allImproved: notImproved.length === 0,
      notImproved,
    },
    retrieval: {
      testClips: scale.testClips,
      'a2v_R@1': after['a2v_R@1'],
      'v2a_R@1': after['v2a_R@1'],
      'a2v_R@5': after['a2v_R@5'],
      'v2a_R@5': after['v2a_R@5'],
      files: { indexed: index.indexed, failed: index.failed.length, recall: index.recall },
    },
    visuals: 'skipped' in visuals ? visuals : visuals.summary,
  };
}

function reportMeta(s: DemoSummary): Record<string, string | number> {
  return {
    'total time': `${s.seconds.toFixed(1)} s`,
    ...(s.align ? { 'av-align': `${s.align.steps} steps, ${s.align.stepsPerSecond.toFixed(2)} steps/s` } : {}),
    ...(s.retrieval ? { 'retrieval test clips': s.retrieval.testClips } : {}),
    output: s.out,
  };
}

function phaseTable(s: DemoSummary): Section {
  return {
    kind: 'table',
    title: 'Time per phase (s)',
    columns: ['phase', 'seconds'],
    rows: Object.entries(s.phases).map(([k, v]) => [k, v]),
  };
}

/** The task with its final (test) evaluation's report sections copied into `into` (runTraining returns only metrics). */
function withFinalSections(task: AnyTask, into: Section[]): AnyTask {
  return {
    ...task,
    async evaluate(ctx) {
      const r = await task.evaluate(ctx);
      if (ctx.final) into.push(...(r.sections ?? []));
      return r;
    },
  };
}

interface Visuals {
  summary: { attentionClip: string; impacts: number[]; similarityClips: number };
  sections: Section[];
}

/**
 * The trained av-align on the first test clips (features from the cache): the audio/video similarity matrix, and
 * for one clip with a few impacts, where its audio frames look in the video (mean over heads of the last layer).
 */
async function inspectTrainedAlign(
  runDir: string,
  data: AvDataConfig,
  clips: number,
  cacheDir: string,
): Promise<Visuals> {
  const indices = synthSplits(clips, data).test.slice(0, SIMILARITY_CLIPS);
  const set = await synthClipSet({ indices, synth: data.synth, features: data.features, cacheDir, workers: 1 });
  const rows = indices.map((_, i) => i);
  const { outputs: o, rate, model } = await inspectAvAlign(runDir, set, rows);
  const names = indices.map((k) => `clip ${k}`);
  const similarity = {
    ...similarityHeatmap(asMatrix(o.audio_embedding, 'audio'), asMatrix(o.video_embedding, 'video'), {
      limit: SIMILARITY_CLIPS,
      rowName: 'audio clip (query)',
      colName: 'video clip',
    }),
    title: `Test-set audio-video similarity: cosine of the trained clip embeddings, first ${indices.length} test clips (diagonal = true pairs)`,
    rowLabels: names,
    colLabels: names,
  };
  const synth = synthFor(data.features, data.synth);
  const clipsInfo = indices.map((k) => generateClip(synth, k, { video: false, audio: false }));
  // a clip with a few distinct impacts reads best: the attention should gather on the frames where they are seen
  const pick = Math.max(
    0,
    clipsInfo.findIndex((c) => c.events.length >= 2 && c.events.length <= 5),
  );
  const clip = clipsInfo[pick];
  const impacts = clip.events.map((e) => Math.round(e.time * 100) / 100);
  const sections: Section[] = [similarity];
  const att = o.attention_audio_to_video;
  if (att) {
    const [, heads, tq, tk] = att.shape;
    const per = heads * tq * tk;
    const one: HostArray = hostArray(
      'float32',
      [heads, tq, tk],
      Float32Array.from((att.data as Float32Array).subarray(pick * per, (pick + 1) * per)),
    );
    const labels = secondsLabels(tq, rate);
    sections.push({
      kind: 'text',
      title: 'Reading the attention map',
      text: `Each row is one audio frame (1/${rate} s) of the clip; the colors in that row are how its attention is spread over the video frames (each row sums to 1). Columns that stay dark down the map are video frames the audio keeps looking at: if the model has learned that sounds come from visible impacts, they sit at the impact times in the title.`,
    });
    sections.push({
      ...attentionHeatmap(one, {
        queryLabels: labels,
        keyLabels: secondsLabels(tk, rate),
        queryName: 'audio frame (query)',
        keyName: 'video frame (key)',
      }),
      title: `av-align cross-modal attention on test clip ${indices[pick]} ("${clip.caption}"): audio frames attending video frames, mean over ${heads} heads of cross-modal layer ${model.crossLayers}; impacts (seen and heard) at ${impacts.map((t) => `${t.toFixed(2)} s`).join(', ') || 'none'}`,
    });
  }
  return { summary: { attentionClip: clip.id, impacts, similarityClips: indices.length }, sections };
}

function reportSections(s: DemoSummary, out: string, alignVisuals: Section[], syncVisuals: Section[]): Section[] {
  const sections: Section[] =
    s.align && s.retrieval && s.visuals
      ? alignReportSections({ ...s, align: s.align, retrieval: s.retrieval, visuals: s.visuals }, out, alignVisuals)
      : [];
  if ('run' in s.sync) {
    const sy = s.sync;
    const keys = ['acc1', 'acc_within1', 'mae_s', 'ece', 'sync_auc'].filter((k) => k in sy.after);
    sections.push({
      kind: 'table',
      title: 'av-sync on the test split (offset grid ±2 s, 0.2 s steps)',
      columns: ['metric', 'untrained', 'trained'],
      rows: keys.map((k) => [k, sy.before[k] ?? null, sy.after[k]]),
    });
    sections.push(...syncVisuals);
  } else sections.push({ kind: 'text', title: 'av-sync', text: s.sync.skipped });
  for (const [name, dir] of [
    ['av-align', 'av-align'],
    ['av-sync', 'av-sync'],
  ] as const) {
    if ((name === 'av-sync' && !('run' in s.sync)) || (name === 'av-align' && !s.align)) continue;
    const steps = readLog(join(out, dir, 'log.jsonl'))
      .filter((l) => l.type === 'step')
      .map((l) => ({ step: l.step, loss: Number(l.loss) }));
    sections.push(curvesFromLog(`${name} training loss`, steps, ['loss']));
  }
  return sections;
}

type AlignSummary = DemoSummary & Required<Pick<DemoSummary, 'align' | 'retrieval' | 'visuals'>>;

function alignReportSections(s: AlignSummary, out: string, alignVisuals: Section[]): Section[] {
  const sections: Section[] = [];
  const verdict = s.align.allImproved
    ? 'every suite metric moved in its better direction'
    : `not improved: ${s.align.notImproved.join(', ')}`;
  sections.push({
    kind: 'text',
    title: 'What ran',
    text: `AV-Synth clips were rendered in memory for training and ${s.retrieval.files.indexed} were written as MP4 + WAV through ffmpeg and decoded back for the file index. av-align (design source 000: encoders, cross-modal transformer, fusion, audio-feature decoder, alignment head, contrastive embeddings) trained for ${s.align.steps} steps; ${verdict}.\n\nRun folders with their own reports: ${join(out, 'av-align', 'report.html')}${'run' in s.sync ? `, ${join(out, 'av-sync', 'report.html')}` : ''}.`,
  });
  sections.push({
    kind: 'table',
    title: `Alignment metric suite on ${s.retrieval.testClips} test clips: untrained vs trained av-align`,
    columns: ['metric', 'untrained', 'trained', 'direction', 'improved'],
    rows: SUITE_METRICS.filter((m) => m.key in s.align.before && m.key in s.align.after).map((m) => [
      m.label,
      s.align.before[m.key],
      s.align.after[m.key],
      `${m.better} is better`,
      improved(m, s.align.before[m.key], s.align.after[m.key]) ? 'yes' : 'NO',
    ]),
  });
  const r = s.retrieval;
  const fileRecall = r.files.recall;
  sections.push({
    kind: 'table',
    title: 'Retrieval recall',
    columns: ['set', 'clips', 'a2v R@1', 'v2a R@1', 'a2v R@5', 'v2a R@5'],
    rows: [
      ['in-memory test split', r.testClips, r['a2v_R@1'], r['v2a_R@1'], r['a2v_R@5'], r['v2a_R@5']],
      ...(fileRecall
        ? [
            [
              'decoded MP4 files (index)',
              fileRecall.clips,
              fileRecall['a2v_R@1'],
              fileRecall['v2a_R@1'],
              fileRecall['a2v_R@5'],
              fileRecall['v2a_R@5'],
            ],
          ]
        : []),
    ],
  });
  if ('skipped' in s.visuals) sections.push({ kind: 'text', title: 'av-align heat maps', text: s.visuals.skipped });
  sections.push(...alignVisuals);
  return sections;
}

/** A plain-text summary for the terminal (the CLI prints it after runDemo unless --json). */
export function formatDemoSummary(s: DemoSummary): string {
  const f = (v: number | undefined) =>
    v === undefined || !Number.isFinite(v) ? 'n/a' : Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4);
  const lines = [
    `Attune demo finished in ${s.seconds.toFixed(1)} s (${Object.entries(s.phases)
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
      .join(', ')})`,
    '',
  ];
  if (s.align && s.retrieval) lines.push(...formatAlign({ ...s, align: s.align, retrieval: s.retrieval }, f));
  if ('run' in s.sync)
    lines.push(
      `av-sync offset accuracy@1 ${f(s.sync.after.acc1)} (untrained ${f(s.sync.before.acc1)}), within one class ${f(s.sync.after.acc_within1)}`,
    );
  else lines.push(`av-sync: ${s.sync.skipped}`);
  for (const [name, part] of Object.entries(s.extras))
    lines.push(`${name}: ${String(part.headline ?? JSON.stringify(part))}`);
  lines.push('', `report: ${s.report}`);
  return lines.join('\n');
}

function formatAlign(
  s: DemoSummary & Required<Pick<DemoSummary, 'align' | 'retrieval'>>,
  f: (v: number | undefined) => string,
): string[] {
  const lines: string[] = [];
  lines.push(
    `av-align suite metrics on ${s.retrieval.testClips} test clips (${s.align.steps} steps, ${s.align.stepsPerSecond.toFixed(2)} steps/s):`,
  );
  const rows = SUITE_METRICS.filter((m) => m.key in s.align.before && m.key in s.align.after).map((m) => [
    m.label,
    f(s.align.before[m.key]),
    f(s.align.after[m.key]),
    improved(m, s.align.before[m.key], s.align.after[m.key]) ? 'better' : 'NOT better',
  ]);
  const w = [0, 1, 2, 3].map((i) =>
    Math.max(...[['metric', 'untrained', 'trained', ''], ...rows].map((r) => r[i].length)),
  );
  for (const r of [['metric', 'untrained', 'trained', ''], ...rows])
    lines.push(`  ${r.map((c, i) => c.padEnd(w[i])).join('  ')}`.trimEnd());
  const fr = s.retrieval.files.recall;
  lines.push(
    '',
    `retrieval R@1 among ${s.retrieval.testClips} test clips: audio->video ${f(s.retrieval['a2v_R@1'])}, video->audio ${f(s.retrieval['v2a_R@1'])}`,
  );
  if (fr)
    lines.push(
      `retrieval over ${fr.clips} decoded MP4 files: audio->video R@1 ${f(fr['a2v_R@1'])}, video->audio R@1 ${f(fr['v2a_R@1'])}`,
    );
  return lines;
}
