#!/usr/bin/env node
// `npm test`: every compiled unit test under dist/test except the real-footage ones (test/real, `npm run test:real`),
// in a sorted order, two files at a time, scratch files in one temporary folder removed at the end (test-tmp.mjs).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runTestsInTempRoot } from './test-tmp.mjs';

/** Compiled test files under dir, depth first, skipping dist/test/real. */
function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return path === join('dist', 'test', 'real') ? [] : testFiles(path);
    return e.name.endsWith('.test.js') ? [path] : [];
  });
}

process.exit(runTestsInTempRoot(testFiles(join('dist', 'test')).sort()));
