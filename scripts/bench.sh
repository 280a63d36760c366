#!/usr/bin/env bash
# Prints Ollio's figures: the sandbox, agent and workspace benchmarks. The
# workspace's transfer size is measured on the browser files built the way a
# release ships them (the wasm-release profile, then wasm-bindgen), served
# compressed by the app itself.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_build_tools

step "Building the browser files for release"
leptos_cargo build --lib --profile wasm-release --no-default-features --features hydrate \
  --target wasm32-unknown-unknown --target-dir target/front
site="target/bench-site"
rm -rf "$site" && mkdir -p "$site/pkg"
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$site/pkg" --out-name ollio \
  target/front/wasm32-unknown-unknown/wasm-release/ollio.wasm
cp style/main.css "$site/pkg/ollio.css"

for bench in "${@:-sandbox agent workspace}"; do
  for name in $bench; do
    step "Benchmark: $name"
    OLLIO_BENCH_SITE="$site" leptos_cargo bench --features ssr --bench "$name"
  done
done
