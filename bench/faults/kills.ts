/**
 * kill -9 at seeded random moments, then resume or re-run, and compare with an uninterrupted reference:
 *   train      `attune train av-sync --data synth:N` killed (sometimes twice, the second time while resuming), then
 *              `--resume` to the end: losses, evaluations, weights, optimizer state and metrics must equal the
 *              reference run's bit for bit (the trainer promises exact resumption), and no temp file may remain
 *   writes     a child writing checkpoints in a loop through the trainer's writer: the file on disk must be one
 *              whole version, at least the last one the child acknowledged
 *   features   `attune features MANIFEST --out DIR` over AV-Synth clips, killed, then run again: every item's
 *              output must equal the reference run's, and no temp file may remain
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../../src/engine/checkpoint.js';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors.js';
import type { HostArray } from '../../src/io/array.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { writeSynth } from '../../src/data/synth/write.js';
import { Rng } from '../../src/util/rng.js';
import { type CliResult, type Ledger, judgeCliRefusal, runCli, sleep, startCli, tempFilesUnder } from './common.js';

const bits = (a: HostArray) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);

interface TrainRef {
  dir: string;
  ms: number;
  firstStepMs: number;
  metrics: Record<string, unknown>;
  trace: string[];
}

const TRAIN_SETS = ['train.batchSize=4', 'train.checkpointEvery=4', 'train.evalEvery=1'];

/** Training from a shared, warm feature cache: the run's time goes to steps and checkpoints, not to features. */
function trainArgs(out: string, clips: number, cache: string, epochs = 24): string[] {
  return [
    'train',
    'av-sync',
    '--data',
    `synth:${clips}`,
    '--variant',
    'tiny',
    ...[...TRAIN_SETS, `train.epochs=${epochs}`].flatMap((s) => ['--set', s]),
    '--cache',
    cache,
    '--out',
    out,
    '--quiet',
  ];
}

/** The comparable parts of a finished run: its log without times, its metrics without timings. */
function runRecord(dir: string): { metrics: Record<string, unknown>; trace: string[] } {
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
  for (const k of ['seconds', 'stepsPerSecond']) delete metrics[k];
  const trace = readFileSync(join(dir, 'log.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.type === 'step' || l.type === 'eval')
    .map(({ time: _t, ...rest }) => JSON.stringify(rest));
  return { metrics, trace };
}

/** Paths where two JSON values differ, as 'a.b: got vs reference'. */
function jsonDiff(a: unknown, b: unknown, path = ''): string[] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) =>
      jsonDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k),
    );
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}

function compareRuns(ref: TrainRef, dir: string): string | null {
  if (!existsSync(join(dir, 'metrics.json'))) return 'no metrics.json after the final resume';
  const r = runRecord(dir);
  const diffs = jsonDiff(r.metrics, ref.metrics);
  if (diffs.length)
    return `metrics.json differs from the reference at ${diffs.slice(0, 4).join(', ')}${diffs.length > 4 ? ` and ${diffs.length - 4} more` : ''}`;
  if (r.trace.length !== ref.trace.length)
    return `log has ${r.trace.length} step/eval lines, the reference ${ref.trace.length}`;
  const i = r.trace.findIndex((l, k) => l !== ref.trace[k]);
  if (i >= 0) return `log line ${i} differs: ${r.trace[i].slice(0, 200)} vs ${ref.trace[i].slice(0, 200)}`;
  const [a, b] = [
    loadCheckpoint(join(dir, 'checkpoints', 'last.safetensors')),
    loadCheckpoint(join(ref.dir, 'checkpoints', 'last.safetensors')),
  ];
  if (a.step !== b.step) return `final checkpoint at step ${a.step}, the reference at ${b.step}`;
  for (const n of Object.keys(b.params))
    if (!a.params[n] || !bits(a.params[n]).equals(bits(b.params[n]))) return `weights differ from the reference (${n})`;
  for (const n of Object.keys(b.optimState))
    if (!a.optimState[n] || !bits(a.optimState[n]).equals(bits(b.optimState[n])))
      return `optimizer state differs from the reference (${n})`;
  if (JSON.stringify(a.rng) !== JSON.stringify(b.rng)) return 'Rng state differs from the reference';
  for (const f of ['best.safetensors', 'model.onnx']) {
    const [mine, theirs] = [join(dir, f), join(ref.dir, f)];
    if (existsSync(theirs) && (!existsSync(mine) || !readFileSync(mine).equals(readFileSync(theirs))))
      return `${f} ${existsSync(mine) ? 'differs from' : 'is missing, unlike'} the reference`;
  }
  if (existsSync(join(ref.dir, 'report.html'))) {
    const report = existsSync(join(dir, 'report.html')) ? readFileSync(join(dir, 'report.html'), 'utf8') : '';
    if (!report.trimEnd().endsWith('</html>')) return 'report.html is missing or incomplete';
  }
  return null;
}

