import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../../bin/attune.js', import.meta.url));

test('attune doctor lists required and optional parts with versions and sources', () => {
  const r = spawnSync(process.execPath, [cli, 'doctor', '--json'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as {
    ok: boolean;
    parts: { name: string; kind: string; present: boolean; version: string | null; detail: string }[];
  };
  assert.equal(report.ok, true);
  const byName = new Map(report.parts.map((p) => [p.name, p]));
  for (const name of ['onnxruntime-node', 'ffmpeg', 'ffprobe', '@vladmandic/human']) {
    const p = byName.get(name);
    assert.ok(p && p.kind === 'required' && p.present && p.version, `${name}: ${JSON.stringify(p)}`);
  }
  const cuda = byName.get('onnxruntime CUDA provider');
  assert.ok(cuda && cuda.kind === 'optional' && (cuda.present || cuda.detail.length > 0), JSON.stringify(cuda));
  // One face stack: the TensorFlow.js one (face-api) is gone from the install and from the report.
  for (const gone of ['@vladmandic/face-api', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'])
    assert.equal(byName.get(gone), undefined, gone);
  const human = spawnSync(process.execPath, [cli, 'doctor'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /onnxruntime-node\s+required\s+yes/);
});
