#!/usr/bin/env bash
# Prints Ollio's figures: the sandbox, agent and workspace benchmarks. The
# workspace's transfer size is measured on the browser files of the release
# build scripts/run.sh serves (`cargo leptos build --release`), served
# compressed by the app itself.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_build_tools
ensure_wasm_opt

step "Building the app for release"
leptos_release build
site="target/bench-site"
rm -rf "$site" && mkdir -p "$site"
cp -r target/site/pkg "$site/pkg"

for bench in "${@:-sandbox agent workspace}"; do
  for name in $bench; do
    step "Benchmark: $name"
    OLLIO_BENCH_SITE="$site" leptos_cargo bench --features ssr --bench "$name"
  done
done
