#!/usr/bin/env bash
# Prints Ollio's figures: the sandbox, agent, workspace and editor benchmarks
# (`./scripts/bench.sh`, or name some: `./scripts/bench.sh workspace`). The
# workspace's transfer size is measured on the browser files of the release
# build ./scripts/run.sh serves, served compressed by the app itself.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_build_tools
ensure_service_user
ensure_wasm_tools
# The templates the test script builds, reused (built on first use if not).
export OLLIO_TEMPLATE_CACHE="${OLLIO_TEMPLATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ollio/templates}"
# The agent benchmark's cross-process part runs on a throw-away PostgreSQL.
if [ -z "${OLLIO_TEST_POSTGRES_URL:-}" ]; then
  trap stop_postgres EXIT
  start_postgres
fi

for bench in "${@:-sandbox agent workspace editor}"; do
  for name in $bench; do
    step "Benchmark: $name"
    case "$name" in
      # The daemon's own crate: no web app is built for it.
      sandbox) leptos_cargo bench --package ollio-sandboxd --bench sandbox ;;
      workspace)
        build_site release
        site="target/bench-site"
        rm -rf "$site" && mkdir -p "$site"
        cp -r "$SITE_ROOT/pkg" "$site/pkg"
        OLLIO_BENCH_SITE="$site" leptos_cargo bench --features ssr --bench workspace
        ;;
      # Opening a 5,000-line file in the editor, in Chromium.
      editor)
        build_site release
        ensure_test_tools
        (cd end2end && node bench/editor-open.mjs "$SITE_ROOT/pkg/editor.js")
        ;;
      *) leptos_cargo bench --features ssr --bench "$name" ;;
    esac
  done
done
