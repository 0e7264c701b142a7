import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AGE_GROUPS,
  CUE_WORDS,
  EMOTIONS,
  EMO_SPLITS,
  NOUNS,
  TEMPLATES,
  allSpeakers,
  bayesAccuracy,
  ceilings,
  delivery,
  enumerateOutcomes,
  labelRule,
  planUtterance,
  splitSpeakers,
  voiceSettings,
  wordEmotionOf,
  type Emotion,
  type Plan,
} from '../../src/data/emospeech/index.js';

test('the label rule: an expressive voice wins, then the words, then neutral', () => {
  const rows: [Emotion, Emotion, Emotion][] = [
    // voice, words, label
    ['happy', 'happy', 'happy'],
    ['happy', 'neutral', 'happy'],
    ['angry', 'happy', 'angry'], // sarcasm: the voice contradicts the words
    ['neutral', 'sad', 'sad'], // flat voice: the words decide
    ['neutral', 'neutral', 'neutral'],
  ];
  for (const [voice, words, label] of rows) assert.equal(labelRule(voice, words), label, `${voice} + ${words}`);
});

test('cue word lists are disjoint and absent from templates and nouns; a sentence has exactly one cue', () => {
  const all = Object.values(CUE_WORDS).flat();
  assert.equal(new Set(all).size, all.length);
  const fixed = [...TEMPLATES, ...NOUNS].join(' ').toLowerCase();
  for (const w of all) assert.ok(!new RegExp(`\\b${w}\\b`).test(fixed), w);
});

test('every plan obeys the rule, says what its mode says, and is deterministic for (seed, split, index)', () => {
  const modes = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const p = planUtterance(3, 'train', i);
    assert.equal(labelRule(p.voiceEmotion, p.wordEmotion), p.label);
    assert.equal(wordEmotionOf(p.text), p.wordEmotion, p.text);
    assert.deepEqual(p.settings, voiceSettings(p.speaker, p.voiceEmotion));
    modes.add(p.mode);
    if (p.mode === 'sarcasm') assert.ok(p.wordEmotion !== p.label && p.wordEmotion !== 'neutral');
  }
  assert.deepEqual([...modes].sort(), ['both', 'plain', 'sarcasm', 'voice', 'words']);
  assert.deepEqual(planUtterance(3, 'val', 17), planUtterance(3, 'val', 17));
  const differ = Array.from(
    { length: 20 },
    (_, i) => JSON.stringify(planUtterance(3, 'val', i)) !== JSON.stringify(planUtterance(4, 'val', i)),
  );
  assert.ok(differ.filter(Boolean).length >= 15);
});

test('splits are speaker-disjoint down to the timbre, and each split has every age group of its timbres', () => {
  for (const seed of [0, 1, 2]) {
    const pools = splitSpeakers(seed);
    assert.equal(
      EMO_SPLITS.reduce((n, s) => n + pools[s].length, 0),
      allSpeakers().length,
    );
    const groups = EMO_SPLITS.map((s) => new Set(pools[s].map((p) => p.group)));
    for (let a = 0; a < 3; a++)
      for (let b = a + 1; b < 3; b++) for (const g of groups[a]) assert.ok(!groups[b].has(g), `${g} in two splits`);
    assert.deepEqual(
      groups.map((g) => g.size),
      [34, 7, 7],
    );
    for (const s of EMO_SPLITS)
      for (const g of groups[EMO_SPLITS.indexOf(s)])
        assert.equal(pools[s].filter((p) => p.group === g).length, AGE_GROUPS.length);
    for (const s of EMO_SPLITS) {
      for (let i = 0; i < 50; i++) assert.ok(pools[s].some((p) => p.id === planUtterance(seed, s, i).speaker.id));
    }
  }
});

test('metadata matters: (young, happy) and (adult, surprised) get identical synthesizer settings', () => {
  const sp = allSpeakers().filter((s) => s.group === 'en-us+f3');
  const young = sp.find((s) => s.age === 'young')!;
  const adult = sp.find((s) => s.age === 'adult')!;
  assert.deepEqual(voiceSettings(young, 'happy'), voiceSettings(adult, 'surprised'));
  assert.deepEqual(voiceSettings(young, 'sad'), voiceSettings(adult, 'disgusted'));
  assert.deepEqual(voiceSettings(young, 'angry'), voiceSettings(adult, 'fearful'));
  assert.notDeepEqual(voiceSettings(adult, 'happy'), voiceSettings(adult, 'surprised'));
  assert.equal(delivery('neutral').shape, 'flat');
});

test('ceilings are exact fractions of the generative process', () => {
  const c = ceilings();
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);
  near(
    enumerateOutcomes().reduce((s, o) => s + o.p, 0),
    1,
    'total probability',
  );
  near(c.chance, 1 / 7, 'chance');
  // text: neutral words -> neutral (1/7); words of e -> e, right in modes both + words (0.6) of each of 6 labels
  near(c.text, (1 + 6 * 0.6) / 7, 'text');
  // prosody with metadata: a flat voice -> neutral; an expressive voice is the label (modes both, voice, sarcasm)
  near(c.prosody, (1 + 6 * 0.8) / 7, 'prosody');
  near(c.full, 1, 'full');
  assert.ok(
    c.prosodyNoMetadata < c.prosody &&
      c.audioNoMetadata < 1 &&
      c.audioNoMetadata > c.text &&
      c.audioNoMetadata > c.prosody,
  );
  assert.equal(c.textAudioNoMetadata, c.audioNoMetadata);
  near(
    bayesAccuracy((o) => o.label),
    1,
    'an observer of the label',
  );
});

test('plans sampled by the generator reach the enumerated ceilings (plug-in Bayes accuracy on 14000 items)', () => {
  const plans: Plan[] = [];
  for (const split of EMO_SPLITS)
    for (let i = 0; i < (split === 'train' ? 10000 : 2000); i++) plans.push(planUtterance(5, split, i));
  // Observers built from what a model could actually see: the text, the synthesizer settings, the metadata.
  const absolute = (p: Plan) =>
    JSON.stringify([p.settings.pitch, p.settings.range, p.settings.rate, p.settings.volume]);
  const observers: [keyof ReturnType<typeof ceilings>, (p: Plan) => string][] = [
    ['text', (p) => String(wordEmotionOf(p.text))],
    ['prosody', (p) => `${absolute(p)}|${p.speaker.age}`],
    ['prosodyNoMetadata', absolute],
    ['audioNoMetadata', (p) => `${absolute(p)}|${wordEmotionOf(p.text)}`],
    ['full', (p) => `${absolute(p)}|${p.speaker.age}|${wordEmotionOf(p.text)}`],
  ];
  const exact = ceilings();
  for (const [name, key] of observers) {
    const counts = new Map<string, Map<Emotion, number>>();
    for (const p of plans) {
      const row = counts.get(key(p)) ?? new Map<Emotion, number>();
      row.set(p.label, (row.get(p.label) ?? 0) + 1);
      counts.set(key(p), row);
    }
    let right = 0;
    for (const row of counts.values()) right += Math.max(...row.values());
    const acc = right / plans.length;
    assert.ok(
      Math.abs(acc - exact[name]) < 0.015,
      `${name}: sampled ${acc.toFixed(4)} vs exact ${exact[name].toFixed(4)}`,
    );
  }
  const labels = new Map<Emotion, number>();
  for (const p of plans) labels.set(p.label, (labels.get(p.label) ?? 0) + 1);
  for (const e of EMOTIONS) assert.ok(Math.abs(labels.get(e)! / plans.length - 1 / 7) < 0.01, e);
});
