#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh Debian 12 machine with Rust,
# then runs every test on every adapter present (lavapipe Vulkan and llvmpipe GL).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
need=()
for pkg in mesa-vulkan-drivers libegl1 libgl1-mesa-dri; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Mesa wants a runtime dir; without one it prints a harmless error on every Vulkan instance.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
cargo test --release --no-fail-fast
