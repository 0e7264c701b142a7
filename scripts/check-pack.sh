#!/usr/bin/env bash
# The install a stranger gets: `npm pack`, then `npm install attune-X.tgz` in an empty project with no flags and no
# network, then `npx attune --help`, `npx attune doctor` and `npx attune sync` on a clip attune generates.
#
#   bash scripts/check-pack.sh          (npm run check:pack; .ci/run runs it)
#
# 1. npm pack (prepare builds dist/; prepack bundles onnxruntime-node without its CUDA download hook).
# 2. Warm the npm cache for the tarball's registry dependencies with --ignore-scripts (no install script runs, so
#    nothing but npm packages is fetched; skipped work when the cache already has them).
# 3. Install into a new empty project with install scripts ON and no flags but --offline, inside a network
#    namespace with no network at all (unshare -n, when it is allowed): any postinstall that tries to download
#    fails the install, and so fails this check.
# 4. Run the CLI there and report the installed size.
set -euo pipefail
cd "$(dirname "$0")/.."
# A stranger has none of these: with them set, a broken bundle would pass unnoticed.
unset ONNXRUNTIME_NODE_INSTALL ONNXRUNTIME_NODE_INSTALL_CUDA npm_config_onnxruntime_node_install npm_config_onnxruntime_node_install_cuda
repo=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/attune-pack-XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { printf '\ncheck-pack: %s\n' "$*"; }
fail() { printf 'check-pack: FAILED: %s\n' "$*" >&2; exit 1; }

step "npm pack"
npm pack --silent --pack-destination "$work" >"$work/pack.out"
tgz="$work/$(tail -n 1 "$work/pack.out")"
[ -f "$tgz" ] || fail "npm pack wrote no tarball"
echo "tarball: $(basename "$tgz"), $(du -h "$tgz" | cut -f1)"
for f in package.json node_modules/onnxruntime-node/package.json; do
  [ ! -e "$f.attune-prepack" ] || fail "postpack did not restore $f (run: node scripts/bundle-ort.mjs restore)"
done
if grep -q '"bundleDependencies"' package.json; then fail "package.json still declares bundleDependencies after the pack"; fi

step "tarball contents"
tar -xzf "$tgz" -C "$work" package/package.json package/node_modules/onnxruntime-node/package.json
node -e '
const fs = require("fs");
const ort = JSON.parse(fs.readFileSync(process.argv[1] + "/package/node_modules/onnxruntime-node/package.json", "utf8"));
const self = JSON.parse(fs.readFileSync(process.argv[1] + "/package/package.json", "utf8"));
if (ort.scripts && ort.scripts.postinstall) { console.error("bundled onnxruntime-node still has postinstall: " + ort.scripts.postinstall); process.exit(1); }
if (!(self.bundleDependencies || []).includes("onnxruntime-node")) { console.error("onnxruntime-node is not bundled"); process.exit(1); }
if ((self.dependencies || {})["onnxruntime-web"]) { console.error("onnxruntime-web is a runtime dependency"); process.exit(1); }
console.log("bundled onnxruntime-node " + ort.version + " (no postinstall hook); optional peers: " + Object.keys(self.peerDependencies || {}).join(", "));
' "$work"

step "warm the npm cache (registry packages only, --ignore-scripts)"
mkdir "$work/warm" && (cd "$work/warm" && npm init -y >/dev/null &&
  npm install "$tgz" --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)

step "install into an empty project: scripts on, no flags, no network"
mkdir "$work/proj"
cd "$work/proj"
npm init -y >/dev/null
isolate=()
if unshare -n true 2>/dev/null; then isolate=(unshare -n); echo "network: none (unshare -n)"; else echo "network: unshare -n unavailable here; relying on --offline alone"; fi
start=$SECONDS
"${isolate[@]}" npm install "$tgz" --offline --no-audit --no-fund >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "npm install of the tarball failed offline"; }
echo "installed in $((SECONDS - start)) s"
if grep -Eiq 'Downloading|nuget|ENOTFOUND|EAI_AGAIN' "$work/install.log"; then cat "$work/install.log" >&2; fail "an install script tried to download"; fi
ort_dir=node_modules/attune/node_modules/onnxruntime-node
[ -d "$ort_dir" ] || fail "onnxruntime-node is not under node_modules/attune (not bundled?)"
ls "$ort_dir"/bin/napi-v6/linux/x64/ 2>/dev/null | grep -q providers_cuda && fail "CUDA provider libraries were installed"
[ ! -d node_modules/@tensorflow ] || fail "the optional face stack (@tensorflow) was installed by default"

step "npx attune --help"
"${isolate[@]}" npx --offline attune --help >"$work/help.out" 2>"$work/help.err" || { cat "$work/help.err" >&2; fail "attune --help"; }
grep -q 'Usage: attune' "$work/help.out" || fail "attune --help printed no usage"
if grep -qi 'warn' "$work/help.err"; then cat "$work/help.err" >&2; fail "npx attune printed warnings"; fi

step "npx attune doctor"
"${isolate[@]}" npx --offline attune doctor

step "npx attune synth + sync on the generated clip"
"${isolate[@]}" npx --offline attune synth --clips 1 --duration 4 --shifts 0.4 --out synth --json >"$work/synth.json"
clip=$(find synth -name '*.mp4' | sort | tail -n 1)
[ -n "$clip" ] || fail "attune synth wrote no mp4"
"${isolate[@]}" npx --offline attune sync "$clip" --json >"$work/sync.json"
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
if (r.method !== "auto" || typeof r.synchronizable !== "boolean") { console.error(JSON.stringify(r)); process.exit(1); }
console.log(`sync ${process.argv[2]}: lag ${r.lag} s, synchronizable ${r.synchronizable}, offset ${r.offset}`);
' "$work/sync.json" "$clip"

step "installed size"
du -sh node_modules | sed 's/^/node_modules: /'
du -sh "$ort_dir" | sed 's/^/  bundled onnxruntime-node: /'
echo
echo "check-pack: OK"
