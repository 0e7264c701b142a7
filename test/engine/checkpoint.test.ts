import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostArray } from '../../src/io/array.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { CHECKPOINT_FORMAT, Checkpoint, loadCheckpoint, saveCheckpoint } from '../../src/engine/checkpoint.js';

const rng = new Rng(4);
rng.normal(); // leaves a cached spare deviate in the state, which must survive the round trip
const sample = (): Checkpoint => ({
  step: 17,
  params: {
    'blocks.0.q.weight': hostArray('float32', [3, 2], Float32Array.from([1, -2, 3.5, 1e-30, -0, 6])),
    log_scale: hostArray('float32', [], Float32Array.from([2.6592600345611572])),
    'embed.bias': hostArray('float64', [2], Float64Array.from([Math.PI, -1e300])),
  },
  optimState: {
    'optim.m.blocks.0.q.weight': hostArray('float32', [3, 2], Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])),
    'v.log_scale': hostArray('float32', []),
  },
  rng: { data: rng.getState(), dropout: null },
  optimizer: { kind: 'adamw', config: { beta1: 0.9 } },
  config: { model: 'reference', dim: 256 },
});

function withDir(fn: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'attune-ckpt-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('checkpoint round trip keeps values bit for bit, step, Rng state, optimizer and config', () =>
  withDir((dir) => {
    const path = join(dir, 'run', 'ckpt.safetensors');
    saveCheckpoint(path, sample());
    const back = loadCheckpoint(path);
    const want = sample();
    assert.equal(back.step, 17);
    assert.deepEqual(Object.keys(back.params).sort(), Object.keys(want.params).sort());
    for (const [k, v] of Object.entries(want.params)) {
      assert.deepEqual(back.params[k].shape, v.shape);
      assert.equal(back.params[k].dtype, v.dtype);
      assert.ok(Buffer.from(back.params[k].data.buffer).equals(Buffer.from(v.data.buffer)), k);
    }
    assert.deepEqual(Object.keys(back.optimState).sort(), ['optim.m.blocks.0.q.weight', 'optim.v.log_scale']);
    assert.deepEqual(back.rng, JSON.parse(JSON.stringify(want.rng)));
    const r2 = new Rng(0);
    r2.setState(back.rng.data!);
    const r1 = new Rng(0);
    r1.setState(want.rng.data!);
    assert.equal(r2.normal(), r1.normal(), 'the cached normal deviate survives');
    assert.deepEqual(back.optimizer, want.optimizer);
    assert.deepEqual(back.config, want.config);
    assert.deepEqual(readdirSync(join(dir, 'run')), ['ckpt.safetensors'], 'no temp files left by the atomic write');
  }));

test('checkpoint file follows the safetensors layout Python and PyTorch read', () =>
  withDir((dir) => {
    const path = join(dir, 'ckpt.safetensors');
    saveCheckpoint(path, sample());
    const buf = readFileSync(path);
    const n = Number(buf.readBigUInt64LE(0)); // u64 little-endian header size
    assert.equal((8 + n) % 8, 0, 'tensor data starts 8-byte aligned');
    const headerText = buf.subarray(8, 8 + n).toString('utf8');
    assert.equal(headerText[0], '{', 'header is a JSON object');
    assert.match(headerText, /^[^\n]*\s*$/, 'header padded with spaces only');
    const header = JSON.parse(headerText);
    // __metadata__: a flat string -> string map (Python rejects anything else)
    const meta = header.__metadata__;
    assert.ok(Object.values(meta).every((v) => typeof v === 'string'));
    assert.equal(meta.format, CHECKPOINT_FORMAT);
    assert.equal(meta.step, '17');
    // entries: dtype names from the safetensors set, shapes as int lists, offsets contiguous from 0 to the end
    const entries = Object.entries(header).filter(([k]) => k !== '__metadata__') as [
      string,
      { dtype: string; shape: number[]; data_offsets: [number, number] },
    ][];
    const sizes: Record<string, number> = { F32: 4, F64: 8 };
    for (const [, e] of entries) {
      assert.ok(e.dtype in sizes, `dtype ${e.dtype}`);
      assert.ok(Array.isArray(e.shape) && e.shape.every(Number.isInteger));
      assert.equal(e.data_offsets[1] - e.data_offsets[0], sizes[e.dtype] * e.shape.reduce((a, b) => a * b, 1));
    }
    const spans = entries.map(([, e]) => e.data_offsets).sort((a, b) => a[0] - b[0]);
    assert.equal(spans[0][0], 0);
    for (let i = 1; i < spans.length; i++) assert.equal(spans[i][0], spans[i - 1][1], 'no gaps or overlaps');
    assert.equal(8 + n + spans.at(-1)![1], buf.byteLength, 'data ends at the end of the file');
    // parameters keep their own names (a PyTorch state dict), optimizer slots are prefixed
    assert.ok(header['blocks.0.q.weight'] && header['optim.m.blocks.0.q.weight'] && header['optim.v.log_scale']);
    assert.deepEqual(header.log_scale.shape, [], 'scalars have shape []');
    // little-endian raw values
    const q = header['blocks.0.q.weight'].data_offsets[0] + 8 + n;
    assert.equal(buf.readFloatLE(q + 4), -2);
  }));

test('loading rejects files that are not Attune checkpoints, naming the file', () =>
  withDir((dir) => {
    const plain = join(dir, 'weights.safetensors');
    saveSafetensors(plain, { w: hostArray('float32', [1]) });
    assert.throws(
      () => loadCheckpoint(plain),
      (e: unknown) =>
        e instanceof InputError && e.message.includes(plain) && /not an Attune checkpoint/.test(e.message),
    );
    const broken = join(dir, 'broken.safetensors');
    writeFileSync(broken, Buffer.from([1, 2, 3]));
    assert.throws(() => loadCheckpoint(broken), InputError);
    assert.throws(
      () =>
        saveCheckpoint(join(dir, 'x.safetensors'), { ...sample(), params: { 'optim.x': hostArray('float32', [1]) } }),
      /collides/,
    );
  }));
