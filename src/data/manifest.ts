import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';

/**
 * Manifest JSONL: one media item per line. Paths are relative to the manifest's folder (absolute
 * paths are kept). Blank lines and lines starting with '#' are skipped. Unknown top-level fields are
 * errors (a typo would otherwise be silently ignored); free-form data goes under `metadata`.
 *
 *   {"id":"clip1","video":"clips/a.mp4","audio":"clips/a.wav","text":"a dog barks","start":0,"end":8,
 *    "labels":{"class":"dog","valence":0.5},"events":[{"time":1.25,"label":"bark"}],"metadata":{"source":"x"}}
 */
const labelValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]);

export const ManifestEventSchema = z
  .object({
    time: z.number().finite().nonnegative(),
    label: z.union([z.string(), z.number()]).optional(),
    duration: z.number().finite().nonnegative().optional(),
  })
  .strict();

export const ManifestItemSchema = z
  .object({
    id: z.string().min(1).optional(),
    video: z.string().min(1).optional(),
    audio: z.string().min(1).optional(),
    text: z.string().optional(),
    start: z.number().finite().nonnegative().optional(),
    end: z.number().finite().positive().optional(),
    labels: z.record(labelValue).optional(),
    events: z.array(ManifestEventSchema).optional(),
    metadata: z.record(z.unknown()).optional(),
  })
  .strict()
  .refine((v) => v.video !== undefined || v.audio !== undefined || v.text !== undefined, {
    message: 'an item needs at least one of video, audio or text',
  })
  .refine((v) => v.start === undefined || v.end === undefined || v.end > v.start, {
    message: 'end must be greater than start',
    path: ['end'],
  });

export type ManifestEvent = z.infer<typeof ManifestEventSchema>;
type RawItem = z.infer<typeof ManifestItemSchema>;

/** A validated item: media paths resolved to absolute paths, plus where it came from. */
export interface ManifestItem extends RawItem {
  id: string;
  line: number; // 1-based line in the manifest file (0 for items built in code)
}

export interface ManifestLineError {
  file: string;
  line: number;
  field: string; // dotted path, '' for the whole line
  message: string; // what was expected
}

export interface ParsedManifest {
  file: string;
  items: ManifestItem[];
  errors: ManifestLineError[];
}

const describe = (e: ManifestLineError): string =>
  `${e.file}:${e.line}: ${e.field ? `field '${e.field}': ` : ''}${e.message}`;

/**
 * The JSON value of every line of a JSONL text (blank lines and # comments skipped); a line that is not JSON becomes
 * an error in `errors`. `each` gets the 1-based line number and a `fail(field, message)` that records an error there.
 */
export function forEachJsonLine(
  text: string,
  file: string,
  errors: ManifestLineError[],
  each: (json: unknown, line: number, fail: (field: string, message: string) => void) => void,
): void {
  text.split(/\r?\n/).forEach((raw, idx) => {
    const line = idx + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fail = (field: string, message: string) => {
      errors.push({ file, line, field, message });
    };
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (err) {
      return fail('', `not valid JSON (${(err as Error).message})`);
    }
    each(json, line, fail);
  });
}

/** Parses manifest text; collects every line's errors instead of stopping at the first. */
export function parseManifest(text: string, file = '<manifest>', baseDir = dirname(resolve(file))): ParsedManifest {
  const items: ManifestItem[] = [];
  const errors: ManifestLineError[] = [];
  const seen = new Map<string, number>();
  forEachJsonLine(text, file, errors, (json, line) => {
    const parsed = ManifestItemSchema.safeParse(json);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        errors.push({ file, line, field: issueField(issue), message: issueMessage(issue) });
      return;
    }
    const item: ManifestItem = { ...parsed.data, id: parsed.data.id ?? defaultId(parsed.data, line), line };
    if (item.video) item.video = resolveMedia(baseDir, item.video);
    if (item.audio) item.audio = resolveMedia(baseDir, item.audio);
    const first = seen.get(item.id);
    if (first !== undefined) {
      errors.push({ file, line, field: 'id', message: `duplicate id '${item.id}' (first used on line ${first})` });
      return;
    }
    seen.set(item.id, line);
    items.push(item);
  });
  return { file, items, errors };
}

function issueField(issue: z.ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => [...issue.path, k].join('.')).join(', ');
  return issue.path.join('.');
}

