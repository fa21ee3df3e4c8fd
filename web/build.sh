#!/usr/bin/env bash
# Builds web/pkg/, the npm package `tensorbridge`: a release wasm32 build with LTO, bound with
# wasm-bindgen --target web (tensorbridge.js, tensorbridge_bg.wasm, the .d.ts files), plus
# web/package/ (package.json, README.md). `npm install ./web/pkg` (or a tarball from
# `npm pack ./web/pkg`) installs it; then `import init, { Gpu } from "tensorbridge"` works in Vite
# and other bundlers, and from a plain <script type="module"> with an import map. Installs the
# wasm32 target and the wasm-bindgen CLI at the exact version in Cargo.lock when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "$version" ]; then
    # No --locked: with it, the install fails to resolve webpki-roots (see shared/FINDINGS.md).
    cargo install wasm-bindgen-cli --version "$version"
fi

CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    cargo rustc -p tensorbridge --lib --release --target wasm32-unknown-unknown --crate-type cdylib
wasm-bindgen --target web --out-dir web/pkg \
    target/wasm32-unknown-unknown/release/tensorbridge.wasm
# The package metadata, with the crate's version.
crate_version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
sed "s/\"version\": \"[^\"]*\"/\"version\": \"$crate_version\"/" web/package/package.json \
    > web/pkg/package.json
cp web/package/README.md web/pkg/README.md
ls -l web/pkg/
