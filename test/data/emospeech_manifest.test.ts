import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostArray } from '../../src/io/array.js';
import { saveNpy } from '../../src/io/npy.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import {
  CORPUS_LABELS,
  EMOTIONS,
  loadEmotionDataset,
  parseEmotionManifest,
  readSequence,
  writeWav16,
} from '../../src/data/emospeech/index.js';

function tone(seconds: number, amp: number, sr = 16000): Float32Array {
  const x = new Float32Array(Math.round(seconds * sr));
  for (let i = 0; i < x.length; i++) x[i] = amp * Math.sin((2 * Math.PI * 220 * i) / sr);
  return x;
}

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-emomanifest-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'bad items are reported by file, line and field, and skipped; good ones load',
  withDir(async (dir) => {
    writeWav16(join(dir, 'a.wav'), tone(0.5, 0.3), 16000);
    writeWav16(join(dir, 'quiet.wav'), tone(0.5, 0), 16000);
    const lines = [
      '# IEMOCAP-style lines',
      JSON.stringify({
        id: 'ok',
        audio: 'a.wav',
        text: 'Excuse me.',
        label: 'neutral',
        words: [{ word: 'Excuse', start: 0, end: 0.3 }],
      }),
      JSON.stringify({ id: 'gone', audio: 'missing.wav', text: 'Hello.', label: 'happy' }),
      JSON.stringify({ id: 'empty', audio: 'a.wav', text: '  ', label: 'sad' }),
      JSON.stringify({ id: 'odd', audio: 'a.wav', text: 'Fine.', label: 'bored' }),
      JSON.stringify({ id: 'silent', audio: 'quiet.wav', text: 'Nothing.', label: 'neutral' }),
      '{"id": "broken",',
      JSON.stringify({ id: 'ok', audio: 'a.wav', text: 'Again.', label: 'angry' }),
      JSON.stringify({ id: 'typo', audio: 'a.wav', text: 'Hi.', label: 'happy', lable: 'x' }),
      JSON.stringify({
        id: 'backwards',
        audio: 'a.wav',
        text: 'Hi.',
        label: 'happy',
        words: [{ word: 'Hi', start: 0.4, end: 0.1 }],
      }),
    ];
    const file = join(dir, 'm.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const { examples, skipped } = await loadEmotionDataset(file, { input: 'raw' });
    assert.deepEqual(
      examples.map((e) => e.item.id),
      ['ok'],
    );
    assert.equal(examples[0].audio!.samples.length, 8000);
    const rows = skipped.map((s) => [s.file === file, s.line, s.field]);
    assert.deepEqual(rows, [
      [true, 3, 'audio'],
      [true, 4, 'text'],
      [true, 5, 'label'],
      [true, 7, ''],
      [true, 8, 'id'],
      [true, 9, 'lable'],
      [true, 10, 'words.0.end'],
      [true, 6, 'audio'],
    ]);
    assert.match(skipped[0].message, /file not found: .*missing\.wav/);
    assert.match(skipped[1].message, /empty transcript/);
    assert.match(skipped[2].message, /unknown label "bored"/);
    assert.match(skipped.at(-1)!.message, /silent audio/);
  }),
);

test('corpus label codes map to classes; regression labels must be numbers', () => {
  const crema = parseEmotionManifest(
    JSON.stringify({ audio: '/x/1001_DFA_ANG_XX.wav', text: "Don't forget a jacket.", label: 'ANG' }),
    'crema.jsonl',
    {
      map: { ANG: 'angry', DIS: 'disgusted', FEA: 'fearful', HAP: 'happy', NEU: 'neutral', SAD: 'sad' },
    },
  );
  assert.deepEqual(crema.errors, []);
  assert.equal(crema.items[0].label, 'angry');
  const mosi = parseEmotionManifest(
    [
      JSON.stringify({ audio: '/x/a.wav', text: 'it was great', label: 2.4 }),
      JSON.stringify({ audio: '/x/b.wav', text: 'meh', label: 'negative' }),
    ].join('\n'),
    'mosi.jsonl',
    { classes: 'regression' },
  );
  assert.deepEqual(
    mosi.items.map((i) => i.label),
    [2.4],
  );
  assert.deepEqual(
    mosi.errors.map((e) => [e.line, e.field]),
    [[2, 'label']],
  );
});

