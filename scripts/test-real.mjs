#!/usr/bin/env node
// `npm run test:real`: the checks against real footage (test/real, compiled to dist/test/real), which read the
// project's shared media beside the clone (../shared/media, or ATTUNE_SHARED). `npm test` never needs them.
// Without ../shared the suite is skipped and says so (exit 0), except under CI=true, where shared/ is always laid
// beside the clone and a missing folder is an error rather than a silent skip.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runTestsInTempRoot } from './test-tmp.mjs';

const shared = resolve(process.env.ATTUNE_SHARED ?? '../shared');
const media = join(shared, 'media');
if (!existsSync(media)) {
  const why = `${media} is absent (the real clips live in ../shared/media beside the clone; set ATTUNE_SHARED to use another folder)`;
  if (process.env.CI === 'true') {
    console.error(`test:real FAILED: ${why}`);
    process.exit(1);
  }
  console.log(`test:real SKIPPED: ${why}. Nothing was run.`);
  process.exit(0);
}
const dir = join('dist', 'test', 'real');
const files = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.test.js'))
      .sort()
      .map((f) => join(dir, f))
  : [];
if (files.length === 0) {
  console.error(`test:real: no compiled tests in ${dir}; run \`npm run build\` first`);
  process.exit(1);
}
console.log(`test:real: real footage from ${media}`);
process.exit(runTestsInTempRoot(files));
