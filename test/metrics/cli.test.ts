import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveNpy } from '../../src/io/npy.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { pairedEmbeddings } from './helpers.js';

/** `attune metrics` end to end on files written the way NumPy and PyTorch write them. */
const BIN = fileURLToPath(new URL('../../../bin/attune.js', import.meta.url));

function attune(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A NumPy v1.0 .npy header + data, as np.save writes for a Fortran-ordered float64 array. */
function fortranF64Npy(rows: number[][]): Buffer {
  const r = rows.length;
  const c = rows[0].length;
  let header = `{'descr': '<f8', 'fortran_order': True, 'shape': (${r}, ${c}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  const data = Buffer.alloc(8 * r * c);
  let k = 0;
  for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) data.writeDoubleLE(rows[i][j], 8 * k++);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), data]);
}

test('metrics on .npy: float32 C order and float64 Fortran order give the same retrieval results', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-metrics-'));
  const { a, b } = pairedEmbeddings(40, 6, 0.6, 21);
  saveNpy(join(dir, 'a.npy'), a);
  saveNpy(join(dir, 'b.npy'), b);
  const bRows = Array.from({ length: 40 }, (_, i) => Array.from(b.data.subarray(i * 6, i * 6 + 6) as Float32Array));
  writeFileSync(join(dir, 'b_fortran.npy'), fortranF64Npy(bRows));
  const one = JSON.parse(
    execFileSync(
      process.execPath,
      [BIN, 'metrics', '--a', join(dir, 'a.npy'), '--b', join(dir, 'b.npy'), '--json', '--out', join(dir, 'out.json')],
      { encoding: 'utf8' },
    ),
  );
  const two = JSON.parse(
    execFileSync(
      process.execPath,
      [BIN, 'metrics', '--a', join(dir, 'a.npy'), '--b', join(dir, 'b_fortran.npy'), '--json'],
      { encoding: 'utf8' },
    ),
  );
  assert.equal(one.task, 'embeddings');
  assert.deepEqual(one.inputs.b.shape, [40, 6]);
  assert.equal(two.inputs.b.dtype, 'float64');
  for (const k of ['a2b_R@1', 'a2b_R@5', 'b2a_mAP@10', 'a2b_mean_rank'])
    assert.equal(two.metrics[k], one.metrics[k], k);
  assert.ok(Math.abs(two.metrics.embedding_similarity - one.metrics.embedding_similarity) < 1e-6);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')).metrics, one.metrics);
});

test('metrics on .safetensors with --key / FILE#NAME, a table by default, and an HTML report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-metrics-'));
  const { a, b } = pairedEmbeddings(25, 4, 0.3, 22);
  const file = join(dir, 'emb.safetensors');
  saveSafetensors(file, { audio: a, text: b });
  const r = attune(['metrics', '--a', `${file}#audio`, '--b', `${file}#text`, '--report', join(dir, 'r.html')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^metric\s+value/);
  assert.match(r.stdout, /a2b_R@1/);
  assert.ok(existsSync(join(dir, 'r.html')));
  assert.match(readFileSync(join(dir, 'r.html'), 'utf8'), /echarts/);
  const amb = attune(['metrics', '--a', file, '--b', file]);
  assert.equal(amb.code, 2);
  assert.match(amb.stderr, /holds 2 tensors \(audio, text\); pick one with --key/);
  const keyed = attune(['metrics', '--a', file, '--b', `${file}#text`, '--key', 'audio', '--json']);
  assert.equal(keyed.code, 0, keyed.stderr);
  assert.equal(JSON.parse(keyed.stdout).inputs.a.file, `${file}#audio`);
});

test('shape errors name the file, the shape and what was expected', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-metrics-'));
  saveNpy(join(dir, 'a.npy'), { dtype: 'float32', shape: [4, 3], data: new Float32Array(12).fill(1) });
  saveNpy(join(dir, 'b.npy'), { dtype: 'float32', shape: [5, 3], data: new Float32Array(15).fill(1) });
  saveNpy(join(dir, 'v.npy'), { dtype: 'float32', shape: [4], data: new Float32Array(4) });
  const rows = attune(['metrics', '--a', join(dir, 'a.npy'), '--b', join(dir, 'b.npy')]);
  assert.equal(rows.code, 2);
  assert.match(rows.stderr, /a\.npy\) has 4 rows but --b \(.*b\.npy\) has 5; rows must be paired/);
  const rank = attune(['metrics', '--a', join(dir, 'v.npy'), '--b', join(dir, 'v.npy')]);
  assert.match(rank.stderr, /--a \(.*v\.npy\) has shape \[4\]; expected \[N, D\] embeddings/);
  const missing = attune(['metrics', '--a', join(dir, 'nope.npy'), '--b', join(dir, 'a.npy'), '--json']);
  assert.equal(missing.code, 2);
  assert.match(JSON.parse(missing.stdout).error.message, /does not exist/);
});

