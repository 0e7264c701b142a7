import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy, loadNpy } from '../../src/io/npy.js';
import { decodeSafetensors, loadSafetensors } from '../../src/io/safetensors.js';
import { hostArray } from '../../src/io/array.js';
import { decodeModel } from '../../src/engine/onnx/proto.js';
import { InputError } from '../../src/util/errors.js';

/** Asserts an InputError whose message names `file`, stays short (no file bytes dumped) and matches `re`. */
function rejects(fn: () => unknown, file: string, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(
      e instanceof InputError,
      `expected InputError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
    );
    const msg = (e as Error).message;
    assert.ok(msg.includes(file), `message does not name ${file}: ${msg}`);
    assert.ok(msg.length < 400, `message is ${msg.length} characters long`);
    assert.match(msg, re);
    return true;
  });
}

function npyPreamble(major: number, headerLen: number): Buffer {
  const b = Buffer.alloc(major === 1 ? 10 : 12);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(b);
  if (major === 1) b.writeUInt16LE(headerLen, 8);
  else b.writeUInt32LE(headerLen, 8);
  return b;
}

function stHeader(json: string, lenOverride?: bigint): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lenOverride ?? BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json)]);
}

test('issue #14 item 6: a .npy whose header claims more bytes than the file never reads past its end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-bounded-'));
  try {
    // 20 bytes whose header claims 7000: the old reader returned a 7085-character message of bytes beyond the file
    const small = join(dir, 'small.npy');
    writeFileSync(small, Buffer.concat([npyPreamble(1, 7000), Buffer.from("{'descr': '<f4'")]).subarray(0, 20));
    rejects(() => loadNpy(small), small, /header length 7000 runs past the end of the file \(20 bytes/);
    // larger claims (version 2 has a 4-byte length) crashed with a RangeError naming no file
    const huge = join(dir, 'huge.npy');
    writeFileSync(huge, Buffer.concat([npyPreamble(2, 0xfffffff0), Buffer.alloc(8)]));
    rejects(() => loadNpy(huge), huge, /header length \d+ exceeds/);
    const mid = join(dir, 'mid.npy');
    writeFileSync(mid, Buffer.concat([npyPreamble(2, 500_000), Buffer.alloc(8)]));
    rejects(() => loadNpy(mid), mid, /runs past the end of the file/);
    // the same from bytes in memory: a view never reaches past the buffer's own bytes
    const pooled = Buffer.from(Buffer.concat([npyPreamble(1, 7000), Buffer.alloc(10)]));
    rejects(() => decodeNpy(pooled.subarray(0, 20), 'mem.npy'), 'mem.npy', /runs past the end/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('issue #14 item 6: lying .npy shapes and dtypes are typed errors naming the file', () => {
  const mk = (header: string, body: Buffer) =>
    Buffer.concat([npyPreamble(1, header.length), Buffer.from(header, 'latin1'), body]);
  rejects(
    () =>
      decodeNpy(
        mk("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }", Buffer.alloc(8)),
        'big.npy',
      ),
    'big.npy',
    /bad shape/,
  );
  rejects(
    () =>
      decodeNpy(mk("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000,), }", Buffer.alloc(8)), 'claims.npy'),
    'claims.npy',
    /truncated: shape \(100000000\) of '<f4' needs 400000000 bytes/,
  );
  rejects(
    () => decodeNpy(mk("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", Buffer.alloc(8)), 'neg.npy'),
    'neg.npy',
    /bad shape/,
  );
  rejects(
    () => decodeNpy(mk("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(8)), 'obj.npy'),
    'obj.npy',
    /unsupported dtype/,
  );
  rejects(
    () => decodeNpy(mk("{'descr': '<f4', 'shape': (2,), }", Buffer.alloc(8)), 'nofo.npy'),
    'nofo.npy',
    /lacks descr, fortran_order or shape/,
  );
  rejects(
    () => decodeNpy(mk("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(8)), 'extra.npy'),
    'extra.npy',
    /4 bytes beyond the data/,
  );
  rejects(
    () => decodeNpy(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 9, 0, 0, 0]), 'v9.npy'),
    'v9.npy',
    /unsupported format version 9/,
  );
  rejects(() => decodeNpy(Buffer.alloc(0), 'empty.npy'), 'empty.npy', /0 bytes/);
  // a good file still reads
  const good = Buffer.concat(
    encodeNpy(hostArray('float32', [2], new Float32Array([1, 2]))).map((p) =>
      Buffer.from(p.buffer, p.byteOffset, p.byteLength),
    ),
  );
  assert.deepEqual([...(decodeNpy(good).data as Float32Array)], [1, 2]);
});

test('issue #14 item 6: safetensors with a null, lying or hostile header is a typed error naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-bounded-st-'));
  try {
    const nul = join(dir, 'null.safetensors');
    writeFileSync(nul, stHeader('null'));
    rejects(() => loadSafetensors(nul), nul, /header must be a JSON object .* got null/);
    rejects(() => decodeSafetensors(stHeader('[1,2]'), 'arr.safetensors'), 'arr.safetensors', /got an array/);
    rejects(
      () => decodeSafetensors(stHeader('{"x": null}'), 'xnull.safetensors'),
      'xnull.safetensors',
      /tensor "x" must be an object/,
    );
    rejects(
      () => decodeSafetensors(stHeader('{}', 1n << 62n), 'len.safetensors'),
      'len.safetensors',
      /header length \d+ runs past the end/,
    );
    rejects(
      () =>
        decodeSafetensors(
          stHeader('{"x":{"dtype":"F32","shape":[1e15,1e15],"data_offsets":[0,4]}}'),
          'shape.safetensors',
        ),
      'shape.safetensors',
      /dims must be non-negative integers/,
    );
    rejects(
      () =>
        decodeSafetensors(stHeader('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,1e300]}}'), 'off.safetensors'),
      'off.safetensors',
      /data_offsets/,
    );
    rejects(
      () =>
        decodeSafetensors(
          Buffer.concat([stHeader('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'), Buffer.alloc(12)]),
          'tail.safetensors',
        ),
      'tail.safetensors',
      /8 bytes beyond the last tensor/,
    );
    rejects(
      () =>
        decodeSafetensors(
          Buffer.concat([stHeader('{"x":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}'), Buffer.alloc(8)]),
          'c64.safetensors',
        ),
      'c64.safetensors',
      /unsupported dtype C64/,
    );
    rejects(
      () => decodeSafetensors(Buffer.concat([stHeader('{"__metadata__":{"a":1}}')]), 'meta.safetensors'),
      'meta.safetensors',
      /__metadata__ must be an object of string values/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('binary readers refuse folders, named pipes and dangling links without blocking, naming the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-bounded-special-'));
  try {
    const folder = join(dir, 'folder.npy');
    mkdirSync(folder);
    rejects(() => loadNpy(folder), folder, /it is a folder/);
    const dangling = join(dir, 'dangling.safetensors');
    symlinkSync(join(dir, 'nowhere'), dangling);
    rejects(() => loadSafetensors(dangling), dangling, /symbolic link to a file that does not exist/);
    if (process.platform !== 'win32') {
      const fifo = join(dir, 'pipe.npy');
      execFileSync('mkfifo', [fifo]);
      rejects(() => loadNpy(fifo), fifo, /named pipe/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the ONNX loader turns truncated or foreign bytes into an InputError naming the source', () => {
  assert.throws(
    () => decodeModel(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2]), 'model.onnx'),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match((e as Error).message, /model\.onnx: not a valid ONNX model file/);
      return true;
    },
  );
  assert.throws(
    () => decodeModel(new Uint8Array(0), 'empty.onnx'),
    /empty\.onnx: not a valid ONNX model file: it has no graph/,
  );
});
