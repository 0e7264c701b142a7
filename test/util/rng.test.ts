import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';

test('same seed gives the same stream; different seeds differ', () => {
  const a = new Rng(7),
    b = new Rng(7),
    c = new Rng(8);
  const xs = Array.from({ length: 5 }, () => a.uniform());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.uniform()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 5 }, () => c.uniform()),
  );
});

test('state save/restore continues exactly, including a cached normal deviate', () => {
  const r = new Rng('resume');
  r.normal(); // leaves a spare deviate cached
  const state = r.getState();
  const expected = [r.normal(), r.normal(), r.uniform()];
  const r2 = new Rng(0);
  r2.setState(JSON.parse(JSON.stringify(state)));
  assert.deepEqual([r2.normal(), r2.normal(), r2.uniform()], expected);
});

test('uniform and normal have the right moments', () => {
  const r = new Rng(123);
  const n = 200_000;
  let su = 0,
    sn = 0,
    sn2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    su += u;
    const z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.005);
  assert.ok(Math.abs(sn / n) < 0.01);
  assert.ok(Math.abs(sn2 / n - 1) < 0.02);
});

test('fork gives independent, reproducible sub-streams without advancing the parent', () => {
  const r = new Rng(1);
  const before = r.getState();
  const f1 = r.fork('data').uniform();
  assert.deepEqual(r.getState(), before);
  assert.equal(new Rng(1).fork('data').uniform(), f1);
  assert.notEqual(new Rng(1).fork('init').uniform(), f1);
});

test('shuffle is a permutation', () => {
  const xs = new Rng(3).shuffle(Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(
    [...xs].sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 100 }, (_, i) => i),
  );
});
