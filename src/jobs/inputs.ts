/**
 * What a batch command runs over: a folder (walked recursively for media files, src/data/walk.ts) or a JSONL
 * manifest (src/data/manifest.ts). Problems found before any job runs (a dangling symlink, a manifest line that does
 * not validate, an item without media) are returned as bad inputs: recorded with their reason, never run.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { readManifest } from '../data/manifest.js';
import { walkMedia } from '../data/walk.js';
import { InputError } from '../util/errors.js';
import type { JobItem } from './types.js';

export interface BadInput {
  id: string;
  source: string;
  path: string;
  error: string;
  code: string;
}

export interface JobInputs {
  type: 'folder' | 'manifest';
  root: string;
  items: JobItem[];
  bad: BadInput[];
}

/** 'folder', 'manifest' (.jsonl / .json) or 'file' (anything else: a single media file). */
export function inputType(input: string): 'folder' | 'manifest' | 'file' {
  if (existsSync(input) && statSync(input).isDirectory()) return 'folder';
  return /\.jsonl?$/i.test(input) ? 'manifest' : 'file';
}

export function listJobInputs(input: string, opts: { exclude?: string[] } = {}): JobInputs {
  const type = inputType(input);
  if (type === 'folder') {
    const w = walkMedia(input, { exclude: opts.exclude });
    // ids: the path under DIR without its extension; where two files differ only by extension, with it.
    const stem = (rel: string) => rel.slice(0, rel.length - extname(rel).length);
    const count = new Map<string, number>();
    for (const f of w.files) count.set(stem(f.rel), (count.get(stem(f.rel)) ?? 0) + 1);
    const items = w.files.map((f): JobItem => ({
      id: count.get(stem(f.rel))! > 1 ? f.rel : stem(f.rel),
      source: f.rel,
      path: f.path,
    }));
    const bad = w.bad.map((b): BadInput => ({ id: b.rel, source: b.rel, path: b.path, error: b.reason, code: b.code }));
    return { type, root: w.root, items, bad };
  }
  if (type === 'manifest') {
    const file = resolve(input);
    const m = readManifest(file, { allowErrors: true });
    const name = basename(file);
    const bad: BadInput[] = m.errors.map((e) => ({
      id: `${name}:${e.line}`,
      source: `${name}:${e.line}`,
      path: file,
      error: `${e.field ? `field '${e.field}': ` : ''}${e.message}`,
      code: 'INPUT',
    }));
    const items: JobItem[] = [];
    for (const it of m.items) {
      const source = `${name}:${it.line}`;
      const path = it.video ?? it.audio;
      if (!path) {
        bad.push({ id: it.id, source, path: file, error: 'the item has no video or audio file', code: 'INPUT' });
        continue;
      }
      items.push({ id: it.id, source, path, video: it.video, audio: it.audio, start: it.start, end: it.end });
    }
    const line = (b: BadInput) => Number(b.source.slice(b.source.lastIndexOf(':') + 1));
    return { type, root: file, items, bad: bad.sort((x, y) => line(x) - line(y)) };
  }
  throw new InputError(`${input}: expected a folder or a manifest (.jsonl)`, { file: input });
}
