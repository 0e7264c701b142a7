import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../../bin/attune.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });

const COMMANDS = [
  'ask',
  'bench',
  'demo',
  'favor',
  'features',
  'index',
  'metrics',
  'retrieve',
  'sync',
  'synth',
  'train',
  'worker',
];

test('every command answers --help with its usage', () => {
  const top = run('--help');
  assert.equal(top.status, 0, top.stderr);
  for (const name of COMMANDS) {
    assert.match(top.stdout, new RegExp(`\\n  ${name} `), `${name} missing from attune --help`);
    const r = run(name, '--help');
    assert.equal(r.status, 0, `${name} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Usage: attune ${name}`));
  }
});

test('bad options exit with code 2 and a one-line message, not a stack', () => {
  const r = run('demo', '--seed', 'minus-one');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--seed must be a non-negative integer/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const unknown = run('bench', 'nonsense');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown benchmark "nonsense"/);
});

test('--device picks the execution provider for the whole command and rejects unknown ones', () => {
  const bad = run('--device', 'tpu', 'bench', 'metrics', '--quick');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--device must be 'cpu' or 'cuda', got 'tpu'/);
  const cpu = spawnSync(process.execPath, [cli, '--device', 'cpu', 'bench', 'metrics', '--quick', '--json'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(cpu.status, 0, cpu.stderr);
  assert.equal(JSON.parse(cpu.stdout).name, 'metrics');
});
