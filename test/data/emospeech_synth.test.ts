import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Espeak,
  SynthesizerMissingError,
  allSpeakers,
  emotionAudioFeatures,
  generateItem,
  measureVoice,
  readEmotionManifest,
  readWav16,
  voiceSettings,
  writeEmoSpeech,
  type Emotion,
} from '../../src/data/emospeech/index.js';

// One synthesizer for the file: creating one costs about a second.
const synth = Espeak.create();
const adultF3 = allSpeakers().find((s) => s.id === 'en-us+f3/adult')!;
const youngF3 = allSpeakers().find((s) => s.id === 'en-us+f3/young')!;
const SENTENCE = 'I think the weather report is interesting today.';

test('synthesis is bit-identical on repeat, after other utterances, and in a fresh instance', async () => {
  const es = await synth;
  const v = voiceSettings(adultF3, 'happy');
  const a = es.speak(SENTENCE, v);
  es.speak('Something else entirely, with other words.', voiceSettings(youngF3, 'sad'));
  const b = es.speak(SENTENCE, v);
  assert.ok(a.samples.length > a.sampleRate); // more than a second of speech
  assert.deepEqual(b.samples, a.samples);
  assert.deepEqual(b.words, a.words);
  const fresh = await Espeak.create();
  assert.deepEqual(fresh.speak(SENTENCE, v).samples, a.samples);
});

test('the same settings give the same audio whoever is meant: (young, happy) sounds like (adult, surprised)', async () => {
  const es = await synth;
  assert.deepEqual(
    es.speak(SENTENCE, voiceSettings(youngF3, 'happy')).samples,
    es.speak(SENTENCE, voiceSettings(adultF3, 'surprised')).samples,
  );
  assert.notDeepEqual(
    es.speak(SENTENCE, voiceSettings(adultF3, 'happy')).samples,
    es.speak(SENTENCE, voiceSettings(adultF3, 'surprised')).samples,
  );
});

test('measured prosody moves as each emotion prescribes, relative to the speaker', async () => {
  const es = await synth;
  const m = (e: Emotion) => {
    const u = es.speak(SENTENCE, voiceSettings(adultF3, e));
    return measureVoice(u.samples, u.sampleRate);
  };
  const [flat, happy, surprised, sad, angry] = (['neutral', 'happy', 'surprised', 'sad', 'angry'] as const).map(m);
  assert.ok(
    surprised.meanF0 > happy.meanF0 && happy.meanF0 > flat.meanF0 && flat.meanF0 > sad.meanF0,
    `f0 ${[surprised, happy, flat, sad].map((x) => x.meanF0.toFixed(0))}`,
  );
  assert.ok(happy.f0p90 - happy.f0p10 > 1.5 * (sad.f0p90 - sad.f0p10), 'bright shape has the wider pitch spread');
  assert.ok(
    angry.rmsDb > flat.rmsDb + 2 && flat.rmsDb > sad.rmsDb + 1,
    `level ${[angry, flat, sad].map((x) => x.rmsDb.toFixed(1))}`,
  );
  assert.ok(sad.seconds > flat.seconds * 1.15 && angry.seconds < flat.seconds * 0.85, 'rate');
});