/** Every file the run folder holds must parse: JSON, JSONL (a torn last line is tolerated only mid-run), safetensors. */
function corruptFiles(dir: string): string[] {
  const bad: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json')) {
        try {
          JSON.parse(readFileSync(p, 'utf8'));
        } catch {
          bad.push(p);
        }
      } else if (e.name.endsWith('.jsonl')) {
        const lines = readFileSync(p, 'utf8').split('\n').filter(Boolean);
        for (const l of lines)
          try {
            JSON.parse(l);
          } catch {
            bad.push(p);
            break;
          }
      } else if (e.name.endsWith('.safetensors')) {
        try {
          loadSafetensors(p);
        } catch {
          bad.push(p);
        }
      }
    }
  };
  walk(dir);
  return bad;
}

function describe(r: CliResult): string {
  return `exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`;
}

/** Starts a command and SIGKILLs it after `ms` (if still running); resolves when it is gone. */
async function killAfter(args: string[], ms: number): Promise<{ killed: boolean; result: CliResult }> {
  const run = startCli(args, { timeoutMs: 600_000 });
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    run.kill('SIGKILL');
  }, ms);
  const result = await run.done;
  clearTimeout(timer);
  return { killed: killed && result.signal === 'SIGKILL', result };
}

async function trainTrials(root: string, trials: number, rng: Rng, ledger: Ledger, quick: boolean): Promise<number> {
  const clips = 24;
  const cache = join(root, 'train-cache');
  const warm = await runCli(trainArgs(join(root, 'train-warm'), clips, cache, 1), { timeoutMs: 600_000 });
  if (warm.code !== 0) {
    ledger.add('train', 'warm-up run', 'stack', describe(warm));
    return 0;
  }
  const refDir = join(root, 'train-ref');
  const t0 = Date.now();
  const r = await runCli(trainArgs(refDir, clips, cache), { timeoutMs: 600_000 });
  if (r.code !== 0) {
    ledger.add('train', 'reference run', 'stack', describe(r));
    return 0;
  }
  const ms = Date.now() - t0;
  // when the first step was logged ('time' counts from the run's start, after the process started)
  const steps = readFileSync(join(refDir, 'log.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; time?: number })
    .filter((l) => l.type === 'step');
  const firstStepMs = Math.min(ms * 0.8, (steps[0]?.time ?? 0) * 1000 + 500);
  const lastStepMs = Math.max(firstStepMs, Math.min(ms * 0.95, (steps.at(-1)?.time ?? 0) * 1000 + 500));
  const ref: TrainRef = { dir: refDir, ms, firstStepMs, ...runRecord(refDir) };
  // kills land while starting up (data, compile; 20%), while training and checkpointing (55%), and in the end
  // phase after the last step (final evaluation, calibration, best weights, export, report, metrics; 25%)
  const when = () => {
    const u = rng.uniform();
    return Math.round(
      u < 0.2
        ? rng.range(0.1 * ms, firstStepMs)
        : u < 0.75
          ? rng.range(firstStepMs, lastStepMs)
          : rng.range(lastStepMs, 0.99 * ms),
    );
  };
  let kills = 0;
  for (let t = 0; t < trials; t++) {
    const dir = join(root, `train-${t}`);
    const problems: string[] = [];
    let lost = '';
    // first kill: anywhere from start-up to near the end of an uninterrupted run
    const first = await killAfter(trainArgs(dir, clips, cache), when());
    let killedHere = first.killed ? 1 : 0;
    const ckptStep = () => {
      try {
        return String(loadCheckpoint(join(dir, 'checkpoints', 'last.safetensors')).step);
      } catch {
        return existsSync(join(dir, 'checkpoints', 'last.safetensors')) ? 'unreadable' : 'none';
      }
    };
    const atKill: string[] = first.killed ? [ckptStep()] : [];
    if (!first.killed && first.result.code !== 0) problems.push(`first run failed: ${describe(first.result)}`);
    // resume until done; a second kill while resuming, half the time
    let resumes = 0;
    let finished = !first.killed && first.result.code === 0;
    while (!finished && resumes < 5) {
      resumes++;
      const hasCheckpoint = existsSync(join(dir, 'checkpoints', 'last.safetensors'));
      const args = hasCheckpoint
        ? ['train', 'av-sync', '--resume', dir, '--cache', cache, '--quiet']
        : trainArgs(dir, clips, cache);
      const second = resumes === 1 && rng.uniform() < 0.5;
      const res = second
        ? await killAfter(args, when())
        : { killed: false, result: await runCli(args, { timeoutMs: 600_000 }) };
      if (res.killed) {
        killedHere++;
        atKill.push(ckptStep());
        continue;
      }
      if (res.result.code === 0) finished = true;
      else {
        lost = `${hasCheckpoint ? '--resume' : 'a fresh run over the killed one'} failed: ${describe(res.result)}`;
        break;
      }
    }
    kills += killedHere;
    const name = `trial ${t}: kill x${killedHere} (checkpoint step at each kill: ${atKill.join(', ') || '-'}), ${resumes} resume(s)`;
    if (lost) {
      ledger.add('train', name, /\n\s+at |internal error/.test(lost) ? 'stack' : 'lost', lost);
      continue;
    }
    const temps = tempFilesUnder(dir);
    const corrupt = corruptFiles(dir);
    const diff = compareRuns(ref, dir);
    if (corrupt.length) problems.push(`corrupt files: ${corrupt.join(', ')}`);
    if (diff) problems.push(diff);
    if (temps.length) problems.push(`${temps.length} temp file(s) left: ${temps.slice(0, 3).join(', ')}`);
    ledger.add('train', name, problems.length ? 'wrong' : 'survived', problems.join('; '));
    if (!problems.length) rmSync(dir, { recursive: true, force: true });
  }
  await damagedRuns(root, ref.dir, cache, quick, ledger);
  if (!quick) kills += await seedTrials(root, 2, rng.fork('seeds'), ledger, cache);
  return kills;
}

/** A finished run folder with one file damaged: --resume and --model must refuse it, naming that file. */
async function damagedRuns(root: string, refDir: string, cache: string, quick: boolean, ledger: Ledger): Promise<void> {
  const variants: { name: string; file: string; damage: (p: string) => void; args: (dir: string) => string[] }[] = [
    {
      name: 'checkpoint cut in half, --resume',
      file: 'checkpoints/last.safetensors',
      damage: (p) => truncateSync(p, Math.floor(statSync(p).size / 2)),
      args: (d) => ['train', 'av-sync', '--resume', d, '--cache', cache, '--quiet'],
    },
    {
      name: 'checkpoint with a null header, --resume',
      file: 'checkpoints/last.safetensors',
      damage: (p) => writeFileSync(p, Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('null')])),
      args: (d) => ['train', 'av-sync', '--resume', d, '--cache', cache, '--quiet'],
    },
    {
      name: 'config.json not JSON, --resume',
      file: 'config.json',
      damage: (p) => writeFileSync(p, '{"task": "av-sync", '),
      args: (d) => ['train', 'av-sync', '--resume', d, '--cache', cache, '--quiet'],
    },
    {
      name: 'best.safetensors empty, sync --model',
      file: 'best.safetensors',
      damage: (p) => writeFileSync(p, ''),
      args: (d) => ['sync', '--bench', 'synth:1', '--model', d],
    },
    {
      name: 'checkpoint step metadata lies, --resume',
      file: 'checkpoints/last.safetensors',
      damage: (p) => {
        const st = loadSafetensors(p);
        saveSafetensors(p, st.tensors, { ...st.metadata, step: '-7' });
      },
      args: (d) => ['train', 'av-sync', '--resume', d, '--cache', cache, '--quiet'],
    },
  ];
  for (const v of quick ? variants.slice(0, 2) : variants) {
    const dir = join(root, `damaged-${v.name.replace(/[^a-z0-9]+/gi, '-')}`);
    cpSync(refDir, dir, { recursive: true });
    // a finished run has nothing to resume: make it look interrupted (no metrics.json) so --resume reads the checkpoint
    rmSync(join(dir, 'metrics.json'), { force: true });
    const file = join(dir, v.file);
    v.damage(file);
    const r = await runCli(v.args(dir), { timeoutMs: 120_000 });
    const j = judgeCliRefusal(r, file);
    ledger.add('run-files', v.name, j.outcome, j.detail);
  }
}

