/**
 * Hostile inputs, generated on the fly: .npy and .safetensors with truncated data, lying or null headers, huge
 * shapes, wrong dtypes and NaN values; manifests with every kind of bad line; media files that are garbage, empty
 * or cut short; folders, named pipes and dangling links where files are expected. Each is read by the reader
 * Attune uses for it (in this process, with a time limit), and a sample also through the CLI (exit code, one line
 * naming the file, no stack).
 *
 * Expectations: 'reject' (a typed error naming the file), 'accept' (read, and equal to what was written), or
 * 'either' (a damaged-but-readable file, e.g. an MP4 cut in half: a refusal naming it or a result are both fine).
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/util/errors.js';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNpy, encodeNpy, loadNpy, saveNpy } from '../../src/io/npy.js';
import { encodeSafetensors, loadSafetensors } from '../../src/io/safetensors.js';
import { hostArray, type HostArray } from '../../src/io/array.js';
import { readManifest } from '../../src/data/manifest.js';
import { extractFeatures } from '../../src/media/features.js';
import { writeSynth } from '../../src/data/synth/write.js';
import { Rng } from '../../src/util/rng.js';
import { type Ledger, judgeCliRefusal, judgeThrown, runCli, withTimeout } from './common.js';

type Expect = 'reject' | 'accept' | 'either';

interface Case {
  group: string;
  name: string;
  path: string;
  expect: Expect;
  /** reads the file; resolves to a value to compare (accept) or throws */
  read: () => unknown | Promise<unknown>;
  /** for 'accept': checks the value read */
  verify?: (value: unknown) => string | null;
}

const bytesOf = (parts: Uint8Array[]) =>
  Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));

function npyFile(header: string, body: Uint8Array, major = 1): Buffer {
  const pre = Buffer.alloc(major === 1 ? 10 : 12);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(pre);
  if (major === 1) pre.writeUInt16LE(header.length, 8);
  else pre.writeUInt32LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

function stFile(header: string, body: Uint8Array = new Uint8Array(0), lenOverride?: bigint): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lenOverride ?? BigInt(Buffer.byteLength(header)));
  return Buffer.concat([len, Buffer.from(header), body]);
}

