/**
 * `attune synth avqa`: questions.jsonl (one question per line), scenes.jsonl (each scene's ground
 * truth), vocab.json (the word tokenizer), avqa.json (settings, counts, templates, tolerances and the
 * question-only baselines) and, with `media`, an MP4 + WAV per scene and per altered audio through
 * the AV-Synth writer (ffmpeg), listed in manifest.jsonl and named in each question (video, wav).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic.js';
import { Progress } from '../../util/progress.js';
import { BatchFailure, runBatch } from '../batch.js';
import { ManifestItem, writeManifest } from '../manifest.js';
import { clipId, generateClip } from '../synth/clip.js';
import { writeClipFiles } from '../synth/write.js';
import { AVQA_FAMILIES, AvqaConfig, avqaConfig, sceneDuration, sceneId, sceneSynthConfig } from './config.js';
import { BaselineRow, formatBaselines, questionOnlyBaselines } from './baseline.js';
import { AvqaQuestion, generateAvqa } from './generate.js';
import { AVQA_TEMPLATES, AVQA_TOLERANCES, type AvqaAudio } from './templates.js';
import type { AvqaScene } from './scene.js';
import { avqaAnswers, avqaTokenizer } from './vocab.js';

/** `scenes` scenes into `out`; `media` adds the ffmpeg-written clips. */
export interface WriteAvqaOptions {
  scenes: number;
  out: string;
  config?: Partial<AvqaConfig>;
  media?: boolean;
  concurrency?: number;
  quiet?: boolean;
}