/** `--seeds 1,2`: killed, then `--resume DIR --seeds 1,2`; each seed's folder must equal the reference's. */
async function seedTrials(root: string, trials: number, rng: Rng, ledger: Ledger, cache: string): Promise<number> {
  const seeds = '1,2';
  const args = (out: string) => [...trainArgs(out, 24, cache, 8), '--seeds', seeds];
  const refDir = join(root, 'seeds-ref');
  const t0 = Date.now();
  const r = await runCli(args(refDir), { timeoutMs: 600_000 });
  if (r.code !== 0) {
    ledger.add('train-seeds', 'reference run', 'stack', describe(r));
    return 0;
  }
  const ms = Date.now() - t0;
  const refs = ['seed-1', 'seed-2'].map((s) => ({
    dir: join(refDir, s),
    ms,
    firstStepMs: 0,
    ...runRecord(join(refDir, s)),
  }));
  let kills = 0;
  for (let t = 0; t < trials; t++) {
    const dir = join(root, `seeds-${t}`);
    const k = await killAfter(args(dir), Math.round(rng.range(0.2, 0.95) * ms));
    if (k.killed) kills++;
    const resumeArgs = existsSync(join(dir, 'seed-1', 'config.json'))
      ? ['train', 'av-sync', '--resume', dir, '--seeds', seeds, '--cache', cache, '--quiet']
      : args(dir);
    const again = await runCli(resumeArgs, { timeoutMs: 600_000 });
    const name = `trial ${t}: kill x${k.killed ? 1 : 0}, resume --seeds ${seeds}`;
    if (again.code !== 0) {
      ledger.add(
        'train-seeds',
        name,
        /\n\s+at |internal error/.test(again.stderr) ? 'stack' : 'lost',
        `the resume failed: ${describe(again)}`,
      );
      continue;
    }
    const problems = refs
      .map((ref, i) => compareRuns(ref, join(dir, `seed-${i + 1}`)))
      .filter((p): p is string => p !== null);
    if (!existsSync(join(dir, 'summary.json'))) problems.push('no summary.json');
    const temps = tempFilesUnder(dir);
    if (temps.length) problems.push(`${temps.length} temp file(s) left: ${temps.slice(0, 3).join(', ')}`);
    ledger.add('train-seeds', name, problems.length ? 'wrong' : 'survived', problems.join('; '));
    if (!problems.length) rmSync(dir, { recursive: true, force: true });
  }
  return kills;
}