test(
  'precomputed feature sequences replace the encoders, with shape checks that name the file',
  withDir(async (dir) => {
    const seq = (t: number, d: number) =>
      hostArray(
        'float32',
        [t, d],
        Float32Array.from({ length: t * d }, (_, i) => Math.sin(i)),
      );
    saveNpy(join(dir, 'a.text.npy'), seq(7, 768));
    saveSafetensors(join(dir, 'a.safetensors'), { wav2vec2: seq(50, 768), bert: seq(7, 768) });
    saveNpy(join(dir, 'b.text.npy'), hostArray('float32', [1, 5, 768], new Float32Array(5 * 768))); // a batch of one
    saveNpy(join(dir, 'b.audio.npy'), seq(40, 768));
    saveNpy(join(dir, 'c.text.npy'), seq(6, 512)); // wrong dim
    saveNpy(join(dir, 'c.audio.npy'), seq(40, 768));
    saveNpy(join(dir, 'd.text.npy'), hostArray('float32', [768], new Float32Array(768))); // not a sequence
    const lines = [
      { id: 'a', text: 'one', label: 'happy', features: { text: 'a.text.npy', audio: 'a.safetensors#wav2vec2' } },
      { id: 'b', text: 'two', label: 'sad', features: { text: 'b.text.npy', audio: 'b.audio.npy' } },
      { id: 'c', text: 'three', label: 'sad', features: { text: 'c.text.npy', audio: 'c.audio.npy' } },
      { id: 'd', text: 'four', label: 'sad', features: { text: 'd.text.npy', audio: 'c.audio.npy' } },
      { id: 'e', text: 'five', label: 'sad', features: { text: 'a.text.npy', audio: 'a.safetensors' } },
    ];
    const file = join(dir, 'feats.jsonl');
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    const { examples, skipped } = await loadEmotionDataset(file, { input: 'features' });
    assert.deepEqual(
      examples.map((e) => [e.item.id, e.features!.text!.frames, e.features!.audio!.frames, e.features!.audio!.dim]),
      [
        ['a', 7, 50, 768],
        ['b', 5, 40, 768],
      ],
    );
    assert.deepEqual(
      skipped.map((s) => [s.line, s.field]),
      [
        [3, 'features.text'],
        [4, 'features.text'],
        [5, 'features.audio'],
      ],
    );
    assert.match(skipped[0].message, /c\.text\.npy: features\.text has dim 512, expected 768/);
    assert.match(skipped[1].message, /must be a \[frames, dim\] sequence, got shape \[768\]/);
    assert.match(skipped[2].message, /holds 2 tensors \(bert, wav2vec2\); name one/);
    assert.throws(() => readSequence(join(dir, 'a.safetensors#nope'), 'features.audio'), /no tensor 'nope'/);
  }),
);

test(
  'a segment of a longer file is decoded from start to end (ffmpeg path, resampled)',
  withDir(async (dir) => {
    const x = tone(2, 0.2, 22050);
    for (let i = 0; i < 22050; i++) x[i] = 0; // first second silent, second second a tone
    writeWav16(join(dir, 'session.wav'), x, 22050);
    const file = join(dir, 'iemocap.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ id: 'quiet', audio: 'session.wav', start: 0.1, end: 0.9, text: 'Hmm.', label: 'neutral' }),
        JSON.stringify({ id: 'tone', audio: 'session.wav', start: 1.1, end: 1.6, text: 'Yes.', label: 'happy' }),
      ].join('\n'),
    );
    const { examples, skipped } = await loadEmotionDataset(file, { input: 'raw', sampleRate: 16000 });
    assert.deepEqual(
      examples.map((e) => [e.item.id, e.audio!.samples.length]),
      [['tone', 8000]],
    );
    assert.deepEqual(
      skipped.map((s) => [s.line, s.field]),
      [[1, 'audio']],
    );
  }),
);

test('the example manifest lines in docs/emospeech.md parse with their corpus label settings', () => {
  const doc = readFileSync('docs/emospeech.md', 'utf8');
  const section = doc.slice(doc.indexOf('### Example manifests'), doc.indexOf('## Audio features'));
  const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1].trim());
  const corpora = ['iemocap', 'meld', 'cremad', 'ravdess', 'mosi'] as const;
  assert.equal(blocks.length, corpora.length);
  blocks.forEach((line, k) => {
    const parsed = parseEmotionManifest(line, `${corpora[k]}.jsonl`, CORPUS_LABELS[corpora[k]]);
    assert.deepEqual(parsed.errors, [], corpora[k]);
    assert.equal(parsed.items.length, 1);
    const label = parsed.items[0].label;
    assert.ok(
      corpora[k] === 'mosi' ? typeof label === 'number' : EMOTIONS.includes(label as never),
      `${corpora[k]}: ${label}`,
    );
  });
});
