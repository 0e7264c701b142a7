/**
 * 16-bit PCM mono WAV without ffmpeg: eSpeak-NG renders 16-bit samples, so writing them back is lossless and
 * the files are byte-identical across runs. Reading accepts only what writeWav16 writes (other WAVs go
 * through src/media/decode_audio.ts).
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../util/atomic.js';
import { InputError } from '../../util/errors.js';

export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const buf = Buffer.alloc(44 + samples.length * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + samples.length * 2, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++)
    buf.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768))), 44 + 2 * i);
  return buf;
}

export function writeWav16(path: string, samples: Float32Array, sampleRate: number): void {
  writeFileAtomic(path, encodeWav16(samples, sampleRate));
}

export function readWav16(path: string): { samples: Float32Array; sampleRate: number } {
  const buf = readFileSync(path);
  const bad = (why: string) =>
    new InputError(`${path}: not a 16-bit mono PCM WAV as emospeech writes (${why})`, { file: path });
  if (buf.length < 44 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw bad('no RIFF/WAVE header');
  if (buf.readUInt16LE(20) !== 1 || buf.readUInt16LE(22) !== 1 || buf.readUInt16LE(34) !== 16)
    throw bad('format, channels or bit depth differ');
  const n = Math.min(buf.readUInt32LE(40), buf.length - 44) >> 1;
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) samples[i] = buf.readInt16LE(44 + 2 * i) / 32768;
  return { samples, sampleRate: buf.readUInt32LE(24) };
}