const WRITER = fileURLToPath(new URL('./writer.js', import.meta.url));

async function writeTrials(root: string, trials: number, rng: Rng, ledger: Ledger): Promise<number> {
  const dir = join(root, 'writes', 'checkpoints');
  const path = join(dir, 'last.safetensors');
  let kills = 0;
  const orphansSeen = new Set<string>();
  for (let t = 0; t < trials; t++) {
    const child = spawn(process.execPath, [WRITER, path, String(rng.range(1, 8).toFixed(1))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acked = 0;
    let started!: () => void;
    const firstAck = new Promise<void>((r) => {
      started = r;
    });
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.trim()) acked = Math.max(acked, Number(l));
      if (acked > 0) started();
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const closed = new Promise<void>((r) => child.on('close', () => r()));
    let limit: NodeJS.Timeout | undefined;
    await Promise.race([
      firstAck,
      closed,
      new Promise<void>((r) => {
        limit = setTimeout(r, 30_000);
      }),
    ]);
    clearTimeout(limit);
    await sleep(rng.range(0, 400));
    child.kill('SIGKILL');
    await closed;
    kills++;
    for (const f of tempFilesUnder(dir)) orphansSeen.add(f);
    if (acked === 0) {
      ledger.add(
        'writes',
        `kill ${t}`,
        'stack',
        `the writer never acknowledged a write: ${stderr.trim().slice(0, 300)}`,
      );
      continue;
    }
    try {
      const c = loadCheckpoint(path);
      const w = c.params.w.data as Float32Array;
      const m = (c.optimState['optim.m.w'] ?? c.optimState['m.w']).data as Float32Array;
      const whole =
        w.every((v) => v === c.step) &&
        m.every((v) => v === -c.step) &&
        (c.config as { version: number }).version === c.step;
      if (!whole) ledger.add('writes', `kill ${t}`, 'wrong', `file mixes versions (step ${c.step})`);
      else if (c.step < acked)
        ledger.add('writes', `kill ${t}`, 'lost', `file holds version ${c.step}, but ${acked} was acknowledged`);
      else ledger.add('writes', `kill ${t}`, 'survived', `version ${c.step}, ${acked} acknowledged`);
    } catch (err) {
      ledger.add(
        'writes',
        `kill ${t}`,
        'wrong',
        `the checkpoint does not load after the kill: ${(err as Error).message}`,
      );
    }
  }
  // each writer's first write removed the orphans of the writers killed before it; a last write clears the last one
  writeFileAtomic(join(dir, 'after.json'), '{}');
  const left = tempFilesUnder(dir);
  ledger.add(
    'writes',
    `orphan temp files cleaned (${orphansSeen.size} left by ${trials} kills)`,
    left.length ? 'wrong' : 'survived',
    left.length ? `${left.length} left: ${left.slice(0, 3).join(', ')}` : '',
  );
  return kills;
}

/** Items of a features output folder: id -> tensors' bytes (metadata left out). */
function featureOutputs(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.safetensors'))
    .sort()) {
    const st = loadSafetensors(join(dir, name));
    const parts = [...st.tensors.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}:${v.shape.join('x')}:${bits(v).toString('base64')}`);
    out.set(name, parts.join('|'));
  }
  return out;
}

async function featureTrials(root: string, trials: number, rng: Rng, ledger: Ledger): Promise<number> {
  const synth = await writeSynth({
    clips: 6,
    out: join(root, 'feature-clips'),
    config: { seed: 7, duration: 4, size: 64, fps: 12 },
    quiet: true,
  });
  const args = (out: string) => ['features', synth.manifest, '--out', out, '--concurrency', '2', '--json'];
  const refDir = join(root, 'features-ref');
  const t0 = Date.now();
  const r = await runCli(args(refDir), { timeoutMs: 600_000 });
  if (r.code !== 0) {
    ledger.add('features', 'reference run', 'stack', describe(r));
    return 0;
  }
  const ms = Date.now() - t0;
  const ref = featureOutputs(refDir);
  let kills = 0;
  for (let t = 0; t < trials; t++) {
    const dir = join(root, `features-${t}`);
    const k = await killAfter(args(dir), Math.round(ms * rng.range(0.1, 0.95)));
    if (k.killed) kills++;
    const again = await runCli(args(dir), { timeoutMs: 600_000 });
    const name = `kill at ${k.killed ? 'random time' : 'end (finished first)'} ${t}`;
    if (again.code !== 0) {
      ledger.add(
        'features',
        name,
        /\n\s+at |internal error/.test(again.stderr) ? 'stack' : 'lost',
        `the re-run failed: ${describe(again)}`,
      );
      continue;
    }
    const problems: string[] = [];
    let got: Map<string, string> | null = null;
    try {
      got = featureOutputs(dir);
    } catch (err) {
      problems.push(`an output does not load: ${(err as Error).message}`);
    }
    if (got) {
      for (const [name2, v] of ref) {
        if (!got.has(name2)) problems.push(`${name2} missing`);
        else if (got.get(name2) !== v) problems.push(`${name2} differs from the reference`);
      }
      for (const name2 of got.keys()) if (!ref.has(name2)) problems.push(`unexpected output ${name2}`);
    }
    const summary = JSON.parse(readFileSync(join(dir, 'features.json'), 'utf8')) as {
      succeeded: number;
      failed: unknown[];
    };
    if (summary.succeeded !== ref.size || summary.failed.length)
      problems.push(`features.json: ${summary.succeeded} succeeded, ${summary.failed.length} failed`);
    const temps = tempFilesUnder(dir);
    if (temps.length) problems.push(`${temps.length} temp file(s) left: ${temps.slice(0, 3).join(', ')}`);
    const lostItems = problems.filter((p) => p.endsWith('missing')).length;
    ledger.add('features', name, lostItems ? 'lost' : problems.length ? 'wrong' : 'survived', problems.join('; '));
    if (!problems.length) rmSync(dir, { recursive: true, force: true });
  }
  return kills;
}

export async function runKills(
  root: string,
  opts: { quick: boolean; seed: number; ledger: Ledger; only?: string },
): Promise<number> {
  const rng = new Rng(opts.seed).fork('kills');
  const n = opts.quick ? { train: 2, writes: 6, features: 2 } : { train: 10, writes: 14, features: 8 };
  let kills = 0;
  if (!opts.only || opts.only === 'writes') kills += await writeTrials(root, n.writes, rng.fork('writes'), opts.ledger);
  if (!opts.only || opts.only === 'features')
    kills += await featureTrials(root, n.features, rng.fork('features'), opts.ledger);
  if (!opts.only || opts.only === 'train')
    kills += await trainTrials(root, n.train, rng.fork('train'), opts.ledger, opts.quick);
  return kills;
}
