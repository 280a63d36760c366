#!/usr/bin/env bash
# Runs Ollio on its embedded defaults at http://127.0.0.1:3000 (SQLite in
# ./data, the bundled sandbox daemon), installing the pinned build tools
# first if they are missing. It serves a release build: the server optimised,
# the browser files as small as the benchmark measures them. Arguments go to
# `ollio serve` (say, --unsafe-no-isolation). For development, ./scripts/dev.sh.
# Settings come from the environment or a .env file; see the README.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

started=$SECONDS
ensure_build_tools
ensure_service_user
choose_data_dir
# On a fresh machine the three builds below take most of the time. Side by
# side they keep both cores busy through each other's slow single steps; the
# server's, the longest, goes first.
logs="$ROOT/target/run-logs"
mkdir -p "$logs"
nice -n 10 bash -c "source scripts/lib.sh && ensure_wasm_tools" >"$logs/wasm-bindgen-cli.log" 2>&1 &
bindgen=$!
nice -n 10 bash -c "source scripts/lib.sh && build_wasm release" >"$logs/wasm.log" 2>&1 &
wasm=$!
step "Building Ollio (release)"
leptos_cargo build --release --features ssr --bin ollio
step "Waiting for the browser's WASM"
wait "$wasm" || { cat "$logs/wasm.log"; die "building the WASM failed"; }
wait "$bindgen" || { cat "$logs/wasm-bindgen-cli.log"; die "installing wasm-bindgen-cli or wasm-split failed"; }
finish_site release
step "Built in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s; starting Ollio"
# The sandbox templates (React's node_modules, the Python venvs) install
# once, in the background, so the app is up at once; a project whose
# template is not ready yet waits for it, and says so.
isolation=()
for arg in "$@"; do [[ "$arg" == "--unsafe-no-isolation" ]] && isolation=("$arg"); done
echo "Preparing the sandbox templates in the background (log: target/run-logs/templates.log)"
nice -n 10 target/release/ollio templates build "${isolation[@]}" >"$logs/templates.log" 2>&1 &
export LEPTOS_SITE_ROOT="$SITE_ROOT" LEPTOS_ENV="PROD"
exec target/release/ollio serve "$@"
