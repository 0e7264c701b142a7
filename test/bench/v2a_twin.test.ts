/**
 * The benches' Python peers: discovery and JSON parsing (bench/peer/python.ts) against a fake interpreter, the v2a
 * twin's settings, and, where a Python with torch is found, that the PyTorch twin (bench/peer/v2a_torch.py) loaded
 * with Attune's weights computes Attune's velocity: the bench's ratios compare the same network.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTorchPython, parsePeerOutput, peerScript, runPeer } from '../../bench/peer/python.js';
import { twinSettings } from '../../bench/v2a.js';
import { Graph, ParamStore, Predictor, Scope } from '../../src/engine/index.js';
import { type HostArray, hostArray, toFloat32 } from '../../src/io/array.js';
import { LATENT_RATE, N_MELS, sequence, VISUAL_FPS, v2aTiny } from '../../src/models/v2a/index.js';
import { synthExample } from '../../src/models/v2a/data.js';
import { v2aInference } from '../../src/models/v2a/model.js';
import { conditionFeeds } from '../../src/models/v2a/sampler.js';
import { Rng } from '../../src/util/rng.js';

/** A stand-in interpreter: `-c ...` succeeds (torch "imports"); a script run prints chatter, then its environment as JSON. */
function fakePython(dir: string, fail = false): string {
  const path = join(dir, fail ? 'python-fails' : 'python-ok');
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      'if [ "$1" = "-c" ]; then exit 0; fi',
      fail ? 'echo "first" >&2; echo "Traceback: boom" >&2; exit 3' : 'echo "loading..."',
      `echo "{\\"omp\\": \\"$OMP_NUM_THREADS\\", \\"wait\\": \\"$OMP_WAIT_POLICY\\", \\"settings\\": $2}"`,
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return path;
}

test('parsePeerOutput reads the last line as JSON and names what it got otherwise', () => {
  assert.deepEqual(parsePeerOutput('warming up\n{"a": 1}\n\n'), { a: 1 });
  assert.throws(() => parsePeerOutput('{"a": 1}\ndone'), /no JSON line last \(got "done"\)/);
});

test('findTorchPython takes the first interpreter that imports torch; runPeer passes settings, threads and the wait policy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-peer-'));
  try {
    const ok = fakePython(dir);
    assert.equal(findTorchPython([join(dir, 'missing'), ok]), ok);
    assert.equal(findTorchPython([join(dir, 'missing')]), null);
    const out = runPeer<{ omp: string; wait: string; settings: unknown }>(
      ok,
      'script.py',
      { steps: [1, 25] },
      2,
      'passive',
    );
    assert.deepEqual(out, { omp: '2', wait: 'PASSIVE', settings: { steps: [1, 25] } });
    assert.throws(
      () => runPeer(fakePython(dir, true), 'script.py', {}, 2),
      /PyTorch peer failed .*first \| Traceback: boom/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('twinSettings carries the network sizes and the aligned RoPE positions Attune uses', () => {
  const cfg = v2aTiny();
  const seq = sequence(2);
  const s = twinSettings(cfg, seq, 3, [1, 4]);
  assert.deepEqual([s.steps, s.runs, s.threads], [[1, 4], 3, 2]);
  assert.deepEqual([s.model.dim, s.model.heads, s.model.joint_blocks, s.model.audio_blocks], [32, 2, 1, 1]);
  assert.deepEqual(s.rope.audio.slice(0, 3), [0, 1, 2]);
  assert.equal(s.rope.visual.length, seq.visual);
  assert.ok(Math.abs(s.rope.visual[1] - LATENT_RATE / VISUAL_FPS) < 1e-5, `visual frame 1 at ${s.rope.visual[1]}`);
});

const torchPython = findTorchPython();

for (const visualEncoder of ['patches', 'pixels'] as const)
  test(
    `the PyTorch twin with Attune weights gives Attune velocity (tiny widths, ${visualEncoder} encoder, 2 joint blocks, random weights, padded text)`,
    { skip: torchPython ? false : 'no Python can import torch (python3, /usr/bin/python3)' },
    async () => {
      const cfg = { ...v2aTiny(), visualEncoder, jointBlocks: 2 }; // a full joint block, then the last (audio-only outputs)
      const seq = sequence(2);
      const store = new ParamStore(0);
      const g = new Graph();
      v2aInference(g, new Scope(g, store), cfg, seq, 2);
      // Random values everywhere, zero-initialized modulations included, so every gate and branch counts.
      const rng = new Rng(5);
      for (const name of store.names()) {
        const { shape } = store.get(name);
        const n = shape.reduce((a, b) => a * b, 1);
        store.set(
          name,
          hostArray(
            'float32',
            shape,
            Float32Array.from({ length: n }, () => 0.3 * rng.normal()),
          ),
        );
      }
      const example = synthExample(1, seq, 0, true);
      // The caption's first 5 words, then padding: the key-padding mask then hides the rest.
      const item = {
        frames: example.frames,
        text: example.text.map((id, i) => (i < 5 ? id : 0)),
        textValid: example.text.map((_, i) => (i < 5 ? 1 : 0)),
      };
      const size = 2 * seq.latent * N_MELS;
      const feeds: Record<string, HostArray> = {
        ...conditionFeeds([item, item], seq, [0, 1], [0, 1]), // conditioned, then with video and text dropped
        xt: hostArray(
          'float32',
          [2, seq.latent, N_MELS],
          Float32Array.from({ length: size }, () => rng.normal()),
        ),
        t: hostArray('float32', [2], Float32Array.from([0.3, 0.7])),
      };
      const predictor = await Predictor.create((gg, p) => v2aInference(gg, p, cfg, seq, 2), store, { worker: false });
      const velocity = toFloat32((await predictor.run(feeds)).velocity);
      await predictor.close();
      const dir = mkdtempSync(join(tmpdir(), 'attune-twin-'));
      try {
        const asJson = (a: { shape: readonly number[]; data: ArrayLike<number | bigint> }) => ({
          shape: a.shape,
          data: Array.from(a.data, Number),
        });
        const path = join(dir, 'check.json');
        writeFileSync(
          path,
          JSON.stringify({
            params: Object.fromEntries(store.names().map((n) => [n, asJson(store.get(n))])),
            feeds: Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, asJson(v)])),
            velocity: Array.from(velocity),
          }),
        );
        const r = runPeer<{ params: number; max_abs_diff: number; max_abs_ref: number }>(
          torchPython!,
          peerScript('v2a_torch.py'),
          { ...twinSettings(cfg, seq, 1), check: path },
          2,
          'passive',
        );
        assert.equal(r.params, store.count());
        assert.ok(r.max_abs_ref > 0.1, `Attune's velocity is not trivial (max |v| ${r.max_abs_ref})`);
        assert.ok(
          r.max_abs_diff < 1e-4 * r.max_abs_ref,
          `twin differs by ${r.max_abs_diff} (max |v| ${r.max_abs_ref})`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
