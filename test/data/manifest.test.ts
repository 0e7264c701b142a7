import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest, readManifest, writeManifest } from '../../src/data/manifest.js';
import { InputError } from '../../src/util/errors.js';

test('paths resolve against the manifest folder; ids default to the media name', () => {
  const text = [
    '# comment line',
    '{"video":"clips/a.mp4","audio":"clips/a.wav","text":"hi","labels":{"class":"dog","score":0.5,"tags":["x",1]},"start":1,"end":2.5}',
    '',
    '{"id":"b","audio":"/abs/b.wav","events":[{"time":0.25,"label":"bark"}],"metadata":{"anything":{"nested":true}}}',
    '{"text":"text only"}',
  ].join('\n');
  const m = parseManifest(text, '/data/set/manifest.jsonl');
  assert.deepEqual(m.errors, []);
  assert.equal(m.items.length, 3);
  assert.equal(m.items[0].id, 'a');
  assert.equal(m.items[0].video, '/data/set/clips/a.mp4');
  assert.equal(m.items[0].line, 2);
  assert.equal(m.items[1].audio, '/abs/b.wav');
  assert.equal(m.items[1].events![0].time, 0.25);
  assert.equal(m.items[2].id, 'line5');
});

test('every bad line is reported with file:line, field and what was expected', () => {
  const text = [
    '{"video":"a.mp4"}',
    '{"video":42}',
    'not json',
    '{"audio":"b.wav","start":3,"end":2}',
    '{"labels":{"x":1}}',
    '{"audio":"c.wav","vidoe":"c.mp4"}',
    '{"video":"a.mp4"}',
    '{"audio":"d.wav","events":[{"time":-1}]}',
    '{"audio":"e.wav","labels":{"x":{"a":1}}}',
    '{"audio":"f.wav","events":[{"time":1,"foo":2}]}',
  ].join('\n');
  const m = parseManifest(text, 'm.jsonl', '/x');
  const got = m.errors.map((e) => `${e.line}:${e.field}`);
  assert.deepEqual(got, [
    '2:video',
    '3:',
    '4:end',
    '5:',
    '6:vidoe',
    '7:id',
    '8:events.0.time',
    '9:labels.x',
    '10:events.0.foo',
  ]);
  assert.match(m.errors[0].message, /expected string, got number/);
  assert.match(m.errors[1].message, /not valid JSON/);
  assert.match(m.errors[2].message, /end must be greater than start/);
  assert.match(m.errors[3].message, /at least one of video, audio or text/);
  assert.match(m.errors[4].message, /unknown field/);
  assert.match(m.errors[5].message, /duplicate id 'a' \(first used on line 1\)/);
  assert.match(m.errors[6].message, /greater than or equal to 0/);
  assert.match(m.errors[7].message, /expected a label value/);
  assert.match(m.errors[8].message, /an event has time, label, duration/);
  assert.equal(m.items.length, 1);
});

test('readManifest throws one InputError listing the lines, or returns good items with allowErrors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-manifest-'));
  try {
    const path = join(dir, 'm.jsonl');
    writeFileSync(path, '{"audio":"ok.wav"}\n{"audio":1}\n');
    assert.throws(
      () => readManifest(path),
      (err: unknown) => {
        assert.ok(err instanceof InputError);
        assert.match(err.message, /m\.jsonl:2: field 'audio': expected string, got number/);
        return true;
      },
    );
    const partial = readManifest(path, { allowErrors: true });
    assert.equal(partial.items.length, 1);
    const checked = readManifest(path, { allowErrors: true, checkFiles: true });
    assert.equal(checked.items.length, 0);
    assert.match(checked.errors[0].message, /file not found/);
    assert.throws(() => readManifest(join(dir, 'missing.jsonl')), /cannot read manifest/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeManifest stores paths relative to its folder and reads back the same items', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-manifest-'));
  try {
    const path = join(dir, 'out', 'm.jsonl');
    writeManifest(path, [
      { id: 'x', video: join(dir, 'out', 'clips', 'x.mp4'), labels: { offset: -0.4 } },
      { id: 'y', text: 'hello' },
    ]);
    const line0 = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]);
    assert.equal(line0.video, 'clips/x.mp4');
    const back = readManifest(path);
    assert.equal(back.items[0].video, join(dir, 'out', 'clips', 'x.mp4'));
    assert.equal(back.items[0].labels!.offset, -0.4);
    assert.equal(back.items[1].text, 'hello');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
