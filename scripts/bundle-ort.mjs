#!/usr/bin/env node
// prepack / postpack: the packed tarball bundles onnxruntime-node (package.json "bundleDependencies") with its
// postinstall hook removed, so `npm install attune-X.tgz` never runs onnxruntime-node's install script.
//
// Why: that script (node_modules/onnxruntime-node/script/install.js) downloads the CUDA/TensorRT provider libraries
// from NuGet on every linux/x64 install unless the *installing* project sets --onnxruntime-node-install=skip (flag,
// .npmrc, or the ONNXRUNTIME_NODE_INSTALL env var). None of those travels inside a dependency: npm reads .npmrc,
// allowScripts and overrides only from the root project, exports npm_config_* only from the user's own config, runs a
// bundled dependency's scripts like any other, and every onnxruntime-node release since 1.17 has the hook (1.16.3,
// the last without it, predates the opsets Attune emits). Offline, the hook fails the whole install (ENOTFOUND);
// online it pulls several hundred MB that CPU users never load.
//
// What ships: onnxruntime-node exactly as installed here (all platforms' CPU binaries, its script/ folder and the
// modules that script needs) with only `scripts.postinstall` taken out of its package.json. GPU users run that same
// script on purpose (docs/gpu.md). `strip` keeps the original manifest beside it; `restore` (postpack, or by hand
// after a failed pack) puts it back, so the development install is left as npm made it.
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = join(root, 'node_modules', 'onnxruntime-node', 'package.json');
const backup = `${manifest}.attune-prepack`;
const MARK = 'attuneBundled';

function strip() {
  if (!existsSync(manifest)) {
    console.error('bundle-ort: node_modules/onnxruntime-node is missing; run `npm ci` before `npm pack`.');
    process.exit(1);
  }
  const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
  if (pkg[MARK]) return; // already stripped (a previous pack stopped before postpack)
  copyFileSync(manifest, backup);
  const hook = pkg.scripts?.postinstall;
  if (pkg.scripts) delete pkg.scripts.postinstall;
  pkg[MARK] = `bundled by attune without its postinstall hook (${hook ?? 'none'}); GPU: see attune's docs/gpu.md`;
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
  console.error(`bundle-ort: onnxruntime-node@${pkg.version} will be bundled without its postinstall hook`);
}

function restore() {
  if (existsSync(backup)) renameSync(backup, manifest);
}

const cmd = process.argv[2];
if (cmd === 'strip') strip();
else if (cmd === 'restore') restore();
else {
  console.error('usage: node scripts/bundle-ort.mjs strip|restore');
  process.exit(2);
}
