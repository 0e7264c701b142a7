import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeEmotions } from '../../src/models/emotion/analysis.js';
import { AUDIO_RATE } from '../../src/models/emotion/config.js';
import { alignSpans, metadataIds, splitWords, type EmotionExampleInput } from '../../src/models/emotion/features.js';
import { emotionOf, loadEmotionModel, releaseEmotionModel } from '../../src/models/emotion/infer.js';
import { emotionTask } from '../../src/models/emotion/task.js';
import type { EmotionPrediction } from '../../src/models/emotion/predict.js';
import type { EmotionItem } from '../../src/data/emospeech/manifest.js';
import { getTask } from '../../src/models/registry.js';
import { parseOverrides, resolveConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';
import { parseDataSource } from '../../src/train/data.js';
import { loadEmotionSet } from '../../src/models/emotion/data.js';

test('words, word timings and metadata ids', () => {
  const rows: [string, unknown, unknown][] = [
    ['splitWords', splitWords('Honestly, the dinner was LOVELY!'), ['honestly', 'the', 'dinner', 'was', 'lovely']],
    ['splitWords keeps apostrophes', splitWords("It's fine."), ["it's", 'fine']],
    [
      'spans by position',
      alignSpans(
        ['the', 'cat'],
        [
          { word: 'The', start: 0, end: 0.2 },
          { word: 'cat.', start: 0.2, end: 0.5 },
        ],
      ),
      [
        { start: 0, end: 0.2 },
        { start: 0.2, end: 0.5 },
      ],
    ],
    [
      'spans of other words are dropped',
      alignSpans(
        ['the', 'dog'],
        [
          { word: 'The', start: 0, end: 0.2 },
          { word: 'cat', start: 0.2, end: 0.5 },
        ],
      ),
      [null, null],
    ],
    ['no timings', alignSpans(['a'], undefined), [null]],
    ['metadata f / adult', metadataIds({ gender: 'F', age: 'adult' }).slice(0, 2), [1, 2]],
    ['metadata male / 70 years', metadataIds({ sex: 'Male', age: 70 }).slice(0, 2), [2, 3]],
    ['metadata unknown', metadataIds(undefined), [0, 0, 0, 0]],
  ];
  for (const [name, got, want] of rows) assert.deepEqual(got, want, name);
});

test('attention grounding: all mass inside the cue word gives 1, uniform attention gives the chance share', () => {
  const frames = 20;
  const ex: EmotionExampleInput = {
    words: ['the', 'cake', 'was', 'lovely'],
    tokens: new Int32Array(4),
    audio: null,
    frames,
    utterance: null,
    meta: [0, 0, 0, 0],
    label: 1,
    spans: [0, 1, 2, 3].map((i) => ({ start: (i * 5) / AUDIO_RATE, end: ((i + 1) * 5) / AUDIO_RATE })),
  };
  const item = { metadata: { cue: 'lovely' }, text: 'The cake was lovely.' } as unknown as EmotionItem;
  const pred = (rows: number[][]): EmotionPrediction => ({
    label: 'happy',
    classId: 1,
    probs: [0, 1, 0, 0, 0, 0, 0],
    gate: { text: 1, audio: 1, metadata: 1 },
    present: { text: true, audio: true },
    words: 4,
    frames,
    textToAudio: [rows],
  });
  const peaked = [0, 1, 2, 3].map((i) => Array.from({ length: frames }, (_, j) => (Math.floor(j / 5) === i ? 0.2 : 0)));
  const uniform = [0, 1, 2, 3].map(() => new Array(frames).fill(1 / frames));
  const a = analyzeEmotions([pred(peaked)], [ex], [item]);
  assert.ok(Math.abs(a.grounding - 1) < 1e-9);
  assert.ok(Math.abs(a.groundingChance - 0.25) < 1e-9);
  assert.ok(Math.abs(a.perClass[1].alignment - 1) < 1e-9, 'each word attends within its own interval');
  const u = analyzeEmotions([pred(uniform)], [ex], [item]);
  assert.ok(Math.abs(u.grounding - 0.25) < 1e-9);
  assert.ok(Math.abs(u.perClass[1].diversity) < 1e-9, 'identical rows have no diversity');
});

test('emotion trains on EmoSpeech through the trainer; the run answers text-only and audio+text queries', async () => {
  assert.equal(await getTask('emotion'), emotionTask);
  const dir = mkdtempSync(join(tmpdir(), 'attune-emotion-'));
  try {
    const overrides = parseOverrides([
      'variant=tiny',
      'train.epochs=2',
      'train.batchSize=8',
      'train.evalBatchSize=8',
      'data.maxWords=8',
      'data.maxSeconds=4',
    ]);
    const config = resolveConfig(emotionTask, { source: 'synth', overrides });
    const run = await runTraining({
      task: emotionTask,
      config,
      source: { kind: 'synth', clips: 60, set: 'emospeech' },
      out: join(dir, 'run'),
      cacheDir: join(dir, 'cache'),
      quiet: true,
    });
    assert.equal(run.status, 'completed');
    const test = run.metrics!.test;
    for (const k of [
      'test.acc',
      'test.weighted_f1',
      'test.f1_neutral',
      'test.grounding',
      'test.grounding_chance',
      'test.acc_text_only_input',
      'test.acc_audio_only_input',
    ]) {
      assert.ok(Number.isFinite(test[k]), `${k} = ${test[k]}`);
    }
    // An emotion manifest is a --data source too: the trainer accepts it, the task reads it (one split: fractions).
    const val = join(dir, 'cache', 'emospeech-seed0', 'val.jsonl');
    assert.deepEqual(parseDataSource(val), { kind: 'manifest', path: val, items: [] });
    const fromManifest = await loadEmotionSet({
      source: { kind: 'manifest', path: val },
      cacheDir: join(dir, 'cache'),
    });
    assert.equal(fromManifest.examples.length, 9);
    assert.equal(fromManifest.splits, undefined, 'a val-only manifest is split by the trainer');
    const model = loadEmotionModel(join(dir, 'run'));
    try {
      const textOnly = await emotionOf(model, {
        text: 'The garden was lovely.',
        metadata: { gender: 'f', age: 'adult' },
      });
      assert.equal(textOnly.missing, 'audio');
      assert.equal(textOnly.textToAudio, undefined);
      assert.ok(Math.abs(textOnly.probs.reduce((s, p) => s + p, 0) - 1) < 1e-4);
      const wav = join(dir, 'cache', 'emospeech-seed0', 'audio');
      const { readdirSync } = await import('node:fs');
      const file = join(
        wav,
        readdirSync(wav).find((f) => f.endsWith('.wav'))!,
      );
      const both = await emotionOf(model, {
        audio: file,
        text: 'Honestly, the dinner seemed lovely.',
        sampleRate: 22050,
      });
      assert.equal(both.missing, null);
      assert.equal(both.textToAudio![0].length, 5, 'one row per word');
      for (const row of both.textToAudio![0]) assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-4);
      assert.equal(both.audioToText![0][0].length, 5, 'one column per word');
    } finally {
      await releaseEmotionModel(model);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