export interface WriteAvqaSummary {
  out: string;
  questionsFile: string;
  scenes: number;
  questions: number;
  bySplit: Record<string, number>;
  byFamily: Record<string, number>;
  baselines: BaselineRow[];
  /** Seconds: question generation (no rendering); media writing when asked. */
  seconds: { questions: number; media?: number };
  scenesPerSecond: number;
  media?: { files: number; failed: BatchFailure[] };
  config: AvqaConfig;
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/** Media id of a question's audio: the scene itself, '_s+1.00' (shifted) or '_x000345' (scene 345's audio). */
export function mediaId(q: Pick<AvqaQuestion, 'index' | 'audio'>): string {
  const a = q.audio ?? {};
  if (a.foil !== undefined) return `${sceneId(q.index)}_x${String(a.foil).padStart(6, '0')}`;
  return `${sceneId(q.index)}${clipId(0, a.offset ?? 0).slice('clip000000'.length)}`;
}

function sceneRecord(s: AvqaScene): object {
  const d = s.duration;
  const inClip = (t: number) => t >= 0 && t < d;
  return {
    id: s.id,
    index: s.index,
    split: s.split,
    duration: d,
    frames: Math.round(d * 2),
    objects: s.objects.map((o) => ({
      id: o.id,
      name: o.name,
      shape: o.shape,
      color: o.color,
      sounding: o.sounding,
      sound: o.sound,
      bounces: o.bounces.filter(inClip).map(round6),
    })),
    impacts: s.impacts
      .filter((i) => inClip(i.time))
      .map((i) => ({ time: round6(i.time), object: i.object, sounding: i.sounding })),
  };
}

function writeLines(path: string, rows: readonly object[]): void {
  writeFileAtomic(path, rows.map((r) => JSON.stringify(r) + '\n').join(''));
}

function countBy<T>(xs: readonly T[], f: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[f(x)] = (out[f(x)] ?? 0) + 1;
  return out;
}

export async function writeAvqa(opts: WriteAvqaOptions): Promise<WriteAvqaSummary> {
  const cfg = avqaConfig(opts.config);
  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  const sceneRows: object[] = [];
  const progress = new Progress({ label: 'avqa questions', total: opts.scenes, quiet: opts.quiet });
  const data = generateAvqa(cfg, opts.scenes, {
    onScene: (s) => {
      sceneRows.push(sceneRecord(s));
      progress.tick();
    },
  });
  progress.finish();
  const questions: (AvqaQuestion & { video?: string; wav?: string })[] = data.questions.map((q) => ({ ...q }));

  let media: WriteAvqaSummary['media'];
  let mediaSeconds: number | undefined;
  if (opts.media) {
    const jobs = new Map<string, { index: number; audio: AvqaAudio }>();
    for (let i = 0; i < opts.scenes; i++) jobs.set(mediaId({ index: i }), { index: i, audio: {} });
    for (const q of questions) jobs.set(mediaId(q), { index: q.index, audio: q.audio ?? {} });
    const list = [...jobs].map(([id, j]) => ({ id, ...j }));
    mkdirSync(join(out, 'clips'), { recursive: true });
    const result = await runBatch(
      list,
      async (job): Promise<ManifestItem> => {
        const d = sceneDuration(cfg, job.index);
        const synth = sceneSynthConfig(cfg, job.index, d);
        const clip = generateClip(synth, job.index, { offset: job.audio.offset ?? 0 });
        const audio =
          job.audio.foil === undefined
            ? clip.audio
            : generateClip(sceneSynthConfig(cfg, job.audio.foil, d), job.audio.foil, { video: false }).audio;
        const item = await writeClipFiles({ ...clip, id: job.id, audio }, out);
        return {
          ...item,
          labels: {
            ...item.labels,
            scene: sceneId(job.index),
            ...(job.audio.foil !== undefined ? { foil: sceneId(job.audio.foil) } : {}),
          },
        };
      },
      { concurrency: opts.concurrency ?? 2, label: 'avqa media', quiet: opts.quiet, idOf: (job) => job.id },
    );
    const items = result.results.filter((r): r is ManifestItem => r !== undefined);
    writeManifest(join(out, 'manifest.jsonl'), items);
    const written = new Set(items.map((i) => i.id));
    for (const q of questions) {
      const id = mediaId(q);
      if (written.has(id)) Object.assign(q, { video: `clips/${id}.mp4`, wav: `clips/${id}.wav` });
    }
    media = { files: items.length, failed: result.failed };
    mediaSeconds = result.seconds;
  }

  const questionsFile = join(out, 'questions.jsonl');
  writeLines(questionsFile, questions);
  writeLines(join(out, 'scenes.jsonl'), sceneRows);
  avqaTokenizer(cfg).save(join(out, 'vocab.json'));
  const baselines = questionOnlyBaselines(data.questions);
  const answers: Record<string, Record<string, number>> = {};
  for (const q of data.questions) (answers[q.template] ??= {})[q.answer] = (answers[q.template][q.answer] ?? 0) + 1;
  const summary: WriteAvqaSummary = {
    out,
    questionsFile,
    scenes: opts.scenes,
    questions: questions.length,
    bySplit: countBy(data.questions, (q) => q.split),
    byFamily: Object.fromEntries(AVQA_FAMILIES.map((f) => [f, data.questions.filter((q) => q.family === f).length])),
    baselines,
    seconds: { questions: data.seconds, ...(mediaSeconds !== undefined ? { media: mediaSeconds } : {}) },
    scenesPerSecond: opts.scenes / Math.max(1e-9, data.seconds),
    ...(media ? { media } : {}),
    config: cfg,
  };
  writeJsonAtomic(join(out, 'avqa.json'), {
    generator: 'attune AVQA v1 (AV-Synth scenes, timbre per scene)',
    config: cfg,
    scenes: opts.scenes,
    questions: questions.length,
    bySplit: summary.bySplit,
    byFamily: summary.byFamily,
    byTemplate: countBy(data.questions, (q) => q.template),
    answers,
    templates: AVQA_TEMPLATES,
    tolerances: AVQA_TOLERANCES,
    answerSpace: avqaAnswers(cfg),
    baselines,
    baselinesTable: formatBaselines(baselines),
    streams: {
      videoRate: 2,
      audioRate: 50,
      audioFramesPerVideoFrame: 25,
      note: 'render in memory with avqaStreams / questionStreams (src/data/avqa/streams.ts)',
    },
    seconds: summary.seconds,
  });
  return summary;
}
