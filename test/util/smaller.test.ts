import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { parseManifest, manifestError, readManifest } from '../../src/data/manifest.js';

const cli = fileURLToPath(new URL('../../../bin/attune.js', import.meta.url));
const run = (args: string[], cwd?: string) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000, cwd });

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

test('issue #14 item 9: orphan temp files of killed writers are cleaned at the next write into their folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-orphans-'));
  try {
    // what a writer killed between open and rename leaves behind: the child writes a temp the way
    // writeFileAtomic names it, then dies without renaming it
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      import { tempPathFor } from ${JSON.stringify(new URL('../../src/util/atomic.js', import.meta.url).href)};
      import { writeFileSync } from 'node:fs';
      writeFileSync(tempPathFor(${JSON.stringify(join(dir, 'checkpoint.safetensors'))}), 'half a checkpoint');
      process.kill(process.pid, 'SIGKILL');
    `,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    const pid = deadPid();
    writeFileSync(join(dir, `.metrics.json.${pid}.${Date.now()}.tmp`), 'legacy-named orphan');
    writeFileSync(join(dir, 'notes.tmp'), "the user's own file");
    assert.equal(readdirSync(dir).length, 3);
    writeFileAtomic(join(dir, 'log.json'), '{}');
    assert.deepEqual(readdirSync(dir).sort(), ['log.json', 'notes.tmp']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('issue #14 item 9: bad numeric and enum options end in one line and exit 2, never a stack or a silent default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-options-'));
  try {
    const cases: [string[], RegExp][] = [
      // these three crashed with a RangeError stack trace
      [
        ['train', 'av-sync', '--data', 'synth:8', '--seeds', '0-100000000', '--out', join(dir, 'r1')],
        /--seeds must be a list of seeds/,
      ],
      [
        ['train', 'av-sync', '--data', 'synth:99999999999999999999', '--out', join(dir, 'r2')],
        /--data must be synth:N with N from 1 to/,
      ],
      [
        ['metrics', '--task', 'sync', '--pred', 'p.npy', '--true', 't.npy', '--grid=-2,2,1e12'],
        /--grid must be MIN,MAX,CLASSES/,
      ],
      // these two were accepted silently (NaN fell back to 2; an infinite temperature ran)
      [['index', dir, '--model', dir, '--concurrency', 'abc'], /--concurrency must be a positive integer/],
      [['metrics', '--a', 'a.npy', '--b', 'b.npy', '--temperature', '1e400'], /--temperature must be a finite number/],
      [['synth', '--clips', '0', '--out', join(dir, 's')], /--clips must be a positive integer/],
      [['sync', '--bench', 'synth:0'], /--bench must be synth:N/],
      [
        ['retrieve', '--query', 'q', '--index', 'i', '--direction', 'sideways'],
        /--direction must be one of auto, a2v, v2a/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = run(args, dir);
      assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at |RangeError|internal error/, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line\n${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('issue #14 item 9: an unknown command or option is a usage error (exit 2); help and version exit 0', () => {
  assert.equal(run(['frobnicate']).status, 2);
  assert.equal(run(['train', '--no-such-option']).status, 2);
  assert.equal(run([]).status, 2, 'no command at all');
  assert.equal(run(['--help']).status, 0);
  assert.equal(run(['--version']).status, 0);
});

test('issue #14 item 9: one bad manifest line is reported as one invalid line, whatever its error count', () => {
  const parsed = parseManifest('{"video":"a.mp4"}\n{"video":1,"color":"red"}\n', 'm.jsonl', '/data');
  assert.equal(parsed.errors.length, 2, 'two rules broken on line 2');
  const err = manifestError(parsed.errors);
  assert.match(err.message, /^m\.jsonl has 1 invalid line \(2 errors\):/);
  assert.equal(err.details.lines, 1);

  const dir = mkdtempSync(join(tmpdir(), 'attune-manifest-'));
  try {
    const path = join(dir, 'm.jsonl');
    writeFileSync(path, '{"video":"missing.mp4","audio":"missing.wav"}\n');
    assert.throws(() => readManifest(path, { checkFiles: true }), /has 1 invalid line \(2 errors\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('attune train --data on a named pipe is refused at once, not read forever (fault run finding)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-fifo-'));
  try {
    const fifo = join(dir, 'm.jsonl');
    execFileSync('mkfifo', [fifo]);
    const r = spawnSync(
      process.execPath,
      ['bin/attune.js', 'train', 'av-sync', '--data', fifo, '--out', join(dir, 'run')],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(r.signal, null, 'the command must not hang');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /not a regular file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
