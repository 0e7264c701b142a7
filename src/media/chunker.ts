import type { Readable } from 'node:stream';

/**
 * Cuts a byte stream (ffmpeg's stdout) into fixed-size records, reading ahead into a bounded queue so that ffmpeg
 * keeps decoding while the consumer computes features (a pipe alone holds less than one video frame).
 * Memory stays below `maxBufferedBytes` plus one record. The last record may be shorter (a partial tail).
 */
export async function* readRecords(
  stream: Readable,
  recordBytes: number,
  maxBufferedBytes = 8 * 2 ** 20,
): AsyncGenerator<Uint8Array> {
  const maxQueued = Math.max(2, Math.floor(maxBufferedBytes / recordBytes));
  const queue: Uint8Array[] = [];
  let current = new Uint8Array(recordBytes);
  let filled = 0;
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onData = (chunk: Buffer): void => {
    let off = 0;
    while (off < chunk.length) {
      const take = Math.min(recordBytes - filled, chunk.length - off);
      current.set(chunk.subarray(off, off + take), filled);
      filled += take;
      off += take;
      if (filled === recordBytes) {
        queue.push(current);
        current = new Uint8Array(recordBytes);
        filled = 0;
      }
    }
    if (queue.length >= maxQueued) stream.pause();
    notify();
  };
  const onEnd = (): void => {
    ended = true;
    notify();
  };
  const onError = (err: Error): void => {
    failure = err;
    ended = true;
    notify();
  };
  stream.on('data', onData);
  stream.once('end', onEnd);
  stream.once('close', onEnd);
  stream.once('error', onError);
  try {
    while (true) {
      if (queue.length > 0) {
        const next = queue.shift()!;
        if (stream.isPaused() && queue.length < maxQueued / 2) stream.resume();
        yield next;
        continue;
      }
      if (failure) throw failure;
      if (ended) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (filled > 0) yield current.subarray(0, filled);
  } finally {
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('close', onEnd);
    stream.off('error', onError);
  }
}