test('classification, MOSI and sync tasks from --pred/--true', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-metrics-'));
  saveNpy(join(dir, 'logits.npy'), {
    dtype: 'float32',
    shape: [4, 3],
    data: new Float32Array([3, 0, 0, 0, 3, 0, 0, 0, 3, 3, 0, 0]),
  });
  saveNpy(join(dir, 'y.npy'), { dtype: 'int64', shape: [4], data: new BigInt64Array([0n, 1n, 2n, 1n]) });
  const c = JSON.parse(
    execFileSync(
      process.execPath,
      [
        BIN,
        'metrics',
        '--pred',
        join(dir, 'logits.npy'),
        '--true',
        join(dir, 'y.npy'),
        '--labels',
        'neg,neu,pos',
        '--json',
      ],
      { encoding: 'utf8' },
    ),
  );
  assert.equal(c.metrics.accuracy, 0.75);
  assert.deepEqual(c.confusion, [
    [1, 0, 0],
    [1, 1, 0],
    [0, 0, 1],
  ]);
  assert.equal(c.perClass[2].label, 'pos');
  saveNpy(join(dir, 'p.npy'), { dtype: 'float64', shape: [3], data: new Float64Array([-1.2, 0.4, 2.2]) });
  saveNpy(join(dir, 't.npy'), { dtype: 'float64', shape: [3], data: new Float64Array([-1, 1, 2]) });
  const m = JSON.parse(
    execFileSync(
      process.execPath,
      [BIN, 'metrics', '--pred', join(dir, 'p.npy'), '--true', join(dir, 't.npy'), '--json'],
      { encoding: 'utf8' },
    ),
  );
  assert.equal(m.task, 'mosi');
  assert.equal(m.metrics.has0Acc2, 1);
  const s = JSON.parse(
    execFileSync(
      process.execPath,
      [BIN, 'metrics', '--task', 'sync', '--pred', join(dir, 'y.npy'), '--true', join(dir, 'y.npy'), '--json'],
      { encoding: 'utf8' },
    ),
  );
  assert.equal(s.metrics.sync_acc1, 1);
  assert.ok(Math.abs(s.metrics.desync_s - (2 + 1.8 + 1.6 + 1.8) / 4) < 1e-12);
});

test('frames, fd and kl tasks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-metrics-'));
  const frames = new Float32Array(3 * 4 * 2).map((_, i) => Math.sin(i + 1));
  saveNpy(join(dir, 'f.npy'), { dtype: 'float32', shape: [3, 4, 2], data: frames });
  const f = JSON.parse(
    execFileSync(process.execPath, [BIN, 'metrics', '--a', join(dir, 'f.npy'), '--b', join(dir, 'f.npy'), '--json'], {
      encoding: 'utf8',
    }),
  );
  assert.equal(f.task, 'frames');
  assert.ok(Math.abs(f.metrics.cosine_sim - 1) < 1e-6);
  const { a, b } = pairedEmbeddings(30, 3, 1, 23);
  saveNpy(join(dir, 'a.npy'), a);
  saveNpy(join(dir, 'b.npy'), b);
  const fd = JSON.parse(
    execFileSync(
      process.execPath,
      [BIN, 'metrics', '--task', 'fd', '--a', join(dir, 'a.npy'), '--b', join(dir, 'a.npy'), '--json'],
      { encoding: 'utf8' },
    ),
  );
  assert.ok(Math.abs(fd.metrics.fd) < 1e-9);
  const kl = JSON.parse(
    execFileSync(
      process.execPath,
      [BIN, 'metrics', '--task', 'kl', '--pred', join(dir, 'a.npy'), '--true', join(dir, 'b.npy'), '--json'],
      { encoding: 'utf8' },
    ),
  );
  assert.ok(kl.metrics.kl_softmax > 0 && kl.metrics.is_mean >= 1);
  const bad = attune(['metrics', '--task', 'nope', '--a', join(dir, 'a.npy'), '--b', join(dir, 'b.npy')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown --task "nope"/);
});
