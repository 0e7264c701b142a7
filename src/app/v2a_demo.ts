/**
 * The v2a part of `attune demo` (the lead wires it into runDemo): trains a small v2a model on AV-Synth with reduced
 * settings, evaluates it on held-out scenes (the task's final evaluation), generates sound for two unseen scenes and
 * writes a report with the score table, spectrograms of generated vs real audio (impact times in the titles) and the
 * WAV files beside it (src/report has no audio section yet, so the report links them by name).
 *
 *   runTraining(v2a, reduced) -> run folder -> loadV2aModel -> generateWaves(unseen scenes) -> report + audio/*.wav
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeSoundWav, loadV2aModel, v2aPredictor } from '../models/v2a/infer.js';
import { encodeAudio, LATENT_RATE, N_MELS } from '../models/v2a/audio.js';
import { sequence } from '../models/v2a/config.js';
import { synthExample, type V2aExample } from '../models/v2a/data.js';
import { generateWaves, predictorVelocity } from '../models/v2a/generate.js';
import { getTask } from '../models/registry.js';
import { writeReport } from '../report/html.js';
import { metricsTable, secondsLabels } from '../report/sections.js';
import type { HeatmapSection, Section } from '../report/spec.js';
import { parseOverrides, resolveConfig } from '../train/config.js';
import { runTraining } from '../train/run.js';

export interface V2aDemoOptions {
  /** Output folder (the run goes to <out>/v2a-run, the report to <out>/v2a-report.html). */
  out: string;
  /** Smoke-test sizes (seconds instead of minutes). */
  quick?: boolean;
  seed?: number;
  quiet?: boolean;
}

export interface V2aDemoSummary {
  run: string;
  report: string;
  audio: string[];
  metrics: Record<string, number>;
  /** the report's sections, for a caller that writes its own report (attune demo) */
  sections: Section[];
  seconds: number;
}

/** Reduced settings: ~2 minutes of training on 2 idle cores for the full demo (not measured on an idle machine yet). */
const SETTINGS = {
  full: {
    clips: 120,
    sets: [
      'variant="small"',
      'data.seconds=2',
      'train.maxSteps=200',
      // the default recipe's visual pretraining stage, shortened to the demo's budget (400 steps by default)
      'model.visualPretrainSteps=50',
      'data.eval.clips=8',
      'data.eval.sweep=false',
      'data.classifierClips=60',
    ],
  },
  quick: {
    clips: 16,
    sets: [
      'variant="tiny"',
      'data.seconds=1',
      'train.maxSteps=4',
      'data.eval.clips=2',
      'data.eval.steps=4',
      'data.eval.sweep=false',
      'data.classifierClips=8',
      'data.eval.griffinLim=4',
    ],
  },
};

function spectrogram(title: string, frames: Float32Array, count: number): HeatmapSection {
  const values = Array.from({ length: N_MELS }, (_, r) =>
    Array.from({ length: count }, (_, t) => frames[t * N_MELS + (N_MELS - 1 - r)]),
  );
  return {
    kind: 'heatmap',
    title,
    values,
    colLabels: secondsLabels(count, LATENT_RATE),
    colName: 'time (s)',
    rowName: 'mel band (high at top)',
    min: -3,
    max: 4,
  };
}

export async function runV2aDemo(opts: V2aDemoOptions): Promise<V2aDemoSummary> {
  const started = Date.now();
  const out = resolve(opts.out);
  const scale = opts.quick ? SETTINGS.quick : SETTINGS.full;
  const task = await getTask('v2a');
  const config = resolveConfig(task, {
    source: 'synth',
    overrides: parseOverrides([...scale.sets, `train.seed=${opts.seed ?? 0}`]),
  });
  const runDir = join(out, 'v2a-run');
  const r = await runTraining({
    task,
    config,
    source: { kind: 'synth', clips: scale.clips },
    out: runDir,
    quiet: opts.quiet ?? true,
  });
  const model = loadV2aModel(runDir);
  const seq = sequence(model.seconds);
  const scenes: V2aExample[] = [0, 1].map((i) => synthExample(2_000_000 + i, seq, opts.seed ?? 0, true));
  const predictor = await v2aPredictor(model, seq, 2);
  let waves: Float32Array[];
  try {
    waves = await generateWaves(
      predictorVelocity(predictor),
      scenes.map((e) => ({ frames: e.frames, text: null })),
      seq,
      2,
      { steps: 25, cfg: 4.5, seed: opts.seed ?? 0 },
    );
  } finally {
    await predictor.close();
  }
  mkdirSync(join(out, 'audio'), { recursive: true });
  const audio: string[] = [];
  const sections: Section[] = [
    metricsTable(
      'Held-out AV-Synth scenes (generated from video, 25 steps, CFG 4.5 from t = 0.4; fdFloor: FD of unseen scenes)',
      Object.fromEntries(Object.entries(r.metrics?.test ?? {}).map(([k, v]) => [k, v as number])),
    ),
  ];
  for (const [i, e] of scenes.entries()) {
    const times = e.events.map((ev) => ev.time.toFixed(2)).join(', ');
    for (const [kind, wave] of [
      ['generated', waves[i]],
      ['real', e.audio],
    ] as const) {
      const file = join(out, 'audio', `scene${i}_${kind}.wav`);
      await writeSoundWav(file, wave);
      audio.push(file);
      sections.push(
        spectrogram(
          `Scene ${i} ${kind} (audio/scene${i}_${kind}.wav); impacts at ${times} s; "${e.caption}"`,
          encodeAudio(wave, seq.latent),
          seq.latent,
        ),
      );
    }
    const wav = (kind: string) => ({
      label: `${kind} (audio/scene${i}_${kind}.wav)`,
      wav: readFileSync(join(out, 'audio', `scene${i}_${kind}.wav`)),
    });
    sections.push({
      kind: 'audio',
      title: `Scene ${i}: listen (impacts at ${times} s)`,
      clips: [wav('generated'), wav('real')],
    });
  }
  const report = join(out, 'v2a-report.html');
  writeReport(report, {
    title: 'Attune v2a demo',
    subtitle: 'Sound for silent AV-Synth video: MMAudio-style flow matching',
    sections,
  });
  return {
    run: runDir,
    report,
    audio,
    metrics: (r.metrics?.test ?? {}) as Record<string, number>,
    sections,
    seconds: (Date.now() - started) / 1000,
  };
}
