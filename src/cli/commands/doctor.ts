/**
 * `attune doctor`: what this installation has. Required parts (ONNX Runtime, ffmpeg, ffprobe, the face models of
 * @vladmandic/human) with their versions and where they come from; the optional parts (node-av, the in-process
 * decoder; the CUDA provider), whether they are present, and which decoder is in use. Reads package manifests and runs `-version`; loads no model and no native library.
 */
import type { Command } from 'commander';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { binarySource, type FfTool } from '../../media/ffmpeg.js';
import { decoderBackend, nodeAvInstalled } from '../../media/libav/backend.js';
import { formatTable, printJson } from '../output.js';

export type PartKind = 'required' | 'optional';

export interface Part {
  name: string;
  kind: PartKind;
  present: boolean;
  version: string | null;
  /** Where it was found (a path), or how to get it when absent. */
  detail: string;
  /** What it is for. */
  role: string;
}

const require = createRequire(import.meta.url);

/** The package's directory: from its package.json, or, when its `exports` hide that, up from its entry point. */
function packageDir(name: string): string | null {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    // Not exported or not installed: fall through.
  }
  let dir: string;
  try {
    dir = dirname(require.resolve(name));
  } catch {
    return null;
  }
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === name) return dir;
  }
  return null;
}

function packageJson(name: string): { dir: string; pkg: Record<string, unknown> } | null {
  const dir = packageDir(name);
  if (!dir) return null;
  try {
    return { dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown> };
  } catch {
    return null;
  }
}

function npmPart(name: string, kind: PartKind, role: string, missing: string): Part {
  const found = packageJson(name);
  return {
    name,
    kind,
    role,
    present: found !== null,
    version: found ? String(found.pkg.version) : null,
    detail: found ? found.dir : missing,
  };
}

async function toolPart(tool: FfTool): Promise<Part> {
  const role =
    tool === 'ffmpeg'
      ? 'writes media; decodes where libav is not in use'
      : 'reads container and stream headers where libav is not in use';
  try {
    const src = binarySource(tool);
    const { stdout } = await promisify(execFile)(src.path, ['-hide_banner', '-version'], { timeout: 10_000 });
    const version = /version (\S+)/.exec(stdout)?.[1] ?? 'unknown';
    return {
      name: tool,
      kind: 'required',
      present: true,
      version,
      detail: `${src.path} (from ${src.from === 'PATH' ? 'PATH' : src.via})`,
      role,
    };
  } catch (err) {
    return {
      name: tool,
      kind: 'required',
      present: false,
      version: null,
      detail: (err as Error).message.split('\n')[0],
      role,
    };
  }
}

function cudaPart(): Part {
  const ort = packageJson('onnxruntime-node');
  const bin = ort ? join(ort.dir, 'bin', 'napi-v6', platform(), arch()) : '';
  const libs = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
  const present = ort !== null && platform() === 'linux' && libs.every((l) => existsSync(join(bin, l)));
  return {
    name: 'onnxruntime CUDA provider',
    kind: 'optional',
    role: '--device cuda (opt-in, docs/gpu.md)',
    present,
    version: present ? String(ort!.pkg.version) : null,
    detail: present ? bin : 'not installed: CPU only (docs/gpu.md says how to add it)',
  };
}

export async function doctorReport(): Promise<{
  attune: string;
  node: string;
  platform: string;
  /** The decoder backend in use (ATTUNE_DECODER, else libav where node-av is installed). */
  decoder: string;
  parts: Part[];
  ok: boolean;
}> {
  const self = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const ort = npmPart('onnxruntime-node', 'required', 'runs every model (CPU build)', 'missing: reinstall attune');
  const bundled = ort.present && Boolean(packageJson('onnxruntime-node')?.pkg.attuneBundled);
  if (bundled) ort.detail += ' (bundled with attune, without its CUDA download hook)';
  const parts: Part[] = [
    ort,
    await toolPart('ffmpeg'),
    await toolPart('ffprobe'),
    {
      ...npmPart(
        'node-av',
        'optional',
        'decodes and probes media in-process (FFmpeg 8, the default decoder)',
        'missing: the ffmpeg CLI decodes instead (npm install node-av)',
      ),
      present: nodeAvInstalled(),
    },
    npmPart('echarts', 'required', 'charts in HTML reports', 'missing: reinstall attune'),
    cudaPart(),
    npmPart(
      '@vladmandic/human',
      'required',
      "face models (converted to ONNX): the lip cue of sync, the 'face' feature preset",
      'missing: reinstall attune',
    ),
  ];
  return {
    attune: self.version,
    node: process.version,
    platform: `${platform()}/${arch()}`,
    decoder: decoderBackend(),
    parts,
    ok: parts.every((p) => p.kind !== 'required' || p.present),
  };
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description(
      'list the required and optional parts of this installation (versions, where they come from, what is missing)',
    )
    .option('--json', 'print the report as JSON', false)
    .action(async (o: { json: boolean }) => {
      const r = await doctorReport();
      if (o.json) printJson(r);
      else {
        process.stdout.write(`attune ${r.attune} on node ${r.node} (${r.platform}); decoder: ${r.decoder}\n\n`);
        process.stdout.write(
          formatTable(
            ['part', 'kind', 'present', 'version', 'for', 'where'],
            r.parts.map((p) => [p.name, p.kind, p.present ? 'yes' : 'no', p.version ?? '-', p.role, p.detail]),
          ) + '\n',
        );
        if (!r.ok) process.stdout.write('\nA required part is missing: reinstall attune (npm install).\n');
      }
      if (!r.ok) process.exitCode = 1;
    });
}