test('word times lie inside the audio, in order, and match the energy (loud inside words, quiet in pauses)', async () => {
  const es = await synth;
  let pauses = 0;
  for (let i = 0; i < 12; i++) {
    const item = generateItem(es, 0, 'val', i);
    const dur = item.samples.length / item.sampleRate;
    const { prosody } = emotionAudioFeatures(item.samples, item.sampleRate);
    const energy = (t0: number, t1: number) => {
      const out: number[] = [];
      for (let j = Math.floor(t0 * 100); j < Math.min(prosody.frames, Math.ceil(t1 * 100)); j++)
        out.push(prosody.data[3 * j + 1]);
      return out;
    };
    const peak = Math.max(...energy(0, dur));
    let prevEnd = 0;
    for (const w of item.words) {
      assert.ok(
        w.start >= prevEnd - 1e-9 && w.end > w.start && w.end <= dur + 1e-9,
        `${item.plan.id} ${w.word} [${w.start}, ${w.end}] in ${dur}`,
      );
      assert.ok(Math.max(...energy(w.start, w.end)) > peak - 25, `${item.plan.id}: '${w.word}' is quiet`);
      prevEnd = w.end;
    }
    for (let k = 0; k + 1 < item.words.length; k++) {
      const [a, b] = [item.words[k].end + 0.02, item.words[k + 1].start - 0.02];
      if (b - a < 0.05) continue;
      const gap = energy(a, b);
      assert.ok(
        gap.reduce((s, x) => s + x, 0) / gap.length < peak - 15,
        `${item.plan.id}: pause after '${item.words[k].word}' is loud`,
      );
      pauses++;
    }
    const tail = energy(item.words.at(-1)!.end + 0.03, dur);
    if (tail.length) assert.ok(Math.max(...tail) < peak - 15, `${item.plan.id}: sound after the last word`);
  }
  assert.ok(pauses >= 1, 'no pause was checked');
});

test('a missing synthesizer package is a typed error that says how to install it', async () => {
  await assert.rejects(Espeak.create('@attune/no-such-espeak'), (err: unknown) => {
    assert.ok(err instanceof SynthesizerMissingError);
    assert.match((err as Error).message, /npm install @attune\/no-such-espeak/);
    return true;
  });
});

test('writeEmoSpeech writes readable manifests, reuses its cache, and keeps the splits speaker-disjoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-emospeech-'));
  try {
    const first = await writeEmoSpeech({ n: 14, out: dir, seed: 1, quiet: true });
    assert.deepEqual(first.counts, { train: 10, val: 2, test: 2 });
    assert.equal(first.synthesized + first.cached, 14);
    const speakers = new Map<string, string>();
    for (const split of ['train', 'val', 'test'] as const) {
      const { items, errors } = readEmotionManifest(join(dir, `${split}.jsonl`));
      assert.deepEqual(errors, []);
      for (const it of items) {
        assert.equal(it.split, split);
        const timbre = it.speaker!.split('/')[0];
        assert.ok((speakers.get(timbre) ?? split) === split, `${timbre} in two splits`);
        speakers.set(timbre, split);
        const wav = readWav16(it.audio!);
        assert.ok(it.words!.at(-1)!.end <= wav.samples.length / wav.sampleRate + 1e-6);
      }
    }
    const bytes = readdirSync(join(dir, 'audio'))
      .sort()
      .map((f) => readFileSync(join(dir, 'audio', f)));
    const again = await writeEmoSpeech({ n: 14, out: dir, seed: 1, quiet: true });
    assert.equal(again.synthesized, 0);
    assert.deepEqual(
      readdirSync(join(dir, 'audio'))
        .sort()
        .map((f) => readFileSync(join(dir, 'audio', f))),
      bytes,
    );
    const meta = JSON.parse(readFileSync(join(dir, 'emospeech.json'), 'utf8'));
    assert.ok(meta.ceilings.text > 0.6 && meta.ceilings.text < 0.7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audio features: log-mel and prosody streams on an exact 100 Hz grid', async () => {
  const es = await synth;
  const u = es.speak(SENTENCE, voiceSettings(adultF3, 'neutral'));
  const f = emotionAudioFeatures(u.samples, u.sampleRate);
  const T = Math.ceil((u.samples.length / u.sampleRate) * 100 - 1e-9);
  assert.equal(f.logMel.frames, T);
  assert.equal(f.logMel.dim, 80);
  assert.equal(f.prosody.frames, T);
  assert.equal(f.prosody.dim, 3);
  let voiced = 0;
  for (let t = 0; t < T; t++) {
    const hz = f.prosody.data[3 * t];
    if (hz > 0) {
      voiced++;
      assert.ok(hz > 120 && hz < 400, `f3 voice at ${hz} Hz`);
    }
  }
  assert.ok(voiced > T / 4, `${voiced} voiced frames of ${T}`);
});
