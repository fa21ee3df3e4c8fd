#!/usr/bin/env bash
# The README's test command. On a fresh Debian 12 machine with Rust it installs what the tests
# need (lavapipe, Chromium + chromedriver, Node, the wasm32 target, wasm-bindgen-cli at the
# Cargo.lock version, puppeteer-core), then runs every test:
#   1. native: cargo test of the workspace (the library, the CLI and the Burn bridge) on every
#      adapter present (lavapipe Vulkan and llvmpipe GL), and the out-of-memory test under a
#      memory limit;
#   2. wasm: wasm-bindgen-test in headless Chromium on WebGPU (SwiftShader), via chromedriver;
#   3. Python: the package (python/) installed with pip into a venv, pytest on every adapter;
#   4. end to end: web/build.sh, then web/index.html served on 127.0.0.1 and driven by
#      puppeteer-core in headless Chromium, and the npm package (web/pkg) installed into a Vite
#      app (tests/vite-app), built with vite build, and run there and from a plain page.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
need=()
for pkg in mesa-vulkan-drivers libegl1 libgl1-mesa-dri chromium chromium-driver; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
command -v node >/dev/null || need+=(nodejs)
command -v python3 >/dev/null || need+=(python3)
python3 -c "import venv, ensurepip" 2>/dev/null || need+=(python3-venv)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Mesa wants a runtime dir; without one it prints a harmless error on every Vulkan instance.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

status=0
step() {
  echo "==> $*"
  "$@" || { echo "FAILED: $*"; status=1; }
}

# The library and the CLI, with the benchmark-only API (feature `profiling`) that some tests use.
features=(--features tensorbridge/profiling)
step cargo test --release --workspace --no-fail-fast "${features[@]}"
# Device out-of-memory: CPU adapters overcommit host memory, so this one runs under a
# virtual-memory limit that makes lavapipe's allocations fail (already built by the line above).
step bash -c "ulimit -v 3000000 && exec cargo test --release --workspace ${features[*]} --test oom -- --ignored"

# web/build.sh installs the wasm32 target and the pinned wasm-bindgen CLI when missing.
step bash web/build.sh
step cargo clippy -p tensorbridge --target wasm32-unknown-unknown --all-targets "${features[@]}" -- -D warnings
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
# The runner gives up after 20 s by default; compiling the cast pipelines of all 169 pairs on
# SwiftShader takes about that long on a 2-core machine.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
step cargo test -p tensorbridge --target wasm32-unknown-unknown "${features[@]}" --test web

# Python: the package built from python/ by pip (which fetches maturin) into a virtual
# environment, then pytest on every adapter (lavapipe and GL).
venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
step "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "./python[test]"
step "$venv/bin/python" -m pytest -q python/tests

(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
step node tests/e2e/demo.mjs
# Every fixture loaded by URL from 127.0.0.1 (streamed), bit-exact; every bad one rejected.
step node tests/e2e/load.mjs
# The demo page's file inspector, fed a fixture by URL (streamed), by the file input, and a bad file.
step node tests/e2e/inspector.mjs
# TF.js 4.22 on tensorbridge's device: toTfjs for every dtype, fromTfjs, a matMul, lifetimes.
step node tests/e2e/tfjs.mjs
# onnxruntime-web 1.31.1 on tensorbridge's device: toOrt, fromOrt, a real ONNX model, lifetimes,
# and the native EP's known limitations.
step node tests/e2e/ort.mjs
# The example page (web/examples/tfjs-mlp): bfloat16 safetensors weights into a TF.js MLP.
(cd web/examples/tfjs-mlp && npm ci --no-audit --no-fund --loglevel=error)
step node tests/e2e/example.mjs
# The npm package: packed, installed into a Vite app, built, and run, and from a plain page.
step node tests/e2e/package.mjs

exit $status
