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
// What ships: package.json gains "bundleDependencies": ["onnxruntime-node"] for the pack only, and onnxruntime-node
// goes in exactly as installed here (all platforms' CPU binaries, its script/ folder and the modules that script
// needs) with only `scripts.postinstall` taken out of its package.json. GPU users run that same script on purpose
// (docs/gpu.md). `strip` keeps both original manifests beside them (*.attune-prepack); `restore` (postpack, or by
// hand after a failed pack) puts them back, so the repository and its development install are left as they were.
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ortManifest = join(root, 'node_modules', 'onnxruntime-node', 'package.json');
const rootManifest = join(root, 'package.json');
const SUFFIX = '.attune-prepack';
const MARK = 'attuneBundled';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const writeJson = (file, value) => writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

function strip() {
  if (!existsSync(ortManifest)) {
    console.error('bundle-ort: node_modules/onnxruntime-node is missing; run `npm ci` before `npm pack`.');
    process.exit(1);
  }
  const ort = readJson(ortManifest);
  if (ort[MARK]) return; // already stripped (a previous pack stopped before postpack)
  // bundleDependencies is added for the pack only: declared in the repository's package.json it would make npm
  // treat onnxruntime-node as bundled in development installs too, where npm then ignores allowScripts for it.
  for (const file of [ortManifest, rootManifest]) copyFileSync(file, file + SUFFIX);
  const self = readJson(rootManifest);
  self.bundleDependencies = ['onnxruntime-node'];
  writeJson(rootManifest, self);
  const hook = ort.scripts?.postinstall;
  if (ort.scripts) delete ort.scripts.postinstall;
  ort[MARK] = `bundled by attune without its postinstall hook (${hook ?? 'none'}); GPU: see attune's docs/gpu.md`;
  writeJson(ortManifest, ort);
  console.error(`bundle-ort: onnxruntime-node@${ort.version} will be bundled without its postinstall hook`);
}

function restore() {
  for (const file of [ortManifest, rootManifest]) if (existsSync(file + SUFFIX)) renameSync(file + SUFFIX, file);
}

const cmd = process.argv[2];
if (cmd === 'strip') strip();
else if (cmd === 'restore') restore();
else {
  console.error('usage: node scripts/bundle-ort.mjs strip|restore');
  process.exit(2);
}
