import { MediaError } from '../util/errors.js';
import { ffFile, runTool, stderrTail } from './ffmpeg.js';

/**
 * Fallback probe from `ffmpeg -i FILE`'s stream summary, for when ffprobe itself crashes (the ffprobe binary that
 * @ffprobe-installer ships segfaults on MPEG-TS files, for example). Returns the subset of ffprobe's JSON that
 * parseProbe reads. What ffmpeg does not print is left out: per-stream start times and durations (the container's
 * are used) and frame counts.
 */
export interface FallbackProbe {
  streams: Record<string, unknown>[];
  format: Record<string, string>;
}

const LAYOUT_CHANNELS: Record<string, number> = {
  mono: 1,
  stereo: 2,
  '2.1': 3,
  '3.0': 3,
  quad: 4,
  '4.0': 4,
  '4.1': 5,
  '5.0': 5,
  '5.0(side)': 5,
  '5.1': 6,
  '5.1(side)': 6,
  '6.1': 7,
  '7.1': 8,
};

/** Splits "a (b, c), d, e" at top-level commas. */
function topLevelParts(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(' || ch === '[') depth++;
    if (ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}

function rate(text: string): string {
  // "29.97", "30", "1k" -> a fraction string as ffprobe prints it.
  const v = text.endsWith('k') ? Number(text.slice(0, -1)) * 1000 : Number(text);
  return Number.isFinite(v) ? `${Math.round(v * 1000)}/1000` : '0/0';
}

/** Parses ffmpeg's "Input #0 ..." summary (exported for tests). */
export function parseFfmpegSummary(text: string): FallbackProbe | null {
  const lines = text.split(/\r?\n/);
  const input = lines.findIndex((l) => /^Input #0, /.test(l));
  if (input < 0) return null;
  const format: Record<string, string> = { format_name: lines[input].replace(/^Input #0, (.*), from '.*$/, '$1') };
  const streams: Record<string, unknown>[] = [];
  for (const line of lines.slice(input + 1)) {
    if (/^(Output|Stream mapping)/.test(line.trim())) break;
    const dur = /Duration: (\d+):(\d+):([\d.]+)/.exec(line);
    if (dur) format.duration = String(Number(dur[1]) * 3600 + Number(dur[2]) * 60 + Number(dur[3]));
    const start = /start: (-?[\d.]+)/.exec(line);
    if (start) format.start_time = start[1];
    const st = /Stream #0:(\d+)[^:]*: (Video|Audio|Subtitle|Data|Attachment): (.*)$/.exec(line.trim());
    if (st) {
      const parts = topLevelParts(st[3]);
      const codec = parts[0].split(/\s/)[0];
      const s: Record<string, unknown> = { index: Number(st[1]), codec_type: st[2].toLowerCase(), codec_name: codec };
      if (st[2] === 'Video') {
        s.pix_fmt = (parts[1] ?? '').split('(')[0];
        const size = parts.map((p) => /^(\d+)x(\d+)(?: \[SAR (\d+):(\d+))?/.exec(p)).find((m) => m);
        if (size) {
          s.width = Number(size[1]);
          s.height = Number(size[2]);
          if (size[3]) s.sample_aspect_ratio = `${size[3]}:${size[4]}`;
        }
        const fps = parts.map((p) => /^([\d.]+k?) fps$/.exec(p)).find((m) => m);
        const tbr = parts.map((p) => /^([\d.]+k?) tbr$/.exec(p)).find((m) => m);
        s.avg_frame_rate = fps ? rate(fps[1]) : '0/0';
        s.r_frame_rate = tbr ? rate(tbr[1]) : s.avg_frame_rate;
        s.disposition = { attached_pic: /\(attached pic\)/.test(line) ? 1 : 0 };
      } else if (st[2] === 'Audio') {
        const hz = parts.map((p) => /^(\d+) Hz$/.exec(p)).find((m) => m);
        if (hz) s.sample_rate = hz[1];
        const layout = parts[hz ? parts.indexOf(hz.input) + 1 : 2] ?? '';
        const n = /^(\d+) channels/.exec(layout);
        s.channels = n ? Number(n[1]) : (LAYOUT_CHANNELS[layout] ?? 0);
        s.channel_layout = layout;
      }
      streams.push(s);
      continue;
    }
    const rot = /^\s+rotate\s*:\s*(-?\d+)/.exec(line);
    if (rot && streams.length > 0) streams[streams.length - 1].tags = { rotate: rot[1] };
  }
  return { streams, format };
}

/** Runs `ffmpeg -i path` and parses its summary; MediaError when ffmpeg cannot open the file either. */
export async function probeWithFfmpeg(path: string): Promise<FallbackProbe> {
  const { stderr } = await runTool('ffmpeg', ['-hide_banner', '-nostdin', '-i', ffFile(path)], {
    file: path,
    allowFailure: true,
  });
  const parsed = parseFfmpegSummary(stderr);
  if (!parsed) {
    throw new MediaError(`${path}: ffmpeg cannot read it: ${stderrTail(stderr)}`, {
      file: path,
      reason: 'unreadable media',
      stderr: stderrTail(stderr),
    });
  }
  return parsed;
}