function issueMessage(issue: z.ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.path[0] === 'events'
        ? 'unknown field (an event has time, label, duration)'
        : 'unknown field (expected id, video, audio, text, start, end, labels, events, metadata; put free-form data under metadata)';
    case 'invalid_type':
      return `expected ${issue.expected}, got ${issue.received}`;
    case 'invalid_union':
      return issue.path[0] === 'labels'
        ? 'expected a label value: string, number, boolean, or an array of strings and numbers'
        : 'expected a string or a number';
    default:
      return issue.message.charAt(0).toLowerCase() + issue.message.slice(1);
  }
}

function defaultId(item: RawItem, line: number): string {
  const media = item.video ?? item.audio;
  return media ? basename(media, extname(media)) : `line${line}`;
}

function resolveMedia(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

export interface ReadManifestOptions {
  /** Also check that every referenced media file exists (errors name file:line and field). */
  checkFiles?: boolean;
  /** Return items from the good lines instead of throwing when some lines are bad. */
  allowErrors?: boolean;
}

/**
 * A manifest's text. A named pipe or device would block readFileSync (or never end): only regular files are
 * manifests. `what` names the kind in errors ("manifest", "emotion manifest").
 */
export function readManifestText(path: string, what = 'manifest'): string {
  try {
    const st = statSync(path);
    if (!st.isFile())
      throw new InputError(
        `cannot read ${what} ${path}: ${st.isDirectory() ? 'it is a folder' : 'not a regular file'}`,
        {
          file: path,
        },
      );
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        file: path,
      },
    );
  }
}

/** Reads and validates a manifest file; throws one InputError listing the bad lines unless allowErrors. */
export function readManifest(path: string, opts: ReadManifestOptions = {}): ParsedManifest {
  const text = readManifestText(path);
  const parsed = parseManifest(text, path);
  if (opts.checkFiles) {
    for (const item of parsed.items) {
      for (const field of ['video', 'audio'] as const) {
        const p = item[field];
        if (p && !existsSync(p))
          parsed.errors.push({ file: path, line: item.line, field, message: `file not found: ${p}` });
      }
    }
    parsed.errors.sort((a, b) => a.line - b.line);
    const bad = new Set(parsed.errors.map((e) => e.line));
    parsed.items = parsed.items.filter((it) => !bad.has(it.line));
  }
  if (parsed.errors.length && !opts.allowErrors) throw manifestError(parsed.errors);
  return parsed;
}

/** One InputError for a list of line errors (the first 10 in the message, all in details). */
export function manifestError(errors: ManifestLineError[]): InputError {
  const shown = errors.slice(0, 10).map(describe);
  const more = errors.length > 10 ? `\n  ... and ${errors.length - 10} more` : '';
  // count lines, not errors: one line can break several rules (two unknown fields, a missing file for video and audio)
  const lines = new Set(errors.map((e) => `${e.file}\0${e.line}`)).size;
  const files = [...new Set(errors.map((e) => e.file))];
  const where = files.length === 1 ? `${files[0]} has` : 'manifests have';
  const counted = `${lines} invalid line${lines === 1 ? '' : 's'}${errors.length > lines ? ` (${errors.length} errors)` : ''}`;
  return new InputError(`${where} ${counted}:\n  ${shown.join('\n  ')}${more}`, {
    file: errors[0]?.file,
    lines,
    errors,
  });
}

/** Writes items as JSONL with media paths made relative to the manifest's folder. */
export function writeManifest(path: string, items: readonly (RawItem | ManifestItem)[]): void {
  const dir = dirname(resolve(path));
  const lines = items.map((it) => {
    const { line: _line, ...rest } = it as ManifestItem;
    const out: RawItem = { ...rest };
    if (out.video) out.video = relativeMedia(dir, out.video);
    if (out.audio) out.audio = relativeMedia(dir, out.audio);
    ManifestItemSchema.parse(out);
    return JSON.stringify(out);
  });
  writeFileAtomic(path, lines.join('\n') + (lines.length ? '\n' : ''));
}

function relativeMedia(dir: string, p: string): string {
  if (!isAbsolute(p)) return p;
  const rel = relative(dir, p);
  return rel.startsWith('..') ? p : rel.split('\\').join('/');
}
