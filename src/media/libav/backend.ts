/**
 * Which decoder runs: FFmpeg 8 in-process through node-av (`ATTUNE_DECODER=libav`, the default wherever node-av and
 * its prebuilt platform package are installed) or the bundled ffmpeg/ffprobe 4.1 CLI (`ATTUNE_DECODER=ffmpeg`, and
 * the fallback where node-av is absent). libav is the default by the comparison in docs/media.md: equal or more
 * correct on every real clip (MPEG-TS probing, exact audio length), the same CPU, no process start per decode. Both
 * backends hand the decoders the same shape, fixed-size byte records plus the error text FFmpeg printed, so the
 * checks on top (frame counts, truncation, NaN samples) are one piece of code whichever backend decoded.
 */
import { createRequire } from 'node:module';
import { ConfigError, MediaError } from '../../util/errors.js';
import { readRecords } from '../chunker.js';
import { spawnTool } from '../ffmpeg.js';

export const DECODER_VAR = 'ATTUNE_DECODER';
export type DecoderBackend = 'ffmpeg' | 'libav';

let installed: boolean | undefined;

/** Whether node-av and (outside Windows, whose packages carry a toolchain suffix) its platform binary resolve. */
export function nodeAvInstalled(): boolean {
  if (installed === undefined) {
    const require = createRequire(import.meta.url);
    try {
      require.resolve('node-av/api');
      if (process.platform !== 'win32')
        require.resolve(`@seydx/node-av-${process.platform}-${process.arch}/package.json`);
      installed = true;
    } catch {
      installed = false;
    }
  }
  return installed;
}

/**
 * The backend ATTUNE_DECODER names; unset: libav where node-av is installed, else the CLI. ConfigError for anything
 * else.
 */
export function decoderBackend(env: NodeJS.ProcessEnv = process.env, libavAvailable = nodeAvInstalled): DecoderBackend {
  const raw = env[DECODER_VAR];
  if (raw === 'ffmpeg') return 'ffmpeg';
  if (raw === 'libav') return 'libav';
  if (raw === undefined || raw === '') return libavAvailable() ? 'libav' : 'ffmpeg';
  throw new ConfigError(`${DECODER_VAR} must be 'ffmpeg' or 'libav', got '${raw}'`, { field: DECODER_VAR, got: raw });
}

/** Fixed-size records from a decoder; the generator's return value is the error text FFmpeg printed ('' if none). */
export type RecordSource = AsyncGenerator<Uint8Array, string>;

/**
 * Runs the ffmpeg CLI and cuts its stdout into records. Stopping the generator early (return()) stops ffmpeg;
 * the last record may be shorter (a partial tail).
 */
export async function* cliRecords(path: string, args: string[], recordBytes: number): RecordSource {
  const proc = spawnTool('ffmpeg', args, { file: path });
  let finished = false;
  try {
    yield* readRecords(proc.stdout, recordBytes);
    const stderr = await proc.done;
    finished = true;
    return stderr;
  } finally {
    if (!finished) proc.stop();
  }
}

/**
 * Keeps up to `depth` records requested ahead of the consumer, so that libav decodes (on libuv's thread pool) while
 * the consumer computes features, as the CLI does in its own process. An async generator queues the requests and
 * answers them in order.
 */
export async function* readAhead(source: RecordSource, depth: number): RecordSource {
  const pending: Promise<IteratorResult<Uint8Array, string>>[] = [];
  try {
    while (true) {
      while (pending.length < depth) {
        const request = source.next();
        request.catch(() => undefined); // a failure surfaces when its turn is awaited, not as an unhandled rejection
        pending.push(request);
      }
      const next = await pending.shift()!;
      if (next.done) return next.value;
      yield next.value;
    }
  } finally {
    await Promise.allSettled(pending);
    await source.return('');
  }
}

/** How many records of `recordBytes` fit the same read-ahead budget as the CLI's pipe reader (8 MiB), at least 2. */
export function readAheadDepth(recordBytes: number): number {
  return Math.max(2, Math.floor((8 * 2 ** 20) / Math.max(1, recordBytes)));
}

export type NodeAvApi = typeof import('node-av/api');
export type NodeAvLib = typeof import('node-av/lib');
export type NodeAvConstants = typeof import('node-av/constants');
export interface NodeAv {
  api: NodeAvApi;
  lib: NodeAvLib;
  constants: NodeAvConstants;
}

let loading: Promise<NodeAv> | null = null;
/** FFmpeg's error lines while a decode is running, per running decode (see captureLog). */
const logSinks = new Set<string[]>();

const importNodeAv = async (): Promise<NodeAv> => {
  const [api, lib, constants] = await Promise.all([
    import('node-av/api'),
    import('node-av/lib'),
    import('node-av/constants'),
  ]);
  return { api, lib, constants };
};

/**
 * Loads node-av with `load` (the package by default, a stand-in in tests); a MediaError that says what to install
 * when the optional package is missing or its platform binary does not load.
 */
export async function openNodeAv(load: () => Promise<NodeAv> = importNodeAv): Promise<NodeAv> {
  let av: NodeAv;
  try {
    av = await load();
  } catch (err) {
    throw new MediaError(
      `${DECODER_VAR}=libav needs the optional package node-av (FFmpeg 8 in-process), which did not load: ` +
        `${(err as Error).message}. Install it with \`npm install node-av\` (it brings its platform package, e.g. ` +
        `@seydx/node-av-linux-x64), or unset ${DECODER_VAR} to decode with the ffmpeg CLI.`,
      { reason: 'node-av missing', field: DECODER_VAR },
    );
  }
  // libav logs to stderr by default; route errors to the running decodes instead (what `-loglevel error` prints
  // for the CLI) and drop the rest.
  av.lib.Log.setCallback(
    (_level, message) => {
      for (const sink of logSinks) sink.push(message.trimEnd());
    },
    { maxLevel: av.constants.AV_LOG_ERROR },
  );
  return av;
}

/** node-av, loaded once (see openNodeAv). */
export function loadNodeAv(): Promise<NodeAv> {
  loading ??= openNodeAv().catch((err: unknown) => {
    loading = null;
    throw err;
  });
  return loading;
}

/** Runs `fn`; on failure, the error lines FFmpeg logged meanwhile come with the error (`lines`). */
export async function withLogLines<T>(fn: () => Promise<T>): Promise<T> {
  const lines: string[] = [];
  logSinks.add(lines);
  try {
    return await fn();
  } catch (err) {
    throw Object.assign(err as Error, { lines });
  } finally {
    logSinks.delete(lines);
  }
}

/**
 * Collects FFmpeg's error messages while `body` runs. The log callback is process-wide, so two decodes running at
 * once (audio and video of one file) may see each other's messages; they are only read when a decode ends short.
 */
export async function* captureLog<T>(body: (log: string[]) => AsyncGenerator<T, void>): AsyncGenerator<T, string> {
  const log: string[] = [];
  logSinks.add(log);
  try {
    yield* body(log);
    return log.join('\n');
  } finally {
    logSinks.delete(log);
  }
}
