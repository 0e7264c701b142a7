import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors } from '../../src/io/safetensors.js';
import { decodeNpy, encodeNpy, loadNpy, saveNpy } from '../../src/io/npy.js';
import { assertFinite, hostArray } from '../../src/io/array.js';
import { InputError, ShapeError } from '../../src/util/errors.js';
import { writeFileAtomic } from '../../src/util/atomic.js';

const concat = (parts: Uint8Array[]) =>
  Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));

test('safetensors round trip keeps dtypes, shapes, values and metadata', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-st-'));
  const path = join(dir, 'w.safetensors');
  const w = hostArray('float32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6.5]));
  const step = hostArray('int64', [1], new BigInt64Array([42n]));
  const d = hostArray('float64', [2], new Float64Array([Math.PI, -1e-300]));
  saveSafetensors(path, { 'layer.weight': w, step, d }, { config: '{"a":1}' });
  const back = loadSafetensors(path);
  assert.deepEqual([...back.tensors.keys()].sort(), ['d', 'layer.weight', 'step']);
  assert.deepEqual(back.tensors.get('layer.weight')!.shape, [2, 3]);
  assert.deepEqual([...(back.tensors.get('layer.weight')!.data as Float32Array)], [1, 2, 3, 4, 5, 6.5]);
  assert.equal((back.tensors.get('step')!.data as BigInt64Array)[0], 42n);
  assert.equal((back.tensors.get('d')!.data as Float64Array)[0], Math.PI);
  assert.equal(back.metadata.config, '{"a":1}');
});

test('safetensors layout follows the format: u64 header length, JSON header, 8-byte aligned data, upper-case dtypes', () => {
  const bytes = concat(encodeSafetensors({ x: hostArray('float32', [2], new Float32Array([1, 2])) }));
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  assert.deepEqual(header.x, { dtype: 'F32', shape: [2], data_offsets: [0, 8] });
  assert.equal(bytes.byteLength, 8 + n + 8);
});

test('safetensors reads F16 and BF16 as float32', () => {
  const header = JSON.stringify({
    h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
    b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
  });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const data = Buffer.alloc(6);
  data.writeUInt16LE(0x3c00, 0); // 1.0
  data.writeUInt16LE(0xc000, 2); // -2.0
  data.writeUInt16LE(0x4049, 4); // bf16 of ~3.140625
  const f = decodeSafetensors(Buffer.concat([len, Buffer.from(header), data]));
  assert.deepEqual([...(f.tensors.get('h')!.data as Float32Array)], [1, -2]);
  assert.equal((f.tensors.get('b')!.data as Float32Array)[0], 3.140625);
});

test('safetensors rejects truncated files with the file name in the message', () => {
  const bytes = concat(encodeSafetensors({ x: hostArray('float32', [4]) }));
  assert.throws(
    () => decodeSafetensors(bytes.subarray(0, bytes.byteLength - 4), 'model.safetensors'),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match((e as Error).message, /model\.safetensors/);
      assert.match((e as Error).message, /outside the file|bytes/);
      return true;
    },
  );
  assert.throws(() => loadSafetensors('/nonexistent/file.safetensors'), /cannot read \/nonexistent\/file\.safetensors/);
});

test('npy round trip, and NumPy-written float64 Fortran-order and big-endian files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-npy-'));
  const a = hostArray('float32', [2, 3], new Float32Array([0, 1, 2, 3, 4, 5]));
  saveNpy(join(dir, 'a.npy'), a);
  const raw = readFileSync(join(dir, 'a.npy'));
  assert.equal((10 + raw.readUInt16LE(8)) % 64, 0, 'header is padded to 64 bytes like NumPy');
  assert.deepEqual(loadNpy(join(dir, 'a.npy')), a);

  // np.asfortranarray(np.arange(6, dtype='<f8').reshape(2, 3)) stores columns: 0 3 1 4 2 5
  const header = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }";
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]);
  const body = Buffer.from(new Float64Array([0, 3, 1, 4, 2, 5]).buffer);
  const f = decodeNpy(Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
  assert.equal(f.dtype, 'float64');
  assert.deepEqual([...(f.data as Float64Array)], [0, 1, 2, 3, 4, 5]);

  const beHeader = "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }";
  const be = Buffer.alloc(8);
  be.writeInt32BE(7, 0);
  be.writeInt32BE(-9, 4);
  const pre2 = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, beHeader.length, 0]);
  assert.deepEqual(
    [...(decodeNpy(Buffer.concat([pre2, Buffer.from(beHeader, 'latin1'), be])).data as Int32Array)],
    [7, -9],
  );
});

test('npy rejects a truncated body and unsupported dtypes, naming the file', () => {
  const bytes = concat(encodeNpy(hostArray('float64', [4])));
  assert.throws(() => decodeNpy(bytes.subarray(0, bytes.byteLength - 8), 'emb.npy'), /emb\.npy.*truncated/);
  const header = "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }";
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]);
  assert.throws(
    () => decodeNpy(Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.alloc(16)]), 'c.npy'),
    /c\.npy.*unsupported dtype '<c16'/,
  );
  assert.throws(() => decodeNpy(Buffer.from('hello world!'), 'x.npy'), /x\.npy.*magic/);
});

test('shape and finiteness checks name the problem', () => {
  assert.throws(() => hostArray('float32', [2, 2], new Float32Array(3)), ShapeError);
  const a = hostArray('float32', [2, 2], new Float32Array([0, 1, NaN, 3]));
  assert.throws(() => assertFinite(a, 'embeddings A'), /embeddings A contains NaN at index \[1, 0\]/);
});

test('atomic writes replace the file whole and leave no temp files behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-atomic-'));
  const path = join(dir, 'out.json');
  writeFileSync(path, 'old');
  writeFileAtomic(path, [Buffer.from('new '), Buffer.from('content')]);
  assert.equal(readFileSync(path, 'utf8'), 'new content');
  assert.deepEqual(readdirSync(dir), ['out.json']);
});