const h = (descr: string, shape: string, fortran = 'False') =>
  `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

function sameArray(expected: HostArray) {
  return (value: unknown): string | null => {
    const a = value as HostArray;
    if (!a || a.dtype !== expected.dtype || a.shape.join() !== expected.shape.join())
      return `read ${a?.dtype} [${a?.shape?.join(', ')}], wrote ${expected.dtype} [${expected.shape.join(', ')}]`;
    const x = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    const y = Buffer.from(expected.data.buffer, expected.data.byteOffset, expected.data.byteLength);
    return x.equals(y) ? null : 'values differ';
  };
}

const READER = fileURLToPath(new URL('./read.js', import.meta.url));

/** Reads `path` in a child process (see read.ts), killed after `ms`: a reader that blocks cannot stop the run. */
async function readIsolated(kind: string, path: string, ms = 20_000): Promise<unknown> {
  const child = spawn(process.execPath, [READER, kind, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, ms);
  await new Promise<void>((r) => child.on('close', () => r()));
  clearTimeout(timer);
  if (timedOut) throw new HangError(`the reader blocked on ${path} for ${ms} ms`);
  let answer: { ok?: boolean; error?: { name: string; message: string; typed: boolean } };
  try {
    answer = JSON.parse(out.trim().split('\n').pop() ?? '');
  } catch {
    throw new Error(`the reader crashed: ${err.trim().slice(0, 300)}`);
  }
  if (answer.ok) return {};
  const e = answer.error!;
  throw e.typed ? new InputError(e.message) : Object.assign(new Error(e.message), { name: e.name });
}

export class HangError extends Error {}

/** Special files: a folder, a dangling link, a link loop and a named pipe, all named like `ext` files, read in a child. */
function specials(dir: string, group: string, ext: string, kind: string): Case[] {
  const read = (p: string) => readIsolated(kind, p);
  const cases: Case[] = [];
  const folder = join(dir, `folder${ext}`);
  mkdirSync(folder, { recursive: true });
  cases.push({ group, name: 'folder', path: folder, expect: 'reject', read: () => read(folder) });
  const dangling = join(dir, `dangling${ext}`);
  symlinkSync(join(dir, `nowhere${ext}`), dangling);
  cases.push({ group, name: 'dangling symlink', path: dangling, expect: 'reject', read: () => read(dangling) });
  const loopA = join(dir, `loop-a${ext}`);
  const loopB = join(dir, `loop-b${ext}`);
  symlinkSync(loopB, loopA);
  symlinkSync(loopA, loopB);
  cases.push({ group, name: 'symlink loop', path: loopA, expect: 'reject', read: () => read(loopA) });
  if (process.platform !== 'win32') {
    const fifo = join(dir, `pipe${ext}`);
    execFileSync('mkfifo', [fifo]);
    cases.push({ group, name: 'named pipe', path: fifo, expect: 'reject', read: () => read(fifo) });
  }
  return cases;
}

function npyCases(dir: string, rng: Rng): Case[] {
  mkdirSync(dir, { recursive: true });
  const cases: Case[] = [];
  const file = (name: string, bytes: Uint8Array, expect: Expect = 'reject', verify?: (v: unknown) => string | null) => {
    const path = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.npy`);
    writeFileSync(path, bytes);
    cases.push({ group: 'npy', name, path, expect, read: () => loadNpy(path), verify });
  };
  const f32 = (n: number) => Buffer.from(new Float32Array(n).map(() => rng.normal()).buffer);
  file('zero-length', Buffer.alloc(0));
  file('garbage bytes', Buffer.from(Array.from({ length: 200 }, () => rng.int(256))));
  file('magic only', Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]));
  file('preamble only', npyFile('', Buffer.alloc(0)).subarray(0, 10));
  file(
    'header claims 7000 bytes (20-byte file)',
    Buffer.concat([npyFile('x'.repeat(7000), Buffer.alloc(0)).subarray(0, 10), Buffer.from("{'descr'::")]),
  );
  file('v2 header claims 4 GB', npyFile('', Buffer.alloc(16), 2).fill(0xff, 8, 12));
  file(
    'v2 header claims 500 kB',
    (() => {
      const b = npyFile('', Buffer.alloc(16), 2);
      b.writeUInt32LE(500_000, 8);
      return b;
    })(),
  );
  file(
    'version 9',
    (() => {
      const b = npyFile(h('<f4', '(2,)'), f32(2));
      b[6] = 9;
      return b;
    })(),
  );
  file('header without shape', npyFile("{'descr': '<f4', 'fortran_order': False, }", f32(2)));
  file('header without fortran_order', npyFile("{'descr': '<f4', 'shape': (2,), }", f32(2)));
  file('huge shape (1e12 x 1e12)', npyFile(h('<f4', '(1000000000000, 1000000000000)'), f32(4)));
  file('shape product over 2^53', npyFile(h('<f4', '(1073741824, 1073741824, 1073741824)'), f32(4)));
  file('negative dim', npyFile(h('<f4', '(-4,)'), f32(4)));
  file('dim with letters', npyFile(h('<f4', '(4x,)'), f32(4)));
  file('shape claims 1e8 elements over 8 bytes', npyFile(h('<f4', '(100000000,)'), f32(2)));
  file('data 1 byte short', npyFile(h('<f4', '(8,)'), f32(8)).subarray(0, -1));
  file('data missing', npyFile(h('<f8', '(3, 3)'), new Uint8Array(0)));
  file('trailing bytes after data', npyFile(h('<f4', '(2,)'), f32(3)));
  file('object dtype', npyFile(h('|O', '(2,)'), Buffer.alloc(16)));
  file('unicode dtype', npyFile(h('<U10', '(2,)'), Buffer.alloc(80)));
  file('complex dtype', npyFile(h('<c8', '(2,)'), Buffer.alloc(16)));
  file('structured dtype', npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", f32(2)));
  file('bad endian mark', npyFile(h('xf4', '(2,)'), f32(2)));
  file('binary header', npyFile(String.fromCharCode(...Array.from({ length: 60 }, () => rng.int(256))), f32(2)));
  file('header with NUL bytes', npyFile(h('<f4', '(2,)').replace('descr', 'de\0scr'), f32(2)));
  // valid but unusual: must read back exactly
  const nan = hostArray('float32', [2, 3], new Float32Array([NaN, 1, Infinity, -Infinity, 0, -0]));
  file('NaN and Inf values', bytesOf(encodeNpy(nan)), 'accept', sameArray(nan));
  const scalar = hostArray('float64', [], new Float64Array([Math.PI]));
  file('scalar shape ()', npyFile(h('<f8', '()'), Buffer.from(scalar.data.buffer)), 'accept', sameArray(scalar));
  const empty = hostArray('float32', [0, 4], new Float32Array(0));
  file('zero-size shape (0, 4)', npyFile(h('<f4', '(0, 4)'), Buffer.alloc(0)), 'accept', sameArray(empty));
  const be = Buffer.alloc(16);
  be.writeDoubleBE(1.5, 0);
  be.writeDoubleBE(-2, 8);
  file(
    'big-endian float64',
    npyFile(h('>f8', '(2,)'), be),
    'accept',
    sameArray(hostArray('float64', [2], new Float64Array([1.5, -2]))),
  );
  const half = Buffer.alloc(4);
  half.writeUInt16LE(0x3c00, 0);
  half.writeUInt16LE(0xc000, 2);
  file(
    'float16 widened',
    npyFile(h('<f2', '(2,)'), half),
    'accept',
    sameArray(hostArray('float32', [2], new Float32Array([1, -2]))),
  );
  file(
    'fortran order',
    npyFile(h('<f8', '(2, 3)', 'True'), Buffer.from(new Float64Array([0, 3, 1, 4, 2, 5]).buffer)),
    'accept',
    sameArray(hostArray('float64', [2, 3], new Float64Array([0, 1, 2, 3, 4, 5]))),
  );
  cases.push(...specials(dir, 'npy', '.npy', 'npy'));
  // in memory too: a view never reads the pool bytes around a small Buffer
  const pooled = Buffer.from(npyFile('x'.repeat(7000), Buffer.alloc(0)).subarray(0, 20));
  cases.push({
    group: 'npy',
    name: 'in-memory view over a pooled buffer',
    path: 'pooled.npy',
    expect: 'reject',
    read: () => decodeNpy(pooled.subarray(0, 20), 'pooled.npy'),
  });
  return cases;
}

