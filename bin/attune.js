#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (built by `npm install` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Before anything can load onnxruntime-node: no telemetry database in ~/.cache/Microsoft and no
// /tmp/mat-debug-<pid>.log (docs/faults.md). ORT_DISABLE_TELEMETRY=0 in the environment opts back in.
process.env.ORT_DISABLE_TELEMETRY ??= '1';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('attune: dist/ is missing; run `npm run build` in the attune folder first.');
  process.exit(1);
}
await import(entry.href);
