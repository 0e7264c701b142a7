/**
 * `features` over many files: the worker extracts an item's streams with the preset (whole file, or the manifest
 * line's range) and returns them; the submitter writes <out>/<name>.safetensors (or <name>/*.npy), where <name> is
 * the item's id made a safe, collision-free file name (src/data/names.ts), and <out>/features.json at the end.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { outputNames } from '../../data/names.js';
import { FEATURE_VERSION, describeStreams, extractItem, writeItem } from '../../data/feature_job.js';
import { getPreset, tensorsToStreams } from '../../media/features.js';
import type { FeaturePreset } from '../../media/presets.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { InputError } from '../../util/errors.js';
import type { KindSubmitter } from '../submit.js';
import type { JobKind } from '../types.js';

export interface FeaturesJobOptions {
  preset: string;
  format?: 'safetensors' | 'npy';
  strict?: boolean;
  start?: number;
  duration?: number;
  threads?: number;
}

function featuresOptions(o: Record<string, unknown>): FeaturesJobOptions & { format: 'safetensors' | 'npy' } {
  const format = (o.format ?? 'safetensors') as string;
  if (format !== 'safetensors' && format !== 'npy')
    throw new InputError(`--format expects safetensors or npy, got "${format}"`, { field: '--format', got: format });
  return { ...(o as unknown as FeaturesJobOptions), preset: String(o.preset ?? 'av-basic'), format };
}

export const featuresKind: JobKind<{ preset: FeaturePreset; opts: FeaturesJobOptions }> = {
  name: 'features',
  async open(o) {
    const opts = featuresOptions(o);
    return { preset: getPreset(opts.preset), opts };
  },
  async run({ preset, opts }, item) {
    // A folder's item is one file of either kind; a manifest's may name a video and a separate audio file.
    const r = await extractItem(item.video || item.audio ? item : { ...item, video: item.path }, preset, opts);
    return {
      status: 'ok',
      record: { streams: describeStreams(tensorsToStreams(r.set)), missing: r.missing },
      tensors: r.set,
    };
  },
};

export const featuresSubmitter: KindSubmitter = {
  async prepare(ctx) {
    const opts = featuresOptions(ctx.options);
    const preset = getPreset(opts.preset);
    const names = outputNames(ctx.items.map((i) => i.id));
    const fileOf = (id: string) => (opts.format === 'safetensors' ? `${names.get(id)}.safetensors` : names.get(id)!);
    const meta = { format: 'attune-features', preset: preset.name, version: String(FEATURE_VERSION) };
    return {
      identity: {
        preset,
        version: FEATURE_VERSION,
        strict: !!opts.strict,
        start: opts.start ?? null,
        duration: opts.duration ?? null,
        format: opts.format,
      },
      columns: ['file', 'missing'],
      accept(item, reply) {
        const written = writeItem(ctx.out, names.get(item.id)!, tensorsToStreams(reply.tensors!), opts.format, {
          ...meta,
          source: item.path,
        });
        return { file: relative(ctx.out, written) };
      },
      stillDone: (item, line) => line.file === fileOf(item.id) && existsSync(join(ctx.out, fileOf(item.id))),
      async finish(lines) {
        const ok = lines.filter((l) => l.status === 'ok');
        const path = join(ctx.out, 'features.json');
        writeJsonAtomic(path, {
          input: ctx.input,
          preset: preset.name,
          out: ctx.out,
          total: lines.length,
          succeeded: ok.length,
          failed: lines
            .filter((l) => l.status === 'failed')
            .map((l) => ({ id: l.id, source: l.source, error: l.error, code: l.code })),
          items: ok.map((l) => ({ id: l.id, file: l.file, streams: l.streams, missing: l.missing })),
          settings: preset,
        });
        return { features: path };
      },
    };
  },
};