function safetensorsCases(dir: string, rng: Rng): Case[] {
  mkdirSync(dir, { recursive: true });
  const cases: Case[] = [];
  const file = (name: string, bytes: Uint8Array, expect: Expect = 'reject', verify?: (v: unknown) => string | null) => {
    const path = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.safetensors`);
    writeFileSync(path, bytes);
    cases.push({ group: 'safetensors', name, path, expect, read: () => loadSafetensors(path), verify });
  };
  const t = (dtype: string, shape: unknown, offsets: unknown) =>
    JSON.stringify({ x: { dtype, shape, data_offsets: offsets } });
  file('zero-length', Buffer.alloc(0));
  file('4 bytes', Buffer.from([1, 2, 3, 4]));
  file('garbage bytes', Buffer.from(Array.from({ length: 300 }, () => rng.int(256))));
  file('header length 2^62', stFile('{}', undefined, 1n << 62n));
  file('header length past the end', stFile('{}', undefined, 4096n));
  file('header length 0', stFile(''));
  file('null header', stFile('null'));
  file('array header', stFile('[1, 2, 3]'));
  file('number header', stFile('42'));
  file('string header', stFile('"weights"'));
  file('tensor entry null', stFile('{"x": null}'));
  file('header not JSON', stFile('{"x": {'));
  file('binary header', stFile(String.fromCharCode(...Array.from({ length: 40 }, () => rng.int(256)))));
  file('deeply nested header', stFile('['.repeat(200_000)));
  file('tensor without dtype', stFile(JSON.stringify({ x: { shape: [1], data_offsets: [0, 4] } }), Buffer.alloc(4)));
  file('tensor without shape', stFile(JSON.stringify({ x: { dtype: 'F32', data_offsets: [0, 4] } }), Buffer.alloc(4)));
  file('tensor without offsets', stFile(JSON.stringify({ x: { dtype: 'F32', shape: [1] } }), Buffer.alloc(4)));
  file('offsets reversed', stFile(t('F32', [1], [4, 0]), Buffer.alloc(4)));
  file('offsets past the end', stFile(t('F32', [1000], [0, 4000]), Buffer.alloc(4)));
  file('fractional offsets', stFile(t('F32', [1], [0, 3.5]), Buffer.alloc(4)));
  file('offsets 1e300', stFile(t('F32', [1], [0, 1e300]), Buffer.alloc(4)));
  file('shape disagrees with bytes', stFile(t('F32', [3], [0, 8]), Buffer.alloc(8)));
  file('huge shape', stFile(t('F32', [1e15, 1e15], [0, 4]), Buffer.alloc(4)));
  file('negative dim', stFile(t('F32', [-1], [0, 4]), Buffer.alloc(4)));
  file('string dims', stFile(t('F32', ['2'], [0, 8]), Buffer.alloc(8)));
  file('unsupported dtype', stFile(t('C64', [1], [0, 8]), Buffer.alloc(8)));
  file('dtype not a string', stFile(t(7 as unknown as string, [1], [0, 4]), Buffer.alloc(4)));
  file('metadata with a number', stFile(JSON.stringify({ __metadata__: { step: 3 } })));
  file('metadata null', stFile(JSON.stringify({ __metadata__: null })));
  file('trailing bytes', stFile(t('F32', [1], [0, 4]), Buffer.alloc(12)));
  file('data 1 byte short', stFile(t('F32', [2], [0, 8]), Buffer.alloc(7)));
  const x = hostArray('float32', [2, 2], new Float32Array([NaN, Infinity, -1, 0]));
  file('NaN and Inf values', bytesOf(encodeSafetensors({ x })), 'accept', (v) =>
    sameArray(x)((v as { tensors: Map<string, HostArray> }).tensors.get('x')),
  );
  const half = Buffer.alloc(4);
  half.writeUInt16LE(0x3c00, 0);
  half.writeUInt16LE(0x4049, 2);
  file(
    'F16 and BF16',
    stFile(
      JSON.stringify({
        a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] },
        b: { dtype: 'BF16', shape: [1], data_offsets: [2, 4] },
      }),
      half,
    ),
    'accept',
    (v) => {
      const m = (v as { tensors: Map<string, HostArray> }).tensors;
      return m.get('a')?.data[0] === 1 && m.get('b')?.data[0] === 3.140625 ? null : 'values differ';
    },
  );
  file('empty header object', stFile('{}'), 'accept', (v) =>
    (v as { tensors: Map<string, unknown> }).tensors.size === 0 ? null : 'tensors appeared',
  );
  cases.push(...specials(dir, 'safetensors', '.safetensors', 'safetensors'));
  return cases;
}

function manifestCases(dir: string, media: { wav: string; mp4: string }): Case[] {
  mkdirSync(dir, { recursive: true });
  const cases: Case[] = [];
  const good = JSON.stringify({ id: 'ok', audio: media.wav });
  const file = (
    name: string,
    text: string | Buffer,
    expect: Expect = 'reject',
    verify?: (v: unknown) => string | null,
  ) => {
    const path = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.jsonl`);
    writeFileSync(path, text);
    cases.push({ group: 'manifest', name, path, expect, read: () => readManifest(path, { checkFiles: true }), verify });
  };
  const items = (n: number) => (v: unknown) =>
    (v as { items: unknown[] }).items.length === n
      ? null
      : `read ${(v as { items: unknown[] }).items.length} items, expected ${n}`;
  file('zero-length', '', 'accept', items(0));
  file('invalid JSON line', `${good}\n{"id": "b", "audio": \n`);
  file('unknown field', `${good}\n${JSON.stringify({ id: 'b', audio: media.wav, color: 'red' })}\n`);
  file('wrong field type', `${JSON.stringify({ id: 3, audio: media.wav })}\n`);
  file('missing media file', `${JSON.stringify({ id: 'b', video: join(dir, 'missing.mp4') })}\n`);
  file(
    'dangling media symlink',
    (() => {
      const l = join(dir, 'gone.wav');
      symlinkSync(join(dir, 'never.wav'), l);
      return `${JSON.stringify({ id: 'b', audio: l })}\n`;
    })(),
  );
  file('duplicate ids', `${good}\n${good}\n`);
  file('end before start', `${JSON.stringify({ id: 'b', audio: media.wav, start: 4, end: 2 })}\n`);
  file('negative start', `${JSON.stringify({ id: 'b', audio: media.wav, start: -1 })}\n`);
  file('NaN literal', `{"id": "b", "audio": ${JSON.stringify(media.wav)}, "start": NaN}\n`);
  file('binary garbage', Buffer.from(Array.from({ length: 500 }, (_, i) => (i * 37 + 11) % 256)));
  file('one 2 MB line', `{"id": "${'x'.repeat(2_000_000)}`);
  file('deep nesting', `${'['.repeat(100_000)}\n`);
  file('array instead of object', '[1, 2, 3]\n');
  file('null line', 'null\n');
  file('two errors on one line', `${JSON.stringify({ id: 5, audio: media.wav, color: 'red' })}\n`);
  file('negative event time', `${JSON.stringify({ id: 'b', audio: media.wav, events: [{ time: -1 }] })}\n`);
  file('no media, text or audio', `${JSON.stringify({ id: 'b', labels: { a: 1 } })}\n`);
  file('UTF-8 byte order mark', `\ufeff${good}\n`, 'either');
  file('CRLF line ends', `${good}\r\n${JSON.stringify({ id: 'b', video: media.mp4 })}\r\n`, 'accept', items(2));
  file('comments and blank lines', `# a comment\n\n${good}\n   \n`, 'accept', items(1));
  cases.push(...specials(dir, 'manifest', '.jsonl', 'manifest'));
  return cases;
}

function mediaCases(dir: string, rng: Rng, media: { wav: string; mp4: string; dir: string }): Case[] {
  mkdirSync(dir, { recursive: true });
  const cases: Case[] = [];
  const extract = (p: string) => extractFeatures(p, 'av-basic', {});
  const file = (name: string, ext: string, bytes: Uint8Array, expect: Expect = 'reject') => {
    const path = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}${ext}`);
    writeFileSync(path, bytes);
    cases.push({ group: 'media', name, path, expect, read: () => extract(path), verify: hasStreams });
  };
  const mp4 = readFileSync(media.mp4);
  const wav = readFileSync(media.wav);
  const garbage = (n: number) => Buffer.from(Array.from({ length: n }, () => rng.int(256)));
  file('zero-length .mp4', '.mp4', Buffer.alloc(0));
  file('zero-length .wav', '.wav', Buffer.alloc(0));
  file('garbage bytes .mp4', '.mp4', garbage(4096));
  file('garbage bytes .wav', '.wav', garbage(4096));
  file('garbage bytes .mkv', '.mkv', garbage(2048));
  file('text named .mp3', '.mp3', Buffer.from('this is not audio\n'.repeat(50)));
  file(
    'PNG signature named .mp4',
    '.mp4',
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), garbage(500)]),
  );
  file('first 1 kB of an MP4', '.mp4', mp4.subarray(0, 1024));
  file('MP4 cut at 10%', '.mp4', mp4.subarray(0, Math.floor(mp4.length * 0.1)), 'either');
  file('MP4 cut at 50%', '.mp4', mp4.subarray(0, Math.floor(mp4.length * 0.5)), 'either');
  file(
    'MP4 with a zeroed middle',
    '.mp4',
    Buffer.concat([mp4.subarray(0, mp4.length / 2), Buffer.alloc(Math.ceil(mp4.length / 2))]),
    'either',
  );
  file('WAV header only', '.wav', wav.subarray(0, 44));
  file('WAV cut at 30%', '.wav', wav.subarray(0, Math.floor(wav.length * 0.3)), 'either');
  const lying = Buffer.from(wav);
  lying.writeUInt32LE(0x7ffffff0, 40);
  file('WAV whose data size lies', '.wav', lying, 'either');
  const noRate = Buffer.from(wav);
  noRate.writeUInt32LE(0, 24);
  file('WAV with sample rate 0', '.wav', noRate);
  const noChannels = Buffer.from(wav);
  noChannels.writeUInt16LE(0, 22);
  file('WAV with 0 channels', '.wav', noChannels);
  // names ffmpeg would read as something else without file:
  const tricky = join(dir, 'concat:a.wav|b.wav');
  copyFileSync(media.wav, join(dir, 'a.wav'));
  copyFileSync(media.mp4, join(dir, 'b.wav'));
  writeFileSync(tricky, wav.subarray(0, 44 + 16000 * 2)); // 1 s of the clip, shorter than a.wav + b.wav
  cases.push({
    group: 'media',
    name: 'file named concat:a.wav|b.wav',
    path: tricky,
    expect: 'accept',
    read: () => extract(tricky),
    verify: (v) => {
      const s = (v as { streams: Record<string, { frames: number; rate: number }> }).streams['audio.logmel'];
      return s && Math.abs(s.frames / s.rate - 1) < 0.2
        ? null
        : `read ${s ? (s.frames / s.rate).toFixed(2) : 'no'} s of audio, the file holds 1 s`;
    },
  });
  const dash = join(dir, '-i.wav');
  copyFileSync(media.wav, dash);
  cases.push({
    group: 'media',
    name: 'file named -i.wav',
    path: dash,
    expect: 'accept',
    read: () => extract(dash),
    verify: hasStreams,
  });
  cases.push({
    group: 'media',
    name: 'valid MP4',
    path: media.mp4,
    expect: 'accept',
    read: () => extract(media.mp4),
    verify: hasStreams,
  });
  cases.push(...specials(dir, 'media', '.mp4', 'media'));
  return cases;
}

function hasStreams(v: unknown): string | null {
  const s = (v as { streams?: Record<string, { frames: number; data: Float32Array }> }).streams ?? {};
  const names = Object.keys(s);
  if (!names.length) return 'no streams';
  for (const n of names) if (s[n].data.some((x) => !Number.isFinite(x))) return `${n} holds non-finite values`;
  return null;
}

/** CLI spot checks: bad inputs through the commands people run; exit 2, one line naming the file, nothing false written. */
async function cliCases(root: string, byName: Map<string, Case>, quick: boolean, ledger: Ledger): Promise<void> {
  const good = join(root, 'good.npy');
  saveNpy(
    good,
    hostArray(
      'float32',
      [4, 3],
      new Float32Array(12).map((_, i) => Math.sin(i)),
    ),
  );
  const pick = (group: string, name: string) => byName.get(`${group}/${name}`)!.path;
  const checks: { name: string; args: string[]; file: string }[] = [
    {
      name: 'metrics --a <lying npy header>',
      args: ['metrics', '--a', pick('npy', 'header claims 7000 bytes (20-byte file)'), '--b', good],
      file: pick('npy', 'header claims 7000 bytes (20-byte file)'),
    },
    {
      name: 'metrics --a <null safetensors header>',
      args: ['metrics', '--a', pick('safetensors', 'null header'), '--b', good],
      file: pick('safetensors', 'null header'),
    },
    {
      name: 'metrics --a <NaN values>',
      args: ['metrics', '--a', pick('npy', 'NaN and Inf values'), '--b', good],
      file: pick('npy', 'NaN and Inf values'),
    },
    {
      name: 'features <garbage .mp4>',
      args: ['features', pick('media', 'garbage bytes .mp4'), '--out', join(root, 'cli-features-garbage')],
      file: pick('media', 'garbage bytes .mp4'),
    },
  ];
  if (!quick) {
    checks.push(
      {
        name: 'metrics --a <huge shape>',
        args: ['metrics', '--a', pick('npy', 'huge shape (1e12 x 1e12)'), '--b', good],
        file: pick('npy', 'huge shape (1e12 x 1e12)'),
      },
      {
        name: 'metrics --a <v2 header claims 4 GB>',
        args: ['metrics', '--a', pick('npy', 'v2 header claims 4 GB'), '--b', good],
        file: pick('npy', 'v2 header claims 4 GB'),
      },
      {
        name: 'metrics --a <safetensors header length 2^62>',
        args: ['metrics', '--a', pick('safetensors', 'header length 2^62'), '--b', good],
        file: pick('safetensors', 'header length 2^62'),
      },
      {
        name: 'metrics --a <named pipe>',
        args: ['metrics', '--a', pick('npy', 'named pipe'), '--b', good],
        file: pick('npy', 'named pipe'),
      },
      {
        name: 'metrics --a <dangling symlink>',
        args: ['metrics', '--a', pick('safetensors', 'dangling symlink'), '--b', good],
        file: pick('safetensors', 'dangling symlink'),
      },
      {
        name: 'features <zero-length .wav>',
        args: ['features', pick('media', 'zero-length .wav'), '--out', join(root, 'cli-features-empty')],
        file: pick('media', 'zero-length .wav'),
      },
      {
        name: 'features <dangling .mp4 symlink>',
        args: ['features', pick('media', 'dangling symlink'), '--out', join(root, 'cli-features-dangling')],
        file: pick('media', 'dangling symlink'),
      },
      {
        name: 'sync <text named .mp3>',
        args: ['sync', pick('media', 'text named .mp3')],
        file: pick('media', 'text named .mp3'),
      },
      {
        name: 'train --data <invalid manifest>',
        args: [
          'train',
          'av-sync',
          '--data',
          pick('manifest', 'two errors on one line'),
          '--out',
          join(root, 'cli-train-bad-manifest'),
        ],
        file: pick('manifest', 'two errors on one line'),
      },
      {
        name: 'train --data <named pipe manifest>',
        args: ['train', 'av-sync', '--data', pick('manifest', 'named pipe'), '--out', join(root, 'cli-train-fifo')],
        file: pick('manifest', 'named pipe'),
      },
      {
        name: 'sync --model <truncated weights>',
        args: ['sync', pick('media', 'valid MP4'), '--model', pick('safetensors', 'data 1 byte short')],
        file: pick('safetensors', 'data 1 byte short'),
      },
    );
  }
  for (const c of checks) {
    const r = await runCli(c.args, { cwd: root, timeoutMs: 60_000 });
    const j = judgeCliRefusal(r, c.file);
    ledger.add('cli', c.name, j.outcome, j.detail);
  }
}

export async function runHostile(root: string, opts: { quick: boolean; seed: number; ledger: Ledger }): Promise<void> {
  const rng = new Rng(opts.seed).fork('hostile');
  mkdirSync(root, { recursive: true });
  // real media to damage: one AV-Synth clip (MP4 + WAV), 2 s, small
  const synth = await writeSynth({
    clips: 1,
    out: join(root, 'synth'),
    config: { seed: opts.seed, duration: 2, size: 32, fps: 8 },
    quiet: true,
  });
  const clip = {
    dir: join(synth.out, 'clips'),
    wav: join(synth.out, 'clips', 'clip000000.wav'),
    mp4: join(synth.out, 'clips', 'clip000000.mp4'),
  };
  let cases = [
    ...npyCases(join(root, 'npy'), rng),
    ...safetensorsCases(join(root, 'safetensors'), rng),
    ...manifestCases(join(root, 'manifest'), clip),
    ...mediaCases(join(root, 'media'), rng, clip),
  ];
  const byName = new Map(cases.map((c) => [`${c.group}/${c.name}`, c]));
  if (opts.quick) {
    // every reader's cases but the slow media ones in full; every other media case
    cases = cases.filter((c, i) => c.group !== 'media' || i % 2 === 0 || c.expect === 'accept');
  }
  for (const c of cases) {
    const r = await withTimeout(
      Promise.resolve().then(() => c.read()),
      30_000,
    );
    if (r.timedOut) {
      opts.ledger.add(c.group, c.name, 'hang', 'no answer in 30 s');
      continue;
    }
    if (r.error instanceof HangError) {
      opts.ledger.add(c.group, c.name, 'hang', r.error.message);
      continue;
    }
    if (r.error !== undefined) {
      if (c.expect === 'accept') {
        const j = judgeThrown(r.error, c.path);
        opts.ledger.add(
          c.group,
          c.name,
          j.outcome === 'survived' ? 'wrong' : j.outcome,
          `a valid input was refused: ${j.detail}`,
        );
      } else {
        const j = judgeThrown(r.error, c.path);
        opts.ledger.add(c.group, c.name, j.outcome, j.detail);
      }
      continue;
    }
    if (c.expect === 'reject') {
      opts.ledger.add(c.group, c.name, 'wrong', 'accepted a bad input');
      continue;
    }
    const problem = c.verify?.(r.value) ?? null;
    opts.ledger.add(
      c.group,
      c.name,
      problem ? 'wrong' : 'survived',
      problem ?? (c.expect === 'either' ? 'read what was there' : 'read back exactly'),
    );
  }
  await cliCases(root, byName, opts.quick, opts.ledger);
}
